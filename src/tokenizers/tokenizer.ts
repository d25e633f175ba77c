// A Hugging Face tokenizer folder (tokenizer.json + tokenizer_config.json) behind one small class: ids in, text out, BOS/EOS/PAD.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { IclitError } from '../util/errors.js';
import { readJsonObject } from '../util/json-file.js';

/** The parsed JSON files of a tokenizer folder; only `tokenizerJson` is required. */
export interface TokenizerFiles {
  /** Contents of `tokenizer.json`. */
  tokenizerJson: Record<string, unknown>;
  /** Contents of `tokenizer_config.json`, if present. */
  tokenizerConfig?: Record<string, unknown>;
  /** Contents of `special_tokens_map.json`, if present. */
  specialTokensMap?: Record<string, unknown>;
  /** Contents of the model's `config.json`, if present: a last resort for bos/eos/pad ids. */
  modelConfig?: Record<string, unknown>;
}

export interface EncodeOptions {
  /** Prepend BOS. Default: `add_bos_token` of tokenizer_config.json, else whatever tokenizer.json's post-processor does. */
  addBos?: boolean;
  /** Append EOS. Default: `add_eos_token` of tokenizer_config.json, else whatever tokenizer.json's post-processor does. */
  addEos?: boolean;
  /** Apply tokenizer.json's post-processor template (e.g. BERT's [CLS] … [SEP]); default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (<s>, [CLS], [PAD], ...) from the text; default false (as Hugging Face). */
  skipSpecialTokens?: boolean;
}

export interface EncodeBatchOptions extends EncodeOptions {
  /** Truncate each sequence (special tokens included) to this many ids; default `modelMaxLength`. */
  maxLength?: number;
  /** Pad every row to the longest row of the batch; default true. */
  padding?: boolean;
  /** Which side the padding goes; default 'right'. */
  paddingSide?: 'left' | 'right';
  /** Padding id for tokenizers without a pad token (LLaMA-2 has none); default `padId`. */
  padId?: number;
}

/** A padded batch: rows of ids and 1/0 masks of the same shape. */
export interface EncodedBatch {
  inputIds: number[][];
  attentionMask: number[][];
}

/** `model_max_length` values above this are Hugging Face's "no limit" sentinel (1e30). */
const NO_LIMIT = 1e9;

/** A JSON object file of the tokenizer folder (readJsonObject); a missing optional one is undefined. */
function readFolderJson(path: string, required: boolean): Record<string, unknown> | undefined {
  if (!existsSync(path)) {
    if (required) throw new IclitError(`${path}: file not found (a tokenizer folder needs tokenizer.json)`);
    return undefined;
  }
  return readJsonObject(path);
}

/** The content of a special-token entry: a plain string or an AddedToken object `{content: ...}`; null/absent → undefined. */
function tokenContent(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new IclitError(`${where}: expected a token string or an AddedToken object with "content", got ${JSON.stringify(value)}`);
}

