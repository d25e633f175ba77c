// Similarity bins: candidates grouped by cosine similarity to one inference example, k picked per bin (seeded).
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import { deriveSeed, sampleWithoutReplacement } from './sampling.js';

export interface BinOptions {
  /** Number of equal-width bins over [lo, hi] (the study's default lives in STUDY_DEFAULTS.bins). */
  nBins: number;
  /** Default 0. */
  lo?: number;
  /** Default 1. */
  hi?: number;
}

function binSpec(opts: BinOptions): { nBins: number; lo: number; hi: number } {
  const nBins = opts.nBins;
  const lo = opts.lo ?? 0;
  const hi = opts.hi ?? 1;
  if (!Number.isSafeInteger(nBins) || nBins < 1) throw new IclitError(`nBins must be a positive integer, got ${nBins}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new IclitError(`bin range [${lo}, ${hi}] must be finite with lo < hi`);
  return { nBins, lo, hi };
}

/**
 * The bin of a similarity: bin b holds [lo + b·w, lo + (b+1)·w) with w = (hi − lo) / nBins, and the last bin also
 * holds hi. Values below lo go to bin 0 and values above hi to the last bin (clamped, so that e.g. a cosine of −0.1
 * or 1.0000001 from rounding is still binned). Edges are computed as floor((v − lo) / (hi − lo) · nBins) in doubles.
 * NaN is an error.
 */
export function binOf(value: number, opts: BinOptions): number {
  const { nBins, lo, hi } = binSpec(opts);
  if (Number.isNaN(value)) throw new IclitError('cannot bin a NaN similarity');
  const b = Math.floor(((value - lo) / (hi - lo)) * nBins);
  return Math.min(nBins - 1, Math.max(0, b));
}

/** One bin's outcome: `missing` (and `picked` empty) when fewer than k candidates fell into it. */
export interface BinPick {
  bin: number;
  /** The bin's edges [lo, hi) (the last bin includes hi). */
  lo: number;
  hi: number;
  /** Candidates in the bin. */
  available: number;
  /** k candidate indices in draw order, or [] when missing. */
  picked: number[];
  missing: boolean;
}

export interface PickPerBinOptions extends BinOptions {
  /**
   * 'equal-width' (default): bins of width (hi − lo) / nBins (see binOf). 'quantile': bins of equal candidate counts
   * (candidates sorted by similarity, ties broken by index; bin b holds ranks ⌊b·n/nBins⌋ … ⌊(b+1)·n/nBins⌋ − 1), its
   * edges the lowest and highest similarity in it.
   */
  edges?: 'equal-width' | 'quantile';
  /** Candidates to pick per bin. */
  k: number;
  /** Seed of this draw; bin b uses deriveSeed(seed, 'bin', b), so bins draw independently. */
  seed: number;
  /** Candidate indices never picked (e.g. the inference example itself). */
  excludeIndex?: number | readonly number[];
}

/**
 * Bins candidates 0..n−1 by `similarities[i]` (their cosine to one inference example) and picks k per bin without
 * replacement. Returns one record per bin, in bin order; a bin with fewer than k candidates is reported as
 * `{ picked: [], missing: true }` — nothing is borrowed from a neighbouring bin.
 */
export function pickPerBin(similarities: ArrayLike<number>, opts: PickPerBinOptions): BinPick[] {
  const { nBins, lo, hi } = binSpec(opts);
  if (!Number.isSafeInteger(opts.k) || opts.k < 1) throw new IclitError(`k per bin must be a positive integer, got ${opts.k}`);
  const excluded = new Set(opts.excludeIndex === undefined ? [] : typeof opts.excludeIndex === 'number' ? [opts.excludeIndex] : opts.excludeIndex);
  const members: number[][] = Array.from({ length: nBins }, () => []);
  const candidates: number[] = [];
  for (let i = 0; i < similarities.length; i++) {
    if (excluded.has(i)) continue;
    if (Number.isNaN(similarities[i])) throw new IclitError(`similarity of candidate ${i} is NaN (a zero vector?); cannot bin it`);
    candidates.push(i);
  }
  let edgesOf: (b: number) => { lo: number; hi: number };
  if (opts.edges === 'quantile') {
    const sorted = [...candidates].sort((a, b) => similarities[a] - similarities[b] || a - b);
    const n = sorted.length;
    for (let b = 0; b < nBins; b++) members[b] = sorted.slice(Math.floor((b * n) / nBins), Math.floor(((b + 1) * n) / nBins));
    edgesOf = (b) => (members[b].length ? { lo: similarities[members[b][0]], hi: similarities[members[b][members[b].length - 1]] } : { lo: NaN, hi: NaN });
  } else {
    for (const i of candidates) members[binOf(similarities[i], { nBins, lo, hi })].push(i);
    const edge = (b: number): number => lo + ((hi - lo) * b) / nBins;
    edgesOf = (b) => ({ lo: edge(b), hi: b === nBins - 1 ? hi : edge(b + 1) });
  }
  return members.map((m, bin) => {
    const missing = m.length < opts.k;
    const picked = missing ? [] : sampleWithoutReplacement(m, opts.k, seededRandom(deriveSeed(opts.seed, 'bin', bin)));
    return { bin, ...edgesOf(bin), available: m.length, picked, missing };
  });
}
