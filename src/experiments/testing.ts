// Test helpers for the study: a tiny random LLaMA with its own trained tokenizer, SST-2-like and EN–CS data, a toy embedder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { saveTrainedBpe, trainByteLevelBpe } from '../tokenizers/index.js';
import { SENTIMENT_INSTRUCTIONS, TRANSLATION_INSTRUCTIONS } from '../data/instructions.js';
import { seededRandom } from '../util/random.js';
import type { TextEmbedder } from './backend.js';

const GOOD = ['a charming film', 'wonderful acting', 'a delight', 'moving and funny', 'great fun', 'smart and warm', 'a lovely story', 'brilliant work'];
const BAD = ['a dull mess', 'boring and flat', 'awful script', 'painfully slow', 'a weak plot', 'tedious', 'lifeless acting', 'a bad idea'];
const EN = ['the house is red', 'we go home', 'the city is big', 'my friend reads', 'the news is good', 'it rains today'];
const CS = ['dům je červený', 'jdeme domů', 'město je velké', 'můj přítel čte', 'zprávy jsou dobré', 'dnes prší'];

/** Paths of a tiny study: model folder (weights + tokenizer), sentiment TSV, EN/CS text pair prefix. */
export interface TinyStudy {
  model: string;
  sst2: string;
  wmt: string;
}

/** Writes `rows` SST-2-like reviews (seeded) as `sentence<TAB>label` TSV. */
export function writeSentimentTsv(file: string, rows: number, seed = 1): void {
  const rng = seededRandom(seed);
  const lines = ['sentence\tlabel'];
  for (let i = 0; i < rows; i++) {
    const label = i % 2;
    const words = label ? GOOD : BAD;
    const a = words[Math.floor(rng() * words.length)];
    const b = words[Math.floor(rng() * words.length)];
    lines.push(`${a} , ${b} ${i} .\t${label}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

/** Writes `rows` EN–CS pairs as `<prefix>.en` / `<prefix>.cs`. */
export function writeTranslationPair(prefix: string, rows: number): void {
  const en: string[] = [];
  const cs: string[] = [];
  for (let i = 0; i < rows; i++) {
    en.push(`${EN[i % EN.length]} ${i}`);
    cs.push(`${CS[i % CS.length]} ${i}`);
  }
  writeFileSync(`${prefix}.en`, en.join('\n') + '\n');
  writeFileSync(`${prefix}.cs`, cs.join('\n') + '\n');
}

/** A tiny study in `root`: 2-layer LLaMA (hidden 32) with a byte-level BPE tokenizer trained on the study's own texts. */
export function writeTinyStudy(root: string, opts: { rows?: number; seed?: number; name?: string } = {}): TinyStudy {
  const model = join(root, opts.name ?? 'tiny-llama');
  mkdirSync(model, { recursive: true });
  const sst2 = join(root, 'sst2.tsv');
  const wmt = join(root, 'wmt');
  writeSentimentTsv(sst2, opts.rows ?? 40);
  writeTranslationPair(wmt, 24);
  const corpus = [...GOOD, ...BAD, ...EN, ...CS, ...SENTIMENT_INSTRUCTIONS, ...TRANSLATION_INSTRUCTIONS, 'Review: Sentiment: negative positive English: Czech:'];
  const trained = trainByteLevelBpe(corpus, { vocabSize: 400 });
  trained.tokenizerConfig.add_bos_token = true;
  saveTrainedBpe(model, trained);
  writeRandomCheckpoint(model, tinyConfig({ vocabSize: 400, hiddenSize: 32, maxPositionEmbeddings: 1024 }), { seed: opts.seed ?? 7, std: 0.1 });
  return { model, sst2, wmt };
}

/** A deterministic toy sentence embedder (letter counts), so similarity bins vary with the text. */
export function letterEmbedder(): TextEmbedder & { calls: number } {
  const e = {
    calls: 0,
    fingerprint: 'letters'.split('').map((c) => c.charCodeAt(0).toString(16)).join(''),
    embed(texts: readonly string[]): Float32Array[] {
      e.calls++;
      return texts.map((t) => {
        const v = new Float32Array(27);
        for (const ch of t.toLowerCase()) {
          const c = ch.charCodeAt(0) - 97;
          v[c >= 0 && c < 26 ? c : 26] += 1;
        }
        return v;
      });
    },
  };
  return e;
}
