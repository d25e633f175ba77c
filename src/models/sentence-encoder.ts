// Sentence embeddings as sentence-transformers computes them (modules.json: Transformer → Pooling → Normalize), batched, plus an on-disk embedding cache.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arange, cat, tidy, type Tensor } from '../torch/index.js';
import { SafetensorsFile, writeSafetensors } from '../io/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { BertModel, type EncoderBatch } from './bert.js';
import type { ComputeDType } from './llama.js';

// ---------- modules.json ----------

/** What a sentence-transformers folder's modules.json says to run. */
export interface SentenceModules {
  /** Folder of the Transformer module (config.json, weights, sentence_bert_config.json, tokenizer). */
  transformerDir: string;
  /** Folder of the Pooling module (holds config.json). */
  poolingDir: string;
  /** A Normalize module follows pooling (L2 normalisation). */
  normalize: boolean;
}

const MODULE_TYPES = {
  transformer: 'sentence_transformers.models.Transformer',
  pooling: 'sentence_transformers.models.Pooling',
  normalize: 'sentence_transformers.models.Normalize',
};

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new IclitError(`${path} not found (${what})`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new IclitError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads `dir/modules.json`: exactly Transformer, then Pooling, then optionally Normalize. */
export function readSentenceModules(dir: string): SentenceModules {
  const path = join(dir, 'modules.json');
  const raw = readJson(path, `${dir} is not a sentence-transformers folder: it needs modules.json and a Pooling module`);
  if (!Array.isArray(raw)) throw new IclitError(`${path}: expected a JSON list of modules`);
  const entries = [...raw].sort((a, b) => Number((a as { idx?: number })?.idx ?? 0) - Number((b as { idx?: number })?.idx ?? 0));
  const kinds: string[] = [];
  const out: Partial<SentenceModules> = { normalize: false };
  entries.forEach((e, i) => {
    const m = e as { type?: unknown; path?: unknown };
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') throw new IclitError(`${path}: module ${i} has no "type" string`);
    const sub = typeof m.path === 'string' ? m.path : '';
    const kind = Object.entries(MODULE_TYPES).find(([, t]) => t === m.type)?.[0];
    if (!kind) throw new IclitError(`${path}: module type "${m.type}" is not supported (supported: ${Object.values(MODULE_TYPES).join(', ')})`);
    kinds.push(kind);
    if (kind === 'transformer') out.transformerDir = join(dir, sub);
    if (kind === 'pooling') out.poolingDir = join(dir, sub);
    if (kind === 'normalize') out.normalize = true;
  });
  const order = kinds.join(',');
  if (order !== 'transformer,pooling' && order !== 'transformer,pooling,normalize') {
    throw new IclitError(`${path}: modules must be Transformer, Pooling and optionally Normalize in that order, got ${kinds.join(' → ') || 'none'}`);
  }
  return out as SentenceModules;
}

// ---------- pooling ----------

/** The pooling modes of sentence-transformers' Pooling module; enabled modes are concatenated in this order. */
export const POOLING_MODES = ['cls_token', 'max_tokens', 'mean_tokens', 'mean_sqrt_len_tokens', 'weightedmean_tokens', 'lasttoken'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export interface PoolingConfig {
  /** The enabled modes, in POOLING_MODES order (at least one). */
  modes: PoolingMode[];
  /** word_embedding_dimension: the transformer's hidden size. */
  dimension: number;
}

export function parsePoolingConfig(raw: unknown, source: string): PoolingConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new IclitError(`${source}: expected a JSON object`);
  const c = raw as Record<string, unknown>;
  const dim = c.word_embedding_dimension;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim <= 0) throw new IclitError(`${source}: "word_embedding_dimension" must be a positive integer, got ${JSON.stringify(dim)}`);
  for (const [k, v] of Object.entries(c)) {
    if (!k.startsWith('pooling_mode_')) continue;
    if (typeof v !== 'boolean') throw new IclitError(`${source}: "${k}" must be true or false, got ${JSON.stringify(v)}`);
    if (v && !(POOLING_MODES as readonly string[]).includes(k.slice('pooling_mode_'.length))) {
      throw new IclitError(`${source}: "${k}" is not a supported pooling mode (supported: ${POOLING_MODES.map((m) => `pooling_mode_${m}`).join(', ')})`);
    }
  }
  const modes = POOLING_MODES.filter((m) => c[`pooling_mode_${m}`] === true);
  if (modes.length === 0) throw new IclitError(`${source}: no pooling_mode_* flag is true`);
  return { modes, dimension: dim };
}

