// Student-t confidence interval of a mean (e.g. a curve's mean over repeats), with the t quantile found from studentTSf.
import { IclitError } from '../util/errors.js';
import { studentTSf } from './special.js';

/** The t with P(T > t) = p for Student's t with `dof` degrees of freedom, p in (0, 0.5]: bisection on the upper tail (to 1e-12). */
export function studentTQuantileUpper(p: number, dof: number): number {
  if (!(p > 0 && p <= 0.5)) throw new IclitError(`studentTQuantileUpper: tail probability ${p} is outside (0, 0.5]`);
  if (!(dof > 0)) throw new IclitError(`studentTQuantileUpper: degrees of freedom ${dof} must be positive`);
  let lo = 0;
  let hi = 1;
  while (studentTSf(hi, dof) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTSf(mid, dof) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanInterval {
  /** Finite values used (NaN/±Infinity are left out). */
  n: number;
  mean: number;
  /** mean ∓ t_{(1+c)/2, n−1} · s / √n; NaN with fewer than two values. */
  lower: number;
  upper: number;
  confidence: number;
}

/** The mean of the finite values and its two-sided Student-t interval at `confidence` (default 0.95). */
export function meanTInterval(values: ArrayLike<number>, confidence = 0.95): MeanInterval {
  if (!(confidence > 0 && confidence < 1)) throw new IclitError(`meanTInterval: confidence ${confidence} is outside (0, 1)`);
  const xs = Array.from(values).filter((v) => Number.isFinite(v));
  const n = xs.length;
  const mean = n > 0 ? xs.reduce((a, b) => a + b, 0) / n : NaN;
  if (n < 2) return { n, mean, lower: NaN, upper: NaN, confidence };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const half = studentTQuantileUpper((1 - confidence) / 2, n - 1) * Math.sqrt(variance / n);
  return { n, mean, lower: mean - half, upper: mean + half, confidence };
}
