// Training a byte-level BPE tokenizer (GPT-2 / SmolLM2 style) into standard tokenizer.json + tokenizer_config.json objects.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';

export interface BpeTrainOptions {
  /** Total vocabulary size: special tokens + 256 byte symbols + merges. */
  vocabSize: number;
  /** Added at ids 0, 1, ... in this order; default ['<unk>', '<s>', '</s>', '<pad>']. */
  specialTokens?: string[];
  /** A pair seen fewer times than this is never merged; default 2. */
  minFrequency?: number;
  /** Written as tokenizer_config.json's `model_max_length` when given. */
  modelMaxLength?: number;
}

/** A trained tokenizer: the two JSON objects of a Hugging Face tokenizer folder. */
export interface TrainedBpe {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** GPT-2's pre-tokenisation pattern, as Hugging Face's ByteLevel pre-tokenizer (use_regex: true) applies it. */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte → printable character map (bytes_to_unicode): printable Latin-1 bytes map to themselves. */
export function byteToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const out = new Array<string>(256);
  const kept = new Set(keep);
  for (const b of keep) out[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!kept.has(b)) out[b] = String.fromCodePoint(256 + n++);
  }
  return out;
}

/** A max-heap of candidate merges: highest count first, ties to the smaller (left id, right id) pair. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly lefts: number[] = [];
  private readonly rights: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(i: number, j: number): boolean {
    const c = this.counts;
    if (c[i] !== c[j]) return c[i] > c[j];
    if (this.lefts[i] !== this.lefts[j]) return this.lefts[i] < this.lefts[j];
    return this.rights[i] < this.rights[j];
  }

  private swap(i: number, j: number): void {
    for (const a of [this.counts, this.lefts, this.rights]) [a[i], a[j]] = [a[j], a[i]];
  }

  push(count: number, left: number, right: number): void {
    this.counts.push(count);
    this.lefts.push(left);
    this.rights.push(right);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [count: number, left: number, right: number] {
    const top: [number, number, number] = [this.counts[0], this.lefts[0], this.rights[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.lefts.pop();
    this.rights.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.before(l, m)) m = l;
      if (r < last && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/** Pair (left id, right id) → one number key; ids stay far below 2^21. */
const PAIR_BASE = 1 << 21;
const pairKey = (a: number, b: number): number => a * PAIR_BASE + b;

/**
 * Trains byte-level BPE on `texts`: GPT-2 pre-tokenisation, 256 byte symbols, then the most frequent adjacent pair is
 * merged until `vocabSize` is reached or no pair occurs `minFrequency` times. Deterministic: ties go to the pair
 * whose (left, right) ids are smallest. Pair counts are updated incrementally, only in words containing the merged pair.
 */