export function readPoolingConfig(poolingDir: string): PoolingConfig {
  const path = join(poolingDir, 'config.json');
  return parsePoolingConfig(readJson(path, 'the Pooling module listed in modules.json needs its config.json'), path);
}

/**
 * sentence-transformers pooling of token embeddings [B, T, C] under a 0/1 float mask [B, T] → [B, C × modes]:
 * CLS = position 0; max over real tokens (padding set to -1e9 first); mean = Σ mask·x / max(Σ mask, 1e-9);
 * mean_sqrt_len = Σ mask·x / √Σ mask; weightedmean weights position t by t+1; lasttoken = the last real token.
 */
export function pool(tokens: Tensor, mask: Tensor, modes: readonly PoolingMode[]): Tensor {
  return tidy(() => {
    const [B, T, C] = tokens.shape;
    const m = mask.to(tokens.dtype).unsqueeze(-1); // [B, T, 1]
    const parts: Tensor[] = [];
    const sum = tokens.mul(m).sum(1); // [B, C]
    const count = m.sum(1).clamp(1e-9); // [B, 1]
    for (const mode of modes) {
      if (mode === 'cls_token') parts.push(tokens.select(1, 0)); // [B, C]
      if (mode === 'max_tokens') parts.push(tokens.maskedFill(m.eq(0), -1e9).amax(1)); // [B, C]
      if (mode === 'mean_tokens') parts.push(sum.div(count)); // [B, C]
      if (mode === 'mean_sqrt_len_tokens') parts.push(sum.div(count.sqrt())); // [B, C]
      if (mode === 'weightedmean_tokens') {
        const w = arange(1, T + 1, 1, 'float32').to(tokens.dtype).reshape([1, T, 1]).mul(m); // [B, T, 1]
        parts.push(tokens.mul(w).sum(1).div(w.sum(1).clamp(1e-9))); // [B, C]
      }
      if (mode === 'lasttoken') {
        const last = arange(0, T, 1, 'float32').reshape([1, T]).mul(mask).argmax(1); // [B]
        parts.push(tokens.gather(1, last.reshape([B, 1, 1]).expand([B, 1, C])).squeeze(1)); // [B, C]
      }
    }
    return parts.length === 1 ? parts[0] : cat(parts, 1); // [B, C × modes]
  });
}

/** Rows divided by their L2 norm (at least 1e-12), as torch.nn.functional.normalize. */
export function l2Normalize(x: Tensor): Tensor {
  return tidy(() => x.div(x.square().sum(-1, true).sqrt().clamp(1e-12))); // [B, D]
}

// ---------- the encoder ----------

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

// ---------- the embedding cache ----------

/** Anything that embeds texts and can name itself by what decides its output. */
export interface TextEmbedder {
  readonly fingerprint: string;
  embed(texts: readonly string[]): Float32Array[];
}

/** The cache key of one text under one encoder: sha256(fingerprint + NUL + text), hex. */
export function embeddingKey(fingerprint: string, text: string): string {
  return createHash('sha256').update(fingerprint).update('\0').update(text, 'utf8').digest('hex');
}

/**
 * Embeddings on disk so that a study embeds each sentence once: `dir/<fingerprint[0:16]>/<set hash>.safetensors`
 * each holds `keys` (uint8 [n, 32], the sha256 keys) and `embeddings` (float32 [n, D]) for one batch of new texts.
 * Files are written atomically (temp name, then rename) and read back lazily; other processes' files are picked up.
 */
export class EmbeddingCache {
  readonly #known = new Map<string, Map<string, Float32Array>>();
  readonly #loadedFiles = new Set<string>();
  /** Texts served from the cache / embedded by the encoder, over this object's life. */
  hits = 0;
  misses = 0;

  constructor(readonly dir: string) {}

  /** The default place: `<resultsDir>/.iclit-cache/embeddings`. */
  static inResults(resultsDir: string): EmbeddingCache {
    return new EmbeddingCache(join(resultsDir, '.iclit-cache', 'embeddings'));
  }

