// Comparing attention patterns: per-head cosine of two weight rows averaged over heads, per-head renormalisation of a gathered row, and the share of weight on a span.
import { IclitError } from '../util/errors.js';
import { cosine } from './cosine.js';

type Vec = ArrayLike<number>;

/**
 * Mean over heads of cos(a_h, b_h), where a and b hold H rows of n weights each (head-major, a[h·n + i]) over the
 * same n positions: Dai et al.'s SimAM over the tokens two prompts share. Heads whose row is all zeros in either
 * run are left out; NaN when none is left.
 */
export function headAveragedCosine(a: Vec, b: Vec, heads: number): number {
  if (a.length !== b.length) throw new IclitError(`headAveragedCosine: weight rows differ in length (${a.length} vs ${b.length})`);
  if (!Number.isInteger(heads) || heads < 1 || a.length % heads !== 0) throw new IclitError(`headAveragedCosine: ${a.length} weights do not split into ${heads} heads`);
  const n = a.length / heads;
  let sum = 0;
  let counted = 0;
  for (let h = 0; h < heads; h++) {
    const s = cosine(Array.prototype.slice.call(a, h * n, (h + 1) * n) as number[], Array.prototype.slice.call(b, h * n, (h + 1) * n) as number[]);
    if (Number.isNaN(s)) continue;
    sum += s;
    counted++;
  }
  return counted > 0 ? sum / counted : NaN;
}

/** Per-head weights [H, T] (head-major) restricted to the given positions, in their order: [H, positions.length]. */
export function gatherPositions(weights: Vec, heads: number, positions: readonly number[]): Float64Array {
  if (!Number.isInteger(heads) || heads < 1 || weights.length % heads !== 0) throw new IclitError(`gatherPositions: ${weights.length} weights do not split into ${heads} heads`);
  const T = weights.length / heads;
  const out = new Float64Array(heads * positions.length);
  positions.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= T) throw new IclitError(`gatherPositions: position ${p} is outside 0..${T - 1}`);
    for (let h = 0; h < heads; h++) out[h * positions.length + i] = weights[h * T + p];
  });
  return out;
}

/** Mean over heads of the weight on positions [start, end): the share of attention a span (e.g. the demonstrations) takes. */
export function spanShare(weights: Vec, heads: number, start: number, end: number): number {
  if (!Number.isInteger(heads) || heads < 1 || weights.length % heads !== 0) throw new IclitError(`spanShare: ${weights.length} weights do not split into ${heads} heads`);
  const T = weights.length / heads;
  if (!(start >= 0 && start <= end && end <= T)) throw new IclitError(`spanShare: span [${start}, ${end}) is outside 0..${T}`);
  let sum = 0;
  for (let h = 0; h < heads; h++) for (let i = start; i < end; i++) sum += weights[h * T + i];
  return sum / heads;
}

/**
 * Each head's row of `weights` ([H, n], head-major) divided by its sum, so every head's weights over these positions
 * sum to 1: rows gathered over a subset of positions (e.g. the positions two prompts share) become distributions that
 * differences can compare regardless of how much weight fell elsewhere. A row summing to zero stays zero.
 */
export function renormaliseHeads(weights: Vec, heads: number): Float64Array {
  if (!Number.isInteger(heads) || heads < 1 || weights.length % heads !== 0) throw new IclitError(`renormaliseHeads: ${weights.length} weights do not split into ${heads} heads`);
  const n = weights.length / heads;
  const out = new Float64Array(weights.length);
  for (let h = 0; h < heads; h++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[h * n + i];
    if (sum !== 0) for (let i = 0; i < n; i++) out[h * n + i] = weights[h * n + i] / sum;
  }
  return out;
}
