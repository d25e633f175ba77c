// Percentiles with linear interpolation (NumPy's default method) and box-plot statistics built on them.
import { IclitError } from '../util/errors.js';
import { checkLength, checkNotNaN, sortedCopy } from './validate.js';

/**
 * The q-th percentile (0 ≤ q ≤ 100) of values already sorted ascending, exactly as NumPy 1.24
 * `np.percentile(x, q)` (method "linear"): virtual index (n−1)·q/100, then NumPy's two-sided lerp.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new IclitError('percentile: no values');
  if (!(q >= 0 && q <= 100)) throw new IclitError(`percentile: q is ${q}; expected a number in [0, 100]`);
  const index = (n - 1) * (q / 100);
  const lo = Math.min(Math.floor(index), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  const t = index - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  // NumPy's _lerp: interpolate from the nearer end so that t = 1 gives b exactly.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The q-th percentile of `values` (any order; NaN is an error). */
export function percentile(values: ArrayLike<number>, q: number): number {
  checkNotNaN(values, 'percentile: values');
  return percentileOfSorted(sortedCopy(values), q);
}

/** Several percentiles of `values` (sorted once). */
export function percentiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  checkNotNaN(values, 'percentiles: values');
  const s = sortedCopy(values);
  return qs.map((q) => percentileOfSorted(s, q));
}

/** The median (50th percentile, linear). */
export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

export interface BoxStats {
  n: number;
  mean: number;
  median: number;
  q1: number;
  q3: number;
  iqr: number;
  /** The most extreme data points within 1.5·IQR of the quartiles (Tukey; as matplotlib's boxplot_stats). */
  whiskerLow: number;
  whiskerHigh: number;
  /** Data points beyond the whiskers, ascending. */
  outliers: number[];
  min: number;
  max: number;
}

/** Box-plot statistics: quartiles (linear), whiskers at the furthest data within `whis`·IQR (default 1.5), outliers. */
export function boxStats(values: ArrayLike<number>, whis = 1.5): BoxStats {
  checkNotNaN(values, 'boxStats: values');
  checkLength(values, 1, 'boxStats: values');
  const s = sortedCopy(values);
  const n = s.length;
  const q1 = percentileOfSorted(s, 25);
  const med = percentileOfSorted(s, 50);
  const q3 = percentileOfSorted(s, 75);
  const iqr = q3 - q1;
  const lowFence = q1 - whis * iqr;
  const highFence = q3 + whis * iqr;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  const outliers: number[] = [];
  let whiskerLow = NaN;
  let whiskerHigh = NaN;
  for (let i = 0; i < n; i++) {
    const v = s[i];
    if (v < lowFence || v > highFence) outliers.push(v);
    else {
      if (Number.isNaN(whiskerLow)) whiskerLow = v;
      whiskerHigh = v;
    }
  }
  // Sorted data always has q1 ≤ some point ≤ q3 within the fences unless n = 0, so the whiskers are set.
  return { n, mean: sum / n, median: med, q1, q3, iqr, whiskerLow, whiskerHigh, outliers, min: s[0], max: s[n - 1] };
}
