// Seeded draws: derived seeds, sampling without replacement, and one repeat's instruction / demonstrations / inference example.
import { createHash } from 'node:crypto';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';

/**
 * A seed for one purpose, derived from the run seed and any labels (e.g. deriveSeed(run, 'repeat', 3)).
 * It is the first 4 bytes (big-endian) of SHA-256 over JSON.stringify([runSeed, ...parts]), so it is stable across
 * platforms and versions, and the number 3 and the string '3' give different seeds. Range: [0, 2^32).
 */
export function deriveSeed(runSeed: number, ...parts: (string | number)[]): number {
  if (!Number.isSafeInteger(runSeed)) throw new IclitError(`run seed must be a safe integer, got ${runSeed}`);
  for (const p of parts) {
    if (typeof p === 'number' && !Number.isFinite(p)) throw new IclitError(`deriveSeed: part ${p} is not a finite number`);
  }
  return createHash('sha256').update(JSON.stringify([runSeed, ...parts])).digest().readUInt32BE(0);
}

function checkCount(k: number, what: string): void {
  if (!Number.isSafeInteger(k) || k < 0) throw new IclitError(`${what} must be a non-negative integer, got ${k}`);
}

/**
 * k distinct items of `items`, in draw order (partial Fisher–Yates on a copy). The first j items drawn do not depend
 * on k, so a draw of k = 5 is the first five of a draw of k = 10 with the same generator state.
 */
