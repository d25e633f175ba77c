// Multiple-testing adjustment: Holm's step-down method over a family of p-values.
import { IclitError } from '../util/errors.js';

/**
 * Holm (1979) adjusted p-values, in the input order: with the m non-null p-values sorted ascending,
 * p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j)). Nulls (tests that did not run) stay null and do not count
 * towards m. Controls the family-wise error rate under any dependence (as statsmodels' `multipletests(…, 'holm')`).
 */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const idx: number[] = [];
  pValues.forEach((p, i) => {
    if (p === null) return;
    if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) throw new IclitError(`holmAdjust: p-value ${i} is ${String(p)}; expected a number in [0, 1] or null`);
    idx.push(i);
  });
  const m = idx.length;
  // Stable order: equal p-values keep their input order, so the result does not depend on the sort's tie handling.
  idx.sort((a, b) => (pValues[a] as number) - (pValues[b] as number) || a - b);
  const out: (number | null)[] = pValues.map(() => null);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[i] as number)));
    out[i] = running;
  });
  return out;
}