  #folder(fingerprint: string): string {
    if (!/^[0-9a-f]{16,}$/.test(fingerprint)) throw new IclitError(`encoder fingerprint must be a hex digest, got ${JSON.stringify(fingerprint)}`);
    return join(this.dir, fingerprint.slice(0, 16));
  }

  #load(fingerprint: string): Map<string, Float32Array> {
    let known = this.#known.get(fingerprint);
    if (!known) this.#known.set(fingerprint, (known = new Map()));
    const folder = this.#folder(fingerprint);
    if (!existsSync(folder)) return known;
    for (const f of readdirSync(folder).filter((n) => n.endsWith('.safetensors')).sort()) {
      const path = join(folder, f);
      if (this.#loadedFiles.has(path)) continue;
      this.#loadedFiles.add(path);
      const file = SafetensorsFile.open(path);
      try {
        if (file.header.metadata.fingerprint !== fingerprint) continue;
        const keys = file.info('keys');
        const emb = file.info('embeddings');
        if (!keys || !emb || keys.dtype !== 'uint8' || emb.dtype !== 'float32' || keys.shape[0] !== emb.shape[0] || keys.shape[1] !== 32) {
          throw new IclitError(`${path} is not an iclit embedding cache file (delete it to rebuild)`);
        }
        const [kb, eb] = tidy(() => [file.tensor('keys').toBuffer(), file.tensor('embeddings').toFloat32Array()] as const);
        const D = emb.shape[1];
        for (let i = 0; i < keys.shape[0]; i++) known.set(kb.subarray(i * 32, (i + 1) * 32).toString('hex'), eb.slice(i * D, (i + 1) * D));
      } finally {
        file.close();
      }
    }
    return known;
  }

  /** Embeddings of `texts` in order: cached ones read back, the rest embedded once (duplicates included) and stored. */
  embed(encoder: TextEmbedder, texts: readonly string[]): Float32Array[] {
    const fp = encoder.fingerprint;
    const keys = texts.map((t) => embeddingKey(fp, t));
    let known = this.#known.get(fp) ?? this.#load(fp);
    if (keys.some((k) => !known.has(k))) known = this.#load(fp); // another process may have written them
    const missing = new Map<string, string>();
    keys.forEach((k, i) => {
      if (!known.has(k)) missing.set(k, texts[i]);
    });
    this.hits += keys.filter((k) => !missing.has(k)).length;
    if (missing.size > 0) {
      const newKeys = [...missing.keys()];
      const vectors = encoder.embed([...missing.values()]);
      if (vectors.length !== newKeys.length) throw new IclitError(`the encoder returned ${vectors.length} embeddings for ${newKeys.length} texts`);
      this.misses += newKeys.length;
      const D = vectors[0].length;
      const flat = new Float32Array(newKeys.length * D);
      vectors.forEach((v, i) => {
        if (v.length !== D) throw new IclitError(`the encoder returned embeddings of lengths ${D} and ${v.length}`);
        flat.set(v, i * D);
        known.set(newKeys[i], v);
      });
      const keyBytes = Buffer.concat(newKeys.map((k) => Buffer.from(k, 'hex')));
      const folder = this.#folder(fp);
      mkdirSync(folder, { recursive: true });
      const setHash = createHash('sha256').update(keyBytes).digest('hex');
      const path = join(folder, `${setHash}.safetensors`);
      const tmp = `${path}.${process.pid}.tmp`;
      writeSafetensors(
        tmp,
        { keys: { dtype: 'uint8', shape: [newKeys.length, 32], data: keyBytes }, embeddings: { dtype: 'float32', shape: [newKeys.length, D], data: flat } },
        { fingerprint: fp, count: String(newKeys.length), dimension: String(D) },
      );
      renameSync(tmp, path);
      this.#loadedFiles.add(path);
    }
    return keys.map((k) => known.get(k)!);
  }
}

// ---------- writing the module files ----------

export interface SentenceModulesSpec {
  /** Pooling modes to enable (default: mean). */
  modes?: readonly PoolingMode[];
  /** Add a Normalize module (default true, as all-MiniLM-L6-v2). */
  normalize?: boolean;
  /** Written to sentence_bert_config.json when given. */
  maxSeqLength?: number;
  doLowerCase?: boolean;
}

/** Writes modules.json, 1_Pooling/config.json (and sentence_bert_config.json) beside a BERT folder of hidden size `dimension`. */
export function writeSentenceModules(dir: string, dimension: number, spec: SentenceModulesSpec = {}): string {
  const modes = spec.modes ?? ['mean_tokens'];
  const normalize = spec.normalize ?? true;
  const modules = [
    { idx: 0, name: '0', path: '', type: MODULE_TYPES.transformer },
    { idx: 1, name: '1', path: '1_Pooling', type: MODULE_TYPES.pooling },
    ...(normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: MODULE_TYPES.normalize }] : []),
  ];
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules, null, 2));
  const pooling: Record<string, unknown> = { word_embedding_dimension: dimension };
  for (const m of POOLING_MODES) pooling[`pooling_mode_${m}`] = modes.includes(m);
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify(pooling, null, 2));
  if (spec.maxSeqLength !== undefined || spec.doLowerCase !== undefined) {
    writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: spec.maxSeqLength, do_lower_case: spec.doLowerCase ?? false }, null, 2));
  }
  return dir;
}
