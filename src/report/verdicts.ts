// The decision rule of each expectation (docs/METHODS.md, "How a claim is judged"): tests and intervals → replicates | does-not-replicate | inconclusive.
import { bootstrapMedianCI } from '../stats/index.js';
import type { Expectation } from './paper.js';
import type { Interval, TestSummary } from './types.js';

/** Significance level of the verdicts (Holm-adjusted within the findings' family). */
export const ALPHA = 0.05;
/** 'high': the median's 95% CI must lie above this raw cosine. */
export const HIGH_THRESHOLD = 0.7;
/** 'flat': equivalence margin for the change of a similarity over the whole similarity range [0, 1] (the per-repeat slope). */
export const FLAT_MARGIN = 0.1;
/** 'not-significant' (accuracy): equivalence margin for the paired accuracy difference, as a fraction (5 points). */
export const ACCURACY_MARGIN = 0.05;
/** Bootstrap resamples of every interval (seeded: the same records give the same verdicts). */
const RESAMPLES = 4000;

export type Verdict = 'replicates' | 'does-not-replicate' | 'inconclusive';

export interface Decision {
  verdict: Verdict;
  /** Why, in one line. */
  reason: string;
}

/** Seeded percentile-bootstrap CI of the median of the finite values; null with fewer than 3. */
export function medianInterval(quantity: string, values: readonly number[], confidence: number, bound: { threshold?: number; margin?: number }): Interval | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length < 3) return null;
  const ci = bootstrapMedianCI(finite, { confidence, resamples: RESAMPLES, seed: 0 });
  return { quantity, n: finite.length, median: ci.estimate, lower: ci.lower, upper: ci.upper, confidence, threshold: bound.threshold ?? null, margin: bound.margin ?? null };
}

const ran = (t: TestSummary): boolean => t.pValue !== null && t.pHolm !== null;

/**
 * greater / less / trend-up / trend-down / u-shape: `claimed` are the one-sided tests in the paper's direction (all
 * must reject at Holm p < ALPHA: an intersection–union test); `opposite` the same tests the other way round, each
 * judged at the Bonferroni level ALPHA / m (m = tests in the findings' family). Replicates when every claimed test
 * rejects; does not replicate when any opposite test rejects; else inconclusive.
 */
export function directional(claimed: readonly TestSummary[], opposite: readonly TestSummary[], familySize: number): Decision {
  if (claimed.length === 0 || !claimed.every(ran)) return { verdict: 'inconclusive', reason: claimed.find((t) => !ran(t))?.note ?? 'no test ran' };
  const worst = Math.max(...claimed.map((t) => t.pHolm!));
  if (worst < ALPHA) return { verdict: 'replicates', reason: `every test in the paper's direction has Holm p < ${ALPHA} (largest ${worst.toExponential(2)})` };
  const level = ALPHA / Math.max(1, familySize);
  const against = opposite.find((t) => t.pValue !== null && t.pValue < level);
  if (against) return { verdict: 'does-not-replicate', reason: `the opposite one-sided test rejects (p = ${against.pValue!.toExponential(2)} < ${ALPHA}/${familySize})` };
  return { verdict: 'inconclusive', reason: `neither direction significant (largest Holm p ${worst.toExponential(2)})` };
}

/** high: replicates when every 95% CI of a median lies above the threshold; does not when any lies below it. */
export function high(intervals: readonly (Interval | null)[]): Decision {
  if (intervals.length === 0 || intervals.some((i) => i === null)) return { verdict: 'inconclusive', reason: 'fewer than 3 finite values' };
  const ivs = intervals as Interval[];
  const below = ivs.find((i) => i.upper < i.threshold!);
  if (below) return { verdict: 'does-not-replicate', reason: `${below.quantity}: 95% CI of the median [${below.lower.toFixed(3)}, ${below.upper.toFixed(3)}] below ${below.threshold}` };
  if (ivs.every((i) => i.lower > i.threshold!)) return { verdict: 'replicates', reason: `every 95% CI of the median lies above ${ivs[0].threshold}` };
  return { verdict: 'inconclusive', reason: 'a 95% CI of the median straddles the threshold' };
}

/**
 * flat / not-significant (equivalence, TOST-style): replicates when the 90% CI (two one-sided 5% tests) lies inside
 * ±margin; does not replicate when the 95% CI lies wholly outside it; else inconclusive.
 */