export function trainByteLevelBpe(texts: readonly string[], options: BpeTrainOptions): TrainedBpe {
  const specials = options.specialTokens ?? ['<unk>', '<s>', '</s>', '<pad>'];
  const minFrequency = options.minFrequency ?? 2;
  const { vocabSize } = options;
  if (new Set(specials).size !== specials.length) throw new IclitError(`specialTokens has duplicates: ${JSON.stringify(specials)}`);
  if (!Number.isInteger(vocabSize) || vocabSize < specials.length + 256 || vocabSize >= PAIR_BASE) {
    throw new IclitError(`vocabSize ${vocabSize} must be an integer from ${specials.length + 256} (special tokens + 256 bytes) to ${PAIR_BASE - 1}`);
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new IclitError(`minFrequency must be a positive integer, got ${minFrequency}`);

  // Symbols: special tokens, then the 256 bytes in byte order, then one per merge.
  const byteChars = byteToUnicode();
  const symbols: string[] = [...specials, ...byteChars];
  const byteBase = specials.length;
  const specialSet = new Set(specials);
  for (const ch of byteChars) {
    if (specialSet.has(ch)) throw new IclitError(`special token ${JSON.stringify(ch)} collides with a byte symbol`);
  }
  const symbolIds = new Map(symbols.map((s, i) => [s, i]));

  // Unique pre-tokenised words with their counts.
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    if (typeof text !== 'string') throw new IclitError(`training texts must be strings, got ${typeof text}`);
    for (const m of text.matchAll(GPT2_PATTERN)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
  }
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const freqs: number[] = [];
  // Sorted so that word indices (and hence everything after) do not depend on Map insertion details.
  for (const w of [...wordCounts.keys()].sort()) {
    words.push(Array.from(encoder.encode(w), (b) => byteBase + b));
    freqs.push(wordCounts.get(w)!);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>) => {
    const s = words[w];
    const f = freqs[w] * sign;
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i], s[i + 1]);
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + f);
      touched.add(k);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (!set) pairWords.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  const heap = new PairHeap();
  for (const k of initial) heap.push(pairCounts.get(k)!, Math.floor(k / PAIR_BASE), k % PAIR_BASE);

  const merges: string[] = [];
  while (symbols.length < vocabSize && heap.size > 0) {
    const [count, a, b] = heap.pop();
    const k = pairKey(a, b);
    if (pairCounts.get(k) !== count) continue; // stale entry: the pair's count changed since it was pushed
    if (count < minFrequency) break;
    // Two merge paths can spell the same string ("ab"+"c", "a"+"bc"): reuse its id, as Hugging Face's trainer does.
    const joined = symbols[a] + symbols[b];
    let id = symbolIds.get(joined);
    if (id === undefined) {
      id = symbols.length;
      symbols.push(joined);
      symbolIds.set(joined, id);
    }
    merges.push(`${symbols[a]} ${symbols[b]}`);

    const touched = new Set<number>();
    for (const w of pairWords.get(k) ?? []) {
      const s = words[w];
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) {
          found = true;
          break;
        }
      }
      if (!found) continue; // a stale word index: an earlier merge removed the pair from this word
      addPairs(w, -1, touched);
      const merged: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          merged.push(id);
          i++;
        } else {
          merged.push(s[i]);
        }
      }
      words[w] = merged;
      addPairs(w, 1, touched);
    }
    pairWords.delete(k);
    for (const t of touched) {
      const c = pairCounts.get(t)!;
      if (c <= 0) {
        pairCounts.delete(t);
        pairWords.delete(t);
      } else {
        heap.push(c, Math.floor(t / PAIR_BASE), t % PAIR_BASE);
      }
    }
  }

  return buildFiles(symbols, merges, specials, options.modelMaxLength);
}

/** The tokenizer.json / tokenizer_config.json pair for a trained vocabulary (roles found by the names <s>, </s>, <pad>, <unk>). */
function buildFiles(symbols: string[], merges: string[], specials: string[], modelMaxLength: number | undefined): TrainedBpe {
  const vocab: Record<string, number> = {};
  symbols.forEach((s, i) => {
    vocab[s] = i;
  });
  const has = (t: string) => specials.includes(t);
  const bos = has('<s>') ? '<s>' : null;
  const addedToken = (content: string) => ({ content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson: Record<string, unknown> = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, ...addedToken(content) })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    // BOS through the post-processor as well, so that Hugging Face's own loaders agree with add_bos_token.
    post_processor: bos
      ? {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: bos, type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: bos, type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
        }
      : byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: has('<unk>') ? '<unk>' : null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  const addedTokensDecoder: Record<string, unknown> = {};
  specials.forEach((content, id) => {
    addedTokensDecoder[String(id)] = addedToken(content);
  });
  const tokenizerConfig: Record<string, unknown> = {
    add_bos_token: bos !== null,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: bos,
    eos_token: has('</s>') ? '</s>' : null,
    pad_token: has('<pad>') ? '<pad>' : null,
    unk_token: has('<unk>') ? '<unk>' : null,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength ?? 1e30,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return { tokenizerJson, tokenizerConfig };
}

/** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into `dir` (created if needed). */
export function saveTrainedBpe(dir: string, trained: TrainedBpe): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(trained.tokenizerJson, null, 2) + '\n');
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(trained.tokenizerConfig, null, 2) + '\n');
  const map: Record<string, string> = {};
  for (const role of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
    const v = trained.tokenizerConfig[role];
    if (typeof v === 'string') map[role] = v;
  }
  writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify(map, null, 2) + '\n');
}
