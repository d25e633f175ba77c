// Tests for the attention-pattern measures on hand-built weight rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherPositions, headAveragedCosine, renormaliseHeads, spanShare } from './attention.js';
import { IclitError } from '../util/errors.js';

test('headAveragedCosine: identical rows give 1, orthogonal heads 0, the mean is over heads, zero rows are left out', () => {
  const a = [0.5, 0.5, 0, /* head 1 */ 1, 0, 0];
  const close = (x: number, y: number): void => assert.ok(Math.abs(x - y) < 1e-15, `${x} vs ${y}`);
  close(headAveragedCosine(a, a, 2), 1);
  const b = [0.5, 0.5, 0, /* head 1 */ 0, 1, 0]; // head 0 identical (1), head 1 orthogonal (0)
  close(headAveragedCosine(a, b, 2), 0.5);
  const zeroHead = [0.5, 0.5, 0, 0, 0, 0];
  close(headAveragedCosine(a, zeroHead, 2), 1);
  assert.throws(() => headAveragedCosine([1, 2, 3], [1, 2, 3], 2), IclitError);
});

test('gatherPositions keeps the chosen positions per head, in order; spanShare is the head-mean weight on a span', () => {
  const w = [0.1, 0.2, 0.3, 0.4, /* head 1 */ 0.4, 0.3, 0.2, 0.1];
  assert.deepEqual(Array.from(gatherPositions(w, 2, [3, 0])), [0.4, 0.1, 0.1, 0.4]);
  assert.ok(Math.abs(spanShare(w, 2, 1, 3) - (0.5 + 0.5) / 2) < 1e-15);
  assert.equal(spanShare(w, 2, 2, 2), 0);
  assert.throws(() => gatherPositions(w, 2, [4]), IclitError);
  assert.throws(() => spanShare(w, 2, 3, 5), IclitError);
});

test('renormaliseHeads: each head\'s row sums to 1 (its weights divided by their sum); a zero row stays zero', () => {
  const w = [0.1, 0.3, /* head 1 */ 0.2, 0.2, /* head 2 */ 0, 0];
  const r = Array.from(renormaliseHeads(w, 3));
  const expected = [0.25, 0.75, 0.5, 0.5, 0, 0];
  r.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-15, `${i}: ${v} vs ${expected[i]}`));
  assert.throws(() => renormaliseHeads([1, 2, 3], 2), IclitError);
});