export function equivalent(ci90: Interval | null, ci95: Interval | null): Decision {
  if (!ci90 || !ci95) return { verdict: 'inconclusive', reason: 'fewer than 3 finite values' };
  const m = ci90.margin!;
  if (ci90.lower > -m && ci90.upper < m) return { verdict: 'replicates', reason: `90% CI of the median [${ci90.lower.toFixed(3)}, ${ci90.upper.toFixed(3)}] inside ±${m} (TOST at 5%)` };
  if (ci95.lower > m || ci95.upper < -m) return { verdict: 'does-not-replicate', reason: `95% CI of the median [${ci95.lower.toFixed(3)}, ${ci95.upper.toFixed(3)}] outside ±${m}` };
  return { verdict: 'inconclusive', reason: `the CIs overlap the margin ±${m}` };
}

/**
 * not-significant: the paper's own one-sided test (raw p, the level it reports at) rejecting → does not replicate,
 * since the claim is that it does not; otherwise the equivalence test decides, so a test without the power to
 * reject cannot replicate the claim by itself.
 */
export function notSignificant(paperTest: TestSummary, ci90: Interval | null, ci95: Interval | null): Decision {
  if (paperTest.pValue !== null && paperTest.pValue < ALPHA) {
    return { verdict: 'does-not-replicate', reason: `the paper's one-tailed test is significant (p = ${paperTest.pValue.toExponential(2)} < ${ALPHA})` };
  }
  const d = equivalent(ci90, ci95);
  return { ...d, reason: `the paper's one-tailed test is not significant${paperTest.pValue !== null ? ` (p = ${paperTest.pValue.toExponential(2)})` : ''}; ${d.reason}` };
}

/**
 * u-shape: an interior minimum (chosen on the even repeats) is tested on both sides as `directional`. A minimum at an
 * end is the opposite pattern only when a test says so too — `opposite` then holds the one-sided test of that end
 * below the lowest interior state (odd repeats) at the Bonferroni level ALPHA / m; without it, inconclusive.
 */
export function uShape(minimumInterior: boolean, where: string, claimed: readonly TestSummary[], opposite: readonly TestSummary[], familySize: number): Decision {
  if (!minimumInterior) {
    const level = ALPHA / Math.max(1, familySize);
    const against = opposite.find((t) => t.pValue !== null && t.pValue < level);
    if (against) return { verdict: 'does-not-replicate', reason: `the lowest mean is at an end (${where}) and lies below the lowest interior state (p = ${against.pValue!.toExponential(2)} < ${ALPHA}/${familySize})` };
    return { verdict: 'inconclusive', reason: `the lowest mean is at an end (${where}), but not significantly below the lowest interior state` };
  }
  const d = directional(claimed, opposite, familySize);
  return { ...d, reason: `minimum at ${where}; ${d.reason}` };
}

/** The rule of each expectation, in words (report legend, docs/METHODS.md). */
export const RULES: Record<Expectation, string> = {
  greater: `one-tailed Wilcoxon signed-rank test in the paper's direction, Holm p < ${ALPHA} → replicates; the opposite one-tailed test at p < ${ALPHA}/m (m tests in the family) → does not replicate; else inconclusive`,
  less: 'as greater, the other way round',
  'trend-up': `Page's L test (repeats × ordered levels) for a rise, Holm p < ${ALPHA} → replicates; Page's test for a fall at p < ${ALPHA}/m → does not replicate; else inconclusive`,
  'trend-down': 'as trend-up, the other way round',
  flat: `per-repeat least-squares slope over the bins' midpoints (change over the whole range [0, 1]); 90% bootstrap CI of its median inside ±${FLAT_MARGIN} → replicates (TOST at 5%); 95% CI wholly outside ±${FLAT_MARGIN} → does not replicate; else inconclusive`,
  'u-shape': `lowest layer of the mean curve chosen on the even repeats; interior (neither the first hidden state after the embeddings nor the last) and both one-tailed Wilcoxon tests on the odd repeats (that state above the minimum at its low side, and at its high side) with Holm p < ${ALPHA} → replicates; an opposite test at p < ${ALPHA}/m → does not replicate (for a minimum at an end: that end below the lowest interior state, one-tailed Wilcoxon on the odd repeats); else inconclusive`,
  'not-significant': `paired difference per repeat; the paper's one-tailed Wilcoxon test at p < ${ALPHA} → does not replicate; else 90% bootstrap CI of its median inside ±${ACCURACY_MARGIN} → replicates (TOST at 5%), 95% CI wholly outside → does not replicate, else inconclusive`,
  high: `95% bootstrap CI of the median above ${HIGH_THRESHOLD} (raw cosine) for every similarity named → replicates; any CI below → does not replicate; else inconclusive`,
};