export function sampleWithoutReplacement<T>(items: readonly T[], k: number, rng: () => number): T[] {
  checkCount(k, 'sample size');
  if (k > items.length) throw new IclitError(`cannot draw ${k} distinct items from ${items.length}`);
  const a = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/** A shuffled copy of `items`. */
export function shuffle<T>(items: readonly T[], rng: () => number): T[] {
  return sampleWithoutReplacement(items, items.length, rng);
}

/** What one repeat uses: indices into the instruction pool and into the data. */
export interface RepeatDraw {
  instructionIndex: number;
  /** k distinct data indices in prompt order; never the inference example. */
  demonstrationIndices: number[];
  inferenceIndex: number;
}

export interface DrawOptions<E> {
  /** Number of demonstrations. */
  k: number;
  /** This repeat's seed (e.g. deriveSeed(runSeed, 'repeat', r)). */
  seed: number;
  /** Data indices never drawn, neither as demonstrations nor as the inference example. */
  excludeIndex?: number | readonly number[];
  /** Use this inference example instead of drawing one (it is still never a demonstration). */
  inferenceIndex?: number;
  /**
   * Balanced labels: the k demonstrations split as evenly as the labels allow (the classes that get the
   * remainder are drawn), then shuffled. Needs labelOf, or examples with a numeric `label`.
   */
  balanced?: boolean;
  labelOf?: (example: E) => number;
}

/**
 * Draws one repeat: an instruction index, an inference example and k demonstrations. Each comes from its own stream
 * (deriveSeed(seed, 'instruction' | 'inference' | 'demonstrations')), so changing k or `balanced` changes neither
 * the instruction nor the inference example, and the same seed always gives the same draw.
 */
export function drawRepeat<E>(pool: readonly unknown[] | number, rows: readonly E[] | number, opts: DrawOptions<E>): RepeatDraw {
  const poolSize = typeof pool === 'number' ? pool : pool.length;
  // A row count stands for the data when no example is looked at (everything but balanced draws).
  if (typeof rows === 'number' && opts.balanced) throw new IclitError('balanced sampling needs the examples, not a row count');
  const size = typeof rows === 'number' ? rows : rows.length;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new IclitError(`the instruction pool is empty`);
  checkCount(opts.k, 'k (demonstrations)');
  const excluded = new Set(opts.excludeIndex === undefined ? [] : typeof opts.excludeIndex === 'number' ? [opts.excludeIndex] : opts.excludeIndex);
  for (const i of excluded) {
    if (!Number.isSafeInteger(i) || i < 0 || i >= size) throw new IclitError(`excludeIndex ${i} is outside the data (0..${size - 1})`);
  }
  const candidates: number[] = [];
  for (let i = 0; i < size; i++) if (!excluded.has(i)) candidates.push(i);

  const instructionIndex = Math.floor(seededRandom(deriveSeed(opts.seed, 'instruction'))() * poolSize);

  let inferenceIndex: number;
  if (opts.inferenceIndex !== undefined) {
    inferenceIndex = opts.inferenceIndex;
    if (!Number.isSafeInteger(inferenceIndex) || inferenceIndex < 0 || inferenceIndex >= size) {
      throw new IclitError(`inferenceIndex ${inferenceIndex} is outside the data (0..${size - 1})`);
    }
    if (excluded.has(inferenceIndex)) throw new IclitError(`inferenceIndex ${inferenceIndex} is also in excludeIndex`);
  } else {
    if (candidates.length === 0) throw new IclitError(`no data left to draw an inference example from (${size} rows, ${excluded.size} excluded)`);
    inferenceIndex = candidates[Math.floor(seededRandom(deriveSeed(opts.seed, 'inference'))() * candidates.length)];
  }

  const demoCandidates = candidates.filter((i) => i !== inferenceIndex);
  if (opts.k > demoCandidates.length) {
    throw new IclitError(`cannot draw k=${opts.k} demonstrations from ${demoCandidates.length} candidates (${size} rows, ${excluded.size} excluded, 1 inference example)`);
  }
  const rng = seededRandom(deriveSeed(opts.seed, 'demonstrations'));
  const demonstrationIndices = opts.balanced && typeof rows !== 'number'
    ? balancedDraw(demoCandidates, rows, opts.k, rng, opts.labelOf)
    : sampleWithoutReplacement(demoCandidates, opts.k, rng);
  return { instructionIndex, demonstrationIndices, inferenceIndex };
}

function defaultLabelOf(example: unknown): number {
  const label = (example as { label?: unknown } | null)?.label;
  if (typeof label !== 'number') throw new IclitError('balanced sampling needs labelOf, or examples with a numeric "label"');
  return label;
}

function balancedDraw<E>(candidates: number[], data: readonly E[], k: number, rng: () => number, labelOf?: (e: E) => number): number[] {
  const label = labelOf ?? defaultLabelOf;
  const byLabel = new Map<number, number[]>();
  for (const i of candidates) {
    const l = label(data[i]);
    const list = byLabel.get(l);
    if (list) list.push(i);
    else byLabel.set(l, [i]);
  }
  const labels = [...byLabel.keys()].sort((a, b) => a - b);
  if (labels.length < 2) throw new IclitError(`balanced sampling needs at least two labels among the candidates, found ${labels.length}`);
  const base = Math.floor(k / labels.length);
  const extra = new Set(sampleWithoutReplacement(labels, k - base * labels.length, rng));
  const picked: number[] = [];
  for (const l of labels) {
    const quota = base + (extra.has(l) ? 1 : 0);
    const pool = byLabel.get(l) as number[];
    if (quota > pool.length) throw new IclitError(`balanced sampling needs ${quota} examples with label ${l}, only ${pool.length} are available`);
    picked.push(...sampleWithoutReplacement(pool, quota, rng));
  }
  return shuffle(picked, rng);
}

/** The examples a draw names: its demonstrations (in prompt order) and its inference example. */
export function drawnExamples<E>(draw: RepeatDraw, data: readonly E[]): { demonstrations: E[]; inference: E } {
  const at = (i: number): E => {
    if (!Number.isSafeInteger(i) || i < 0 || i >= data.length) throw new IclitError(`draw index ${i} is outside the data (0..${data.length - 1})`);
    return data[i];
  };
  return { demonstrations: draw.demonstrationIndices.map(at), inference: at(draw.inferenceIndex) };
}
