// The report's uses of src/stats: distributions (Dist), Wilcoxon and Page tests as TestSummary, Holm over a run's tests, number text.
import { describe, holmAdjust, median, pageTrendTest, rankBiserial, wilcoxon } from '../stats/index.js';
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

/** A number with `digits` decimals, '–' when missing or not finite. */
export function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function joinNotes(...notes: (string | null)[]): string | null {
  const kept = notes.filter((s): s is string => s !== null);
  return kept.length ? kept.join('; ') : null;
}

type Alt = TestSummary['alternative'];

/** A test that did not run: every number null, `note` says why. */
export function notRun(id: string, hypothesis: string, test: TestSummary['test'], alternative: Alt, layer: number | null, note: string, n = 0): TestSummary {
  return { id, hypothesis, test, alternative, layer, n, statistic: null, pValue: null, pHolm: null, method: null, effect: null, medianDifference: null, note };
}

/**
 * Wilcoxon signed-rank test (src/stats, SciPy's zero_method "wilcox", exact for n ≤ 50 without ties/zeros) of paired
 * differences `diffs` (or of one sample against 0); non-finite differences are left out. `n` counts the finite
 * pairs. With fewer than 2 pairs or every difference zero the test does not run: the numbers are null and `note`
 * says why. Effect size: the matched-pairs rank-biserial r.
 */
export function signedRankTest(id: string, hypothesis: string, diffs: readonly number[], alternative: Alt, layer: number | null): TestSummary {
  const finite = diffs.filter((d) => Number.isFinite(d));
  const dropped = diffs.length - finite.length;
  const droppedNote = dropped > 0 ? `${dropped} pair(s) with NaN left out` : null;
  if (finite.length < 2) {
    return notRun(id, hypothesis, 'wilcoxon', alternative, layer, joinNotes(`not run: ${finite.length} finite pair(s), need at least 2`, droppedNote)!, finite.length);
  }
  if (finite.every((d) => d === 0)) {
    return notRun(id, hypothesis, 'wilcoxon', alternative, layer, joinNotes('not run: every paired difference is zero', droppedNote)!, finite.length);
  }
  const r = wilcoxon(finite, { alternative });
  const zeroNote = r.nZeros > 0 ? `${r.nZeros} zero difference(s) dropped before ranking` : null;
  return {
    id,
    hypothesis,
    test: 'wilcoxon',
    alternative,
    layer,
    n: finite.length,
    statistic: r.statistic,
    pValue: r.pValue,
    pHolm: null,
    method: r.method,
    effect: orNull(rankBiserial(r)),
    medianDifference: median(finite),
    note: joinNotes(droppedNote, zeroNote),
  };
}

/**
 * Page's L test (one-sided: values rise in column order) on rows = blocks (repeats), columns = ordered levels. Levels
 * with a value in fewer than half of the rows are left out (e.g. a similarity bin that rarely has candidates), then
 * rows without a value at every remaining level; the note says how many. Not run with fewer than 2 complete rows or
 * 3 levels. Effect size: the mean within-row Spearman ρ with the column order.
 */
export function pageTest(id: string, hypothesis: string, rows: readonly (readonly number[])[], layer: number | null): TestSummary {
  const nCols = rows.length ? rows[0].length : 0;
  const keepCols = Array.from({ length: nCols }, (_, j) => j).filter((j) => 2 * rows.filter((r) => Number.isFinite(r[j])).length >= Math.max(1, rows.length));
  const complete = rows.map((r) => keepCols.map((j) => r[j])).filter((r) => r.every((v) => Number.isFinite(v)));
  const notes = joinNotes(
    nCols > keepCols.length ? `${nCols - keepCols.length} level(s) with values in under half of the repeats left out` : null,
    rows.length > complete.length ? `${rows.length - complete.length} repeat(s) without a value at every level left out` : null,
  );
  if (complete.length < 2 || keepCols.length < 3) {
    return notRun(id, hypothesis, 'page', 'greater', layer, joinNotes(`not run: ${complete.length} complete repeat(s) over ${keepCols.length} level(s), need 2 over 3`, notes)!, complete.length);
  }
  const r = pageTrendTest(complete);
  return {
    id,
    hypothesis,
    test: 'page',
    alternative: 'greater',
    layer,
    n: complete.length,
    statistic: r.statistic,
    pValue: r.pValue,
    pHolm: null,
    method: r.method,
    effect: r.meanRankCorrelation,
    medianDifference: null,
    note: notes,
  };
}

/** Sets pHolm on every distinct test (by identity) that ran, Holm over all of them; returns how many ran. */
export function applyHolm(tests: Iterable<TestSummary>): number {
  const ran = [...new Set(tests)].filter((t) => t.pValue !== null);
  const adjusted = holmAdjust(ran.map((t) => t.pValue));
  ran.forEach((t, i) => (t.pHolm = adjusted[i]));
  return ran.length;
}
