// Cosine similarity of two number vectors (hidden states compared on the CPU side, in double precision).
import { IclitError } from '../util/errors.js';
import { checkFinite } from './validate.js';
import { cosine } from '../util/vector.js';

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
