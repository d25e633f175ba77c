// Pearson and Spearman correlation with two-sided p-values, computed as SciPy 1.10 `pearsonr` / `spearmanr` do.
import { IclitError } from '../util/errors.js';
import { averageRanks } from './ranks.js';
import { regularizedIncompleteBeta } from './special.js';
import { checkFinite } from './validate.js';

export interface CorrelationResult {
  /** The correlation coefficient, in [−1, 1]; NaN when either input is constant (documented, as SciPy). */
  r: number;
  /** Two-sided p-value of H0: no correlation (t distribution with n − 2 degrees of freedom); NaN when r is. */
  pValue: number;
  n: number;
}

function checkPair(x: ArrayLike<number>, y: ArrayLike<number>, where: string): void {
  if (x.length !== y.length) {
    throw new IclitError(`${where}: x has ${x.length} values but y has ${y.length}; they must be paired`);
  }
  if (x.length < 2) throw new IclitError(`${where}: needs at least 2 pairs, got ${x.length}`);
  checkFinite(x, `${where}: x`);
  checkFinite(y, `${where}: y`);
}

/** Centred copy and its Euclidean norm. */
function centred(v: ArrayLike<number>): { c: Float64Array; norm: number } {
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i];
  mean /= n;
  const c = new Float64Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    c[i] = v[i] - mean;
    ss += c[i] * c[i];
  }
  return { c, norm: Math.sqrt(ss) };
}

/** Sample correlation of two equally long, finite arrays; NaN when either is constant. */
function pearsonR(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const a = centred(x);
  const b = centred(y);
  if (a.norm === 0 || b.norm === 0) return NaN;
  let r = 0;
  for (let i = 0; i < a.c.length; i++) r += (a.c[i] / a.norm) * (b.c[i] / b.norm);
  return Math.max(-1, Math.min(1, r));
}

/**
 * Two-sided p-value for a correlation r from n pairs: P(|T| ≥ |t|) with t = r·√((n−2)/(1−r²)), T ~ t(n−2).
 * Written as 2·I_{(1−|r|)/2}(n/2 − 1, n/2 − 1), the same quantity SciPy's beta form computes, without
 * forming t (no cancellation as |r| → 1). n = 2 gives p = 1 (a line through two points), as SciPy.
 */
export function correlationPValue(r: number, n: number): number {
  if (Number.isNaN(r)) return NaN;
  if (n === 2) return 1;
  if (!(n > 2)) return NaN;
  const absR = Math.min(1, Math.abs(r));
  if (absR === 1) return 0;
  const ab = n / 2 - 1;
  const x = (1 - absR) / 2;
  return Math.min(1, 2 * regularizedIncompleteBeta(x, ab, ab, (1 + absR) / 2));
}

/** Pearson's r of paired samples with its two-sided p-value (SciPy `pearsonr`). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): CorrelationResult {
  checkPair(x, y, 'pearson');
  const r = pearsonR(x, y);
  return { r, pValue: correlationPValue(r, x.length), n: x.length };
}

/** Spearman's ρ: Pearson's r of the average ranks, with the same t-based two-sided p-value (SciPy `spearmanr`). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): CorrelationResult {
  checkPair(x, y, 'spearman');
  const r = pearsonR(averageRanks(x), averageRanks(y));
  return { r, pValue: correlationPValue(r, x.length), n: x.length };
}
