// Sentence embeddings as sentence-transformers computes them (modules.json: Transformer → Pooling → Normalize), batched, with a fingerprint of what decides them.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tidy, type Tensor } from '../torch/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { BertModel, type EncoderBatch } from './bert.js';
import type { ComputeDType } from './llama.js';
import { l2Normalize, pool, readPoolingConfig, type PoolingConfig } from './pooling.js';
import { readJson, readSentenceModules, type SentenceModules } from './sentence-modules.js';

/** Anything that embeds texts and can name itself by what decides its output. */
export interface TextEmbedder {
  readonly fingerprint: string;
  embed(texts: readonly string[]): Float32Array[];
}

export interface SentenceEncoderOptions {
  /** Tokenizer folder (default: the Transformer module's folder; without tokenizer.json only ids can be embedded). */
  tokenizerDir?: string;
  /** Sequences per forward pass (default 32, as sentence-transformers). */
  batchSize?: number;
  dtype?: ComputeDType;
  /** 'cpu' (default) or 'cuda:N' for the BERT forward; embeddings come back to the host. */
  device?: string;
}

/** Token ids with optional masks; rows may be padded (trailing masked positions are dropped and re-padded per batch). */
export type IdsInput = { inputIds: number[][]; attentionMask?: number[][] };

/** Hashes files (absent ones as a marker) into a hex sha256; big files are streamed. */
function hashFiles(paths: string[], extra: string): string {
  const h = createHash('sha256');
  h.update(extra);
  const buf = Buffer.alloc(1 << 22);
  // Files are told apart by their position in `paths`, not their folder: a moved or copied encoder keeps its fingerprint.
  for (const [i, p] of paths.entries()) {
    h.update(`\0file ${i}\0`);
    if (!existsSync(p)) {
      h.update('<absent>');
      continue;
    }
    const fd = openSync(p, 'r');
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

/** A sentence-transformers BERT model: texts or ids → pooled (and normalised) embeddings. */
export class SentenceEncoder {
  readonly modules: SentenceModules;
  readonly pooling: PoolingConfig;
  /** Sequences are truncated to this many tokens (special tokens included). */
  readonly maxSeqLength: number;
  /** sentence_bert_config.json's do_lower_case: texts are lower-cased before tokenising. */
  readonly doLowerCase: boolean;
  readonly batchSize: number;
  /** Forward passes run so far (tests use it to see whether the model ran). */
  forwardCalls = 0;
  readonly #tokenizerDir: string | undefined;
  #fingerprint: string | undefined;

  private constructor(
    readonly dir: string,
    readonly model: BertModel,
    readonly tokenizer: Tokenizer | undefined,
    tokenizerDir: string | undefined,
    modules: SentenceModules,
    pooling: PoolingConfig,
    sbert: { maxSeqLength?: number; doLowerCase: boolean },
    batchSize: number,
  ) {
    this.#tokenizerDir = tokenizerDir;
    this.modules = modules;
    this.pooling = pooling;
    const c = model.config;
    this.maxSeqLength = Math.min(sbert.maxSeqLength ?? tokenizer?.modelMaxLength ?? c.maxPositionEmbeddings, c.maxPositionEmbeddings);
    this.doLowerCase = sbert.doLowerCase;
    this.batchSize = batchSize;
  }

  /** Loads a sentence-transformers folder (modules.json, the BERT in the Transformer module, Pooling config, tokenizer if present). */
  static async load(dir: string, opts: SentenceEncoderOptions = {}): Promise<SentenceEncoder> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new IclitError(`encoder folder ${dir} does not exist`);
    const batchSize = opts.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new IclitError(`batch size must be a positive integer, got ${batchSize}`);
    const modules = readSentenceModules(dir);
    const pooling = readPoolingConfig(modules.poolingDir);
    const sbertPath = join(modules.transformerDir, 'sentence_bert_config.json');
    const sbert: { maxSeqLength?: number; doLowerCase: boolean } = { doLowerCase: false };
    if (existsSync(sbertPath)) {
      const raw = readJson(sbertPath, '') as Record<string, unknown>;
      const msl = raw?.max_seq_length;
      if (msl != null && (typeof msl !== 'number' || !Number.isInteger(msl) || msl < 2)) throw new IclitError(`${sbertPath}: "max_seq_length" must be an integer ≥ 2, got ${JSON.stringify(msl)}`);
      if (typeof msl === 'number') sbert.maxSeqLength = msl;
      sbert.doLowerCase = raw?.do_lower_case === true;
    }
    const tokDir = opts.tokenizerDir ?? modules.transformerDir;
    if (opts.tokenizerDir && !existsSync(join(tokDir, 'tokenizer.json'))) throw new IclitError(`${tokDir} has no tokenizer.json`);
    const tokenizer = existsSync(join(tokDir, 'tokenizer.json')) ? await Tokenizer.load(tokDir) : undefined;
    const model = BertModel.load(modules.transformerDir, { dtype: opts.dtype, device: opts.device });
    if (pooling.dimension !== model.config.hiddenSize) {
      model.dispose();
      throw new IclitError(`${join(modules.poolingDir, 'config.json')}: word_embedding_dimension ${pooling.dimension} differs from the encoder's hidden_size ${model.config.hiddenSize}`);
    }
    if (tokenizer && tokenizer.vocabSize > model.config.vocabSize) {
      model.dispose();
      throw new IclitError(`the tokenizer in ${tokDir} has ${tokenizer.vocabSize} ids but the encoder's vocab_size is ${model.config.vocabSize}`);
    }
    return new SentenceEncoder(dir, model, tokenizer, tokenizer ? tokDir : undefined, modules, pooling, sbert, batchSize);
  }

  /** Length of each embedding: hidden size × pooling modes. */
  get dimension(): number {
    return this.model.config.hiddenSize * this.pooling.modes.length;
  }

  /**
   * sha256 of everything that decides an embedding: config, weights, modules, pooling, sentence_bert_config,
   * tokenizer files, and the compute dtype. Computed once (it reads the weights).
   */
  get fingerprint(): string {
    if (this.#fingerprint === undefined) {
      const t = this.modules.transformerDir;
      const weights = existsSync(join(t, 'model.safetensors.index.json'))
        ? [join(t, 'model.safetensors.index.json'), ...readdirSync(t).filter((f) => /^model-.*\.safetensors$/.test(f)).sort().map((f) => join(t, f))]
        : [join(t, 'model.safetensors')];
      const tok = this.#tokenizerDir;
      const tokFiles = tok ? ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'].map((f) => join(tok, f)) : [];
      this.#fingerprint = hashFiles(
        [join(t, 'config.json'), ...weights, join(this.dir, 'modules.json'), join(this.modules.poolingDir, 'config.json'), join(t, 'sentence_bert_config.json'), ...tokFiles],
        `iclit-sentence-encoder-v1 ${this.model.dtype} tokenizer:${tok ? 'yes' : 'no'}`,
      );
    }
    return this.#fingerprint;
  }

  /** Texts → token ids (unpadded rows), truncated to maxSeqLength with [CLS] … [SEP] kept. */
  tokenize(texts: readonly string[]): number[][] {
    if (!this.tokenizer) throw new IclitError(`${this.modules.transformerDir} has no tokenizer.json: pass token ids instead of texts (or a tokenizer folder)`);
    const input = this.doLowerCase ? texts.map((t) => t.toLowerCase()) : texts;
    const rows = this.tokenizer.encodeBatch(input, { maxLength: this.maxSeqLength, padding: false }).inputIds;
    const empty = rows.findIndex((r) => r.length === 0);
    if (empty >= 0) throw new IclitError(`text ${empty} (${JSON.stringify(texts[empty].slice(0, 40))}) gives no tokens with the tokenizer of ${this.tokenizer.source}`);
    return rows;
  }

  /** One padded batch → pooled (normalised) embeddings [B, D] float32. */
  embedBatch(batch: EncoderBatch): Tensor {
    this.forwardCalls++;
    return tidy(() => {
      const { lastHiddenState, mask } = this.model.encode(batch); // [B, T, C], [B, T]
      const pooled = pool(lastHiddenState, mask, this.pooling.modes); // [B, D]
      return this.modules.normalize ? l2Normalize(pooled) : pooled; // [B, D]
    });
  }

  /**
   * Embeddings of texts, or of token ids with masks, one Float32Array per input in input order. Inputs are
   * sorted by length and run `batchSize` at a time, each batch right-padded to its longest row.
   */
  embed(input: readonly string[] | IdsInput): Float32Array[] {
    const rows = Array.isArray(input) ? this.tokenize(input as readonly string[]).map((ids) => ({ ids, mask: ids.map(() => 1) })) : idsRows(input as IdsInput);
    if (rows.length === 0) return [];
    const order = rows.map((_, i) => i).sort((a, b) => rows[b].ids.length - rows[a].ids.length);
    const pad = this.model.config.padTokenId ?? this.tokenizer?.padId ?? 0;
    const out = new Array<Float32Array>(rows.length);
    const D = this.dimension;
    for (let s = 0; s < order.length; s += this.batchSize) {
      const idx = order.slice(s, s + this.batchSize);
      const T = rows[idx[0]].ids.length;
      const batch: EncoderBatch = {
        inputIds: idx.map((i) => [...rows[i].ids, ...new Array<number>(T - rows[i].ids.length).fill(pad)]),
        attentionMask: idx.map((i) => [...rows[i].mask, ...new Array<number>(T - rows[i].mask.length).fill(0)]),
      };
      const flat = tidy(() => {
        const e = this.embedBatch(batch);
        return e.toFloat32Array();
      });
      idx.forEach((i, b) => (out[i] = flat.slice(b * D, (b + 1) * D)));
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Validates ids input and drops each row's trailing masked positions (they change nothing for the real tokens). */
function idsRows(input: IdsInput): { ids: number[]; mask: number[] }[] {
  const { inputIds, attentionMask } = input ?? ({} as IdsInput);
  if (!Array.isArray(inputIds)) throw new IclitError('input_ids must be a list of rows of token ids');
  if (attentionMask !== undefined && (!Array.isArray(attentionMask) || attentionMask.length !== inputIds.length)) {
    throw new IclitError(`attention_mask must have one row per input_ids row (${inputIds.length})`);
  }
  return inputIds.map((ids, b) => {
    if (!Array.isArray(ids) || ids.length === 0) throw new IclitError(`input_ids row ${b} is empty or not a list`);
    const mask = attentionMask ? attentionMask[b] : ids.map(() => 1);
    if (!Array.isArray(mask) || mask.length !== ids.length) {
      throw new IclitError(`attention_mask row ${b} has ${Array.isArray(mask) ? mask.length : 'no'} entries but input_ids row ${b} has ${ids.length}`);
    }
    let n = mask.length;
    while (n > 0 && mask[n - 1] === 0) n--;
    if (n === 0) throw new IclitError(`attention_mask row ${b} masks every token`);
    return { ids: ids.slice(0, n), mask: mask.slice(0, n) };
  });
}

