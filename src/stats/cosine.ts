// Cosine similarity of two number vectors (hidden states compared on the CPU side, in double precision).
import { IclitError } from '../util/errors.js';
import { checkFinite } from './validate.js';

/**
 * cos(a, b) = a·b / (‖a‖ ‖b‖), accumulated in double precision and clamped to [-1, 1] (rounding can push it a
 * hair past). NaN when either vector is all zeros: the angle is undefined there. Lengths must match. This is the
 * study's similarity measure: the runner applies it to every pair of hidden states without further checks.
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine: vectors differ in length (${a.length} vs ${b.length})`);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 || bb === 0) return NaN;
  return Math.max(-1, Math.min(1, dot / (Math.sqrt(aa) * Math.sqrt(bb))));
}

/**
 * cos(a, b) = a·b / (‖a‖ ‖b‖), accumulated in double precision.
 * Returns NaN (documented, not an error) when either vector is all zeros: the angle is undefined there.
 * Throws IclitError on a length mismatch, empty vectors or non-finite entries.
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new IclitError(`cosineSimilarity: vectors differ in length (${a.length} vs ${b.length})`);
  }
  if (a.length === 0) throw new IclitError('cosineSimilarity: vectors are empty');
  checkFinite(a, 'cosineSimilarity: a');
  checkFinite(b, 'cosineSimilarity: b');
  return cosine(a, b);
}
