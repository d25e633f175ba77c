// The report's two uses of src/stats: a distribution summary (Dist) of raw values and a Wilcoxon test on paired differences.
import { describe, wilcoxon } from '../stats/index.js';
import type { Dist, TestSummary } from './types.js';

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Mean, median, quartiles (NumPy linear), IQR, min and max of the finite values; NaN/±Infinity are counted and left out. */
export function dist(values: readonly number[]): Dist {
  const finite = values.filter((v) => Number.isFinite(v));
  const nanCount = values.length - finite.length;
  const d = describe(finite);
  return {
    n: d.n,
    nanCount,
    mean: orNull(d.mean),
    median: orNull(d.median),
    q1: orNull(d.q1),
    q3: orNull(d.q3),
    iqr: orNull(d.iqr),
    min: orNull(d.min),
    max: orNull(d.max),
  };
}

function joinNotes(...notes: (string | null)[]): string | null {
  const kept = notes.filter((s): s is string => s !== null);
  return kept.length ? kept.join('; ') : null;
}

/**
 * Wilcoxon signed-rank test (src/stats, SciPy's zero_method "wilcox", exact for n ≤ 50 without ties/zeros) of paired
 * differences `diffs`; non-finite differences are left out. `n` counts the finite pairs. When fewer than 2 pairs
 * remain or every difference is zero the test does not run: statistic/pValue are null and `note` says why.
 */
export function signedRankTest(
  id: string,
  hypothesis: string,
  diffs: readonly number[],
  alternative: 'greater' | 'less' | 'two-sided',
  layer: number | null,
): TestSummary {
  const finite = diffs.filter((d) => Number.isFinite(d));
  const base = { id, hypothesis, alternative, layer, n: finite.length };
  const dropped = diffs.length - finite.length;
  const droppedNote = dropped > 0 ? `${dropped} pair(s) with NaN left out` : null;
  if (finite.length < 2) {
    return { ...base, statistic: null, pValue: null, method: null, note: joinNotes(`not run: ${finite.length} finite pair(s), need at least 2`, droppedNote) };
  }
  if (finite.every((d) => d === 0)) {
    return { ...base, statistic: null, pValue: null, method: null, note: joinNotes('not run: every paired difference is zero', droppedNote) };
  }
  const r = wilcoxon(finite, { alternative });
  const zeroNote = r.nZeros > 0 ? `${r.nZeros} zero difference(s) dropped before ranking` : null;
  return { ...base, statistic: r.statistic, pValue: r.pValue, method: r.method, note: joinNotes(droppedNote, zeroNote) };
}
