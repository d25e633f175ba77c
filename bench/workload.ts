// The convergence study's token workload for benchmarks: per repeat an anchor, an ICL prompt (1 demonstration) and one tuning text.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../src/tokenizers/index.js';
import { makeTempDir, removeTempDir, sharedDir } from '../src/util/testing.js';
import { seededRandom } from '../src/util/random.js';

/** Token ids of one repeat of the convergence preset with one demonstration (BOS as the tokenizer adds it). */
export interface StudyRepeat {
  anchor: number[];
  icl: number[];
  tuning: number[];
}

export interface Workload {
  repeats: StudyRepeat[];
  /** Where the texts came from, for the benchmark table. */
  source: string;
}

const LABELS = ['negative', 'positive'];

function sst2(path: string): { text: string; label: number }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [text, label] = l.split('\t');
      return { text: text.trim(), label: Number(label) };
    });
}

/**
 * `n` repeats drawn as the study draws them (instruction from the paper's pool, demonstration from SST-2 train,
 * inference example from SST-2 dev), in the study's template: anchor = I + B, ICL = I + A + "\n\n" + B, tuning = I + A
 * with I = instruction + "\n", A = "Review: …\nSentiment: label", B = "Review: …\nSentiment:". Without ../shared the
 * lengths are drawn to match SST-2's (uniform ids, vocabulary `vocab`). With ../shared, the SST-2 train file may be
 * absent: demonstrations then come from dev too (a different example than the inference one).
 */
export async function convergenceWorkload(n: number, vocab: number, seed = 0, tokenizer: 'smollm2-135m-instruct' | 'llama2' = 'smollm2-135m-instruct'): Promise<Workload> {
  const rng = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng() * xs.length)];
  const root = sharedDir();
  const files = {
    dev: join(root, 'data/sst2/dev.tsv'),
    train: join(root, 'data/sst2/train.tsv'),
    instructions: join(root, 'data/paper-instructions/sentiment.txt'),
    tokenizer: join(root, 'data/tokenizers', tokenizer),
  };
  if ([files.dev, files.instructions, files.tokenizer].every((f) => existsSync(f))) {
    const tok = await Tokenizer.load(files.tokenizer);
    const dev = sst2(files.dev);
    const train = existsSync(files.train) ? sst2(files.train) : dev;
    const pool = readFileSync(files.instructions, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const repeats = Array.from({ length: n }, () => {
      const I = `${pick(pool)}\n`;
      const demo = pick(train);
      const inf = pick(dev);
      const A = `Review: ${demo.text}\nSentiment: ${LABELS[demo.label]}`;
      const B = `Review: ${inf.text}\nSentiment:`;
      return { anchor: tok.encode(I + B), icl: tok.encode(`${I}${A}\n\n${B}`), tuning: tok.encode(I + A) };
    });
    return { repeats, source: `SST-2 (paper instructions, ${tokenizer} tokenizer)` };
  }
  // SST-2 sentences run 2–60 tokens (mean ~25); the instruction and template add ~20.
  const len = (mean: number, spread: number) => Math.max(8, Math.round(mean + spread * (rng() + rng() + rng() - 1.5) * 2));
  const ids = (k: number) => Array.from({ length: k }, () => 1 + Math.floor(rng() * (vocab - 1)));
  const repeats = Array.from({ length: n }, () => {
    const instruction = ids(len(18, 5));
    const demo = ids(len(30, 14));
    const inf = ids(len(28, 14));
    return { anchor: [...instruction, ...inf], icl: [...instruction, ...demo, ...inf], tuning: [...instruction, ...demo] };
  });
  return { repeats, source: `random ids with SST-2-like lengths (${root} not found)` };
}

/** Mean tokens per repeat of each part. */
export function meanLengths(w: Workload): { anchor: number; icl: number; tuning: number } {
  const mean = (f: (r: StudyRepeat) => number) => w.repeats.reduce((s, r) => s + f(r), 0) / w.repeats.length;
  return { anchor: mean((r) => r.anchor.length), icl: mean((r) => r.icl.length), tuning: mean((r) => r.tuning.length) };
}

/** `w` written as workload.json in a temp folder of its own (what the study children read); dispose() removes the folder. */
export function workloadFile(w: Workload): { path: string; dispose: () => void } {
  const dir = makeTempDir('iclit-bench-work-');
  const path = join(dir, 'workload.json');
  writeFileSync(path, JSON.stringify(w));
  return { path, dispose: () => removeTempDir(dir) };
}
