// One-call summary of a sample (n, mean, quartiles, spread), skipping NaN and counting how many were skipped.
import { percentileOfSorted } from './percentiles.js';

export interface Description {
  /** Number of non-NaN values summarised. */
  n: number;
  /** Number of NaN values skipped. */
  nNaN: number;
  mean: number;
  median: number;
  q1: number;
  q3: number;
  iqr: number;
  min: number;
  max: number;
  /** Sample standard deviation (ddof = 1); NaN when n < 2. */
  std: number;
}

/**
 * Summary statistics of `values` ignoring NaN (quartiles: linear percentiles as NumPy). With no non-NaN values
 * every statistic is NaN and n = 0 (documented: an empty group is reported, not thrown).
 */
export function describe(values: ArrayLike<number>): Description {
  const kept: number[] = [];
  let nNaN = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) nNaN++;
    else kept.push(values[i]);
  }
  const n = kept.length;
  if (n === 0) {
    return { n, nNaN, mean: NaN, median: NaN, q1: NaN, q3: NaN, iqr: NaN, min: NaN, max: NaN, std: NaN };
  }
  const s = Float64Array.from(kept).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of s) ss += (v - mean) * (v - mean);
  const q1 = percentileOfSorted(s, 25);
  const q3 = percentileOfSorted(s, 75);
  return {
    n,
    nNaN,
    mean,
    median: percentileOfSorted(s, 50),
    q1,
    q3,
    iqr: q3 - q1,
    min: s[0],
    max: s[n - 1],
    std: n < 2 ? NaN : Math.sqrt(ss / (n - 1)),
  };
}
