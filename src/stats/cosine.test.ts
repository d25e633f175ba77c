// Tests for cosine similarity: SciPy reference (1 − scipy.spatial.distance.cosine), hand cases, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineSimilarity } from './cosine.js';
import { IclitError } from '../util/errors.js';
import { close, loadScipyReference } from './fixture-testing.js';

test('cosine matches the SciPy fixture to 1e-12', (t) => {
  const f = loadScipyReference();
  if ('skip' in f) return void t.skip(f.skip);
  assert.ok(f.ref.cosine.length > 0);
  for (const c of f.ref.cosine) {
    const got = cosineSimilarity(c.a, c.b);
    assert.ok(close(got, c.cosine, 0, 1e-12), `n=${c.a.length}: ${got} vs ${c.cosine}`);
  }
});

test('cosine of simple vectors; Float32Array input', () => {
  assert.equal(cosineSimilarity([1, 0], [0, 3]), 0);
  assert.ok(Math.abs(cosineSimilarity([2, 2], [5, 5]) - 1) < 1e-15);
  assert.ok(Math.abs(cosineSimilarity([1, 2, 3], [-1, -2, -3]) + 1) < 1e-15);
  assert.ok(cosineSimilarity([1e-3, 7], [2e-3, 14]) <= 1); // clamped to [−1, 1]
  assert.ok(Math.abs(cosineSimilarity(new Float32Array([1, 1]), new Float32Array([1, 0])) - Math.SQRT1_2) < 1e-15);
});

test('cosine is NaN when either vector is all zeros (documented)', () => {
  assert.ok(Number.isNaN(cosineSimilarity([0, 0, 0], [1, 2, 3])));
  assert.ok(Number.isNaN(cosineSimilarity([1, 2, 3], [0, 0, 0])));
});

test('cosine rejects mismatched, empty or non-finite input', () => {
  assert.throws(() => cosineSimilarity([1, 2], [1, 2, 3]), IclitError);
  assert.throws(() => cosineSimilarity([], []), IclitError);
  assert.throws(() => cosineSimilarity([1, NaN], [1, 2]), /cosineSimilarity: a\[1\] is NaN/);
});