function optionalBoolean(obj: Record<string, unknown> | undefined, key: string, where: string): boolean | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new IclitError(`${where}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Index where `needle` occurs inside `hay` as a contiguous run, or -1. */
function indexOfRun(hay: readonly number[], needle: readonly number[]): number {
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (needle.every((x, j) => hay[i + j] === x)) return i;
  }
  return -1;
}

/** A loaded tokenizer: encode/decode text, special ids, batches for encoders. */
export class Tokenizer {
  /** Size of the id space (largest id + 1, added tokens included): the embedding rows a model needs. */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly unkId: number | undefined;
  /** `model_max_length` from tokenizer_config.json; undefined when absent or Hugging Face's "no limit". */
  readonly modelMaxLength: number | undefined;
  /** Ids the post-processor puts before / after the text (LLaMA: [<s>] / []; BERT: [CLS] / [SEP]). */
  readonly templatePrefix: readonly number[];
  readonly templateSuffix: readonly number[];
  /** Default of `encode`'s addBos / addEos. */
  readonly addBosByDefault: boolean;
  readonly addEosByDefault: boolean;

  private constructor(
    private readonly hf: HfTokenizer,
    /** Where the tokenizer came from (a folder, or a label); used in error messages. */
    readonly source: string,
    files: TokenizerFiles,
  ) {
    const where = (file: string) => (source.startsWith('<') ? `${source} ${file}` : join(source, file));
    const cfg = files.tokenizerConfig;
    const map = files.specialTokensMap;

    let maxId = -1;
    for (const id of hf.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    // tokenizer_config.json first, then special_tokens_map.json, then config.json's *_token_id.
    const resolve = (role: 'bos' | 'eos' | 'pad' | 'unk'): number | undefined => {
      const key = `${role}_token`;
      for (const [obj, file] of [[cfg, 'tokenizer_config.json'], [map, 'special_tokens_map.json']] as const) {
        if (!obj || !(key in obj)) continue;
        const content = tokenContent(obj[key], `${where(file)} "${key}"`);
        if (content === undefined) return undefined; // explicitly null: the tokenizer has none
        const id = hf.token_to_id(content);
        if (id === undefined) throw new IclitError(`${where(file)}: "${key}" is ${JSON.stringify(content)}, which is not in tokenizer.json's vocabulary`);
        return id;
      }
      // Some configs list several EOS ids (LLaMA-3: [128001, 128009]); the first is the canonical one.
      const raw = files.modelConfig?.[`${role}_token_id`];
      const id = Array.isArray(raw) ? raw[0] : raw;
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < this.vocabSize) return id;
      return undefined;
    };
    this.bosId = resolve('bos');
    this.eosId = resolve('eos');
    this.padId = resolve('pad');
    this.unkId = resolve('unk');

    const mml = cfg?.model_max_length;
    if (mml !== undefined && mml !== null && (typeof mml !== 'number' || !(mml > 0))) {
      throw new IclitError(`${where('tokenizer_config.json')}: "model_max_length" must be a positive number, got ${JSON.stringify(mml)}`);
    }
    this.modelMaxLength = typeof mml === 'number' && mml < NO_LIMIT ? Math.floor(mml) : undefined;

    // The post-processor's template is fixed per tokenizer: find it once by encoding a probe with and without it.
    let prefix: number[] = [];
    let suffix: number[] = [];
    for (const probe of ['a', 'hello', '0', '.']) {
      const raw = hf.encode(probe, { add_special_tokens: false }).ids;
      if (raw.length === 0) continue;
      const full = hf.encode(probe, { add_special_tokens: true }).ids;
      const at = indexOfRun(full, raw);
      if (at < 0) continue;
      prefix = full.slice(0, at);
      suffix = full.slice(at + raw.length);
      break;
    }
    this.templatePrefix = prefix;
    this.templateSuffix = suffix;
    const templateAddsBos = this.bosId !== undefined && prefix[0] === this.bosId;
    const templateAddsEos = this.eosId !== undefined && suffix.length > 0 && suffix[suffix.length - 1] === this.eosId;
    this.addBosByDefault = optionalBoolean(cfg, 'add_bos_token', where('tokenizer_config.json')) ?? templateAddsBos;
    this.addEosByDefault = optionalBoolean(cfg, 'add_eos_token', where('tokenizer_config.json')) ?? templateAddsEos;
  }

  /** Loads a Hugging Face tokenizer folder: tokenizer.json (required), tokenizer_config.json, special_tokens_map.json, config.json. */
  static async load(dir: string): Promise<Tokenizer> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new IclitError(`${dir}: tokenizer folder not found`);
    const files: TokenizerFiles = {
      tokenizerJson: readFolderJson(join(dir, 'tokenizer.json'), true)!,
      tokenizerConfig: readFolderJson(join(dir, 'tokenizer_config.json'), false),
      specialTokensMap: readFolderJson(join(dir, 'special_tokens_map.json'), false),
      modelConfig: readFolderJson(join(dir, 'config.json'), false),
    };
    return Tokenizer.fromFiles(files, dir);
  }

  /** Builds a tokenizer from already-parsed files; `source` names them in errors (a folder, or e.g. '<trained>'). */
  static fromFiles(files: TokenizerFiles, source = '<memory>'): Tokenizer {
    const file = source.startsWith('<') ? `${source} tokenizer.json` : join(source, 'tokenizer.json');
    const tj = files.tokenizerJson;
    if (typeof tj.model !== 'object' || tj.model === null) throw new IclitError(`${file}: missing "model" object`);
    // The library falls back silently on a type it does not know (every later message would mislead): name it here.
    const type = (tj.model as { type?: unknown }).type;
    if (type !== undefined && !['BPE', 'WordPiece', 'Unigram', 'WordLevel'].includes(type as string)) {
      throw new IclitError(`${file}: "model.type" is ${JSON.stringify(type)}; supported are BPE, WordPiece, Unigram and WordLevel`);
    }
    if (tj.added_tokens !== undefined && !Array.isArray(tj.added_tokens)) throw new IclitError(`${file}: "added_tokens" must be a list`);
    // The library wants every component key present (null when unused).
    const json: Record<string, unknown> = { added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...tj };
    // Hugging Face's library default for clean_up_tokenization_spaces used to be true, which breaks round trips
    // ("it 's" → "it's"); without an explicit setting we keep decoded text as the tokens say.
    const config: Record<string, unknown> = { clean_up_tokenization_spaces: false, ...(files.tokenizerConfig ?? {}) };
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(json, config);
    } catch (e) {
      throw new IclitError(`${file}: cannot build the tokenizer (${(e as Error).message})`);
    }
    return new Tokenizer(hf, source, files);
  }

  /** Text → ids. BOS/EOS follow tokenizer_config.json unless overridden; never added twice. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecialTokens ?? true;
    const prefix = addSpecial ? [...this.templatePrefix] : [];
    const suffix = addSpecial ? [...this.templateSuffix] : [];
    const wantBos = options.addBos ?? (addSpecial && this.addBosByDefault);
    const wantEos = options.addEos ?? (addSpecial && this.addEosByDefault);
    if (prefix.length > 0 && prefix[0] === this.bosId && !wantBos) prefix.shift();
    if (wantBos && prefix[0] !== this.bosId) prefix.unshift(this.requireId(this.bosId, 'BOS'));
    if (suffix.length > 0 && suffix[suffix.length - 1] === this.eosId && !wantEos) suffix.pop();
    if (wantEos && suffix[suffix.length - 1] !== this.eosId) suffix.push(this.requireId(this.eosId, 'EOS'));
    return [...prefix, ...this.encodeRaw(text), ...suffix];
  }

  /** The token strings of `text`, without special tokens (for inspection and tests). */
  tokenize(text: string): string[] {
    return this.hf.encode(text, { add_special_tokens: false }).tokens;
  }

  /** Ids → text. Throws IclitError for ids outside the vocabulary. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.hf.id_to_token(id) === undefined) {
        throw new IclitError(`token id ${id} is not in the vocabulary of the tokenizer from ${this.source} (size ${this.vocabSize})`);
      }
    }
    return this.hf.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** A token string's id, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** An id's token string, or undefined when the id is not in the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /**
   * Several texts → rows of ids with the post-processor's special tokens (BERT: [CLS] … [SEP]), each truncated to
   * `maxLength` ids (special tokens kept), padded to the longest row with the pad id; mask 1 for real ids.
   */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): EncodedBatch {
    const maxLength = options.maxLength ?? this.modelMaxLength;
    if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
      throw new IclitError(`maxLength must be a positive integer, got ${maxLength}`);
    }
    const rows = texts.map((text) => {
      const full = this.encode(text, options);
      if (maxLength === undefined || full.length <= maxLength) return full;
      // Cut the text's ids, not the special tokens around them (as Hugging Face does).
      const ids = this.encode(text, { ...options, addSpecialTokens: false, addBos: false, addEos: false });
      const specials = full.length - ids.length;
      if (specials >= maxLength) {
        throw new IclitError(`maxLength ${maxLength} leaves no room for text beside ${specials} special tokens`);
      }
      const start = indexOfRun(full, ids);
      return [...full.slice(0, start), ...ids.slice(0, maxLength - specials), ...full.slice(start + ids.length)];
    });
    const masks = rows.map((r) => r.map(() => 1));
    if (options.padding ?? true) {
      const longest = Math.max(0, ...rows.map((r) => r.length));
      const needsPad = rows.some((r) => r.length < longest);
      const pad = needsPad ? this.requireId(options.padId ?? this.padId, 'PAD', ' (pass padId to pad anyway)') : 0;
      const left = options.paddingSide === 'left';
      for (let i = 0; i < rows.length; i++) {
        const n = longest - rows[i].length;
        if (n === 0) continue;
        const padIds = new Array<number>(n).fill(pad);
        const zeros = new Array<number>(n).fill(0);
        rows[i] = left ? [...padIds, ...rows[i]] : [...rows[i], ...padIds];
        masks[i] = left ? [...zeros, ...masks[i]] : [...masks[i], ...zeros];
      }
    }
    return { inputIds: rows, attentionMask: masks };
  }

  private encodeRaw(text: string): number[] {
    if (typeof text !== 'string') throw new IclitError(`cannot tokenize ${typeof text}: expected a string`);
    const enc = this.hf.encode(text, { add_special_tokens: false });
    // Without an unk token the library yields undefined for pieces missing from the vocabulary.
    const bad = enc.ids.findIndex((id: number | undefined) => typeof id !== 'number');
    if (bad >= 0) throw new IclitError(`piece ${JSON.stringify(enc.tokens[bad])} of ${JSON.stringify(text.slice(0, 60))} is not in the vocabulary of ${this.source} and it has no unk token`);
    return enc.ids;
  }

  private requireId(id: number | undefined, role: string, hint = ''): number {
    if (id === undefined) throw new IclitError(`the tokenizer from ${this.source} has no ${role} token${hint}`);
    return id;
  }
}
