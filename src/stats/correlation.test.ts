// Tests for Pearson and Spearman correlation against SciPy 1.10 (fixture) and SciPy 1.17 (hand cases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlationPValue, pearson, spearman } from './correlation.js';
import { IclitError } from '../util/errors.js';
import { close, loadScipyReference } from './fixture-testing.js';

test('pearson and spearman match the SciPy fixture (r to 1e-12, p to 1e-9 relative)', (t) => {
  const f = loadScipyReference();
  if ('skip' in f) return void t.skip(f.skip);
  assert.ok(f.ref.correlations.length > 0);
  for (const c of f.ref.correlations) {
    const p = pearson(c.x, c.y);
    const s = spearman(c.x, c.y);
    const n = c.x.length;
    assert.ok(close(p.r, c.pearson[0], 0, 1e-12), `n=${n} pearson r ${p.r} vs ${c.pearson[0]}`);
    assert.ok(close(p.pValue, c.pearson[1], 1e-9, 1e-15), `n=${n} pearson p ${p.pValue} vs ${c.pearson[1]}`);
    assert.ok(close(s.r, c.spearman[0], 0, 1e-12), `n=${n} spearman r ${s.r} vs ${c.spearman[0]}`);
    assert.ok(close(s.pValue, c.spearman[1], 1e-9, 1e-15), `n=${n} spearman p ${s.pValue} vs ${c.spearman[1]}`);
  }
});

test('hand cases from scipy.stats (ties averaged in spearman)', () => {
  const p = pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]);
  assert.ok(close(p.r, 0.8, 0, 1e-15));
  assert.ok(close(p.pValue, 0.10408803866182782, 1e-12, 0), `${p.pValue}`);
  const s = spearman([1, 2, 2, 4, 5], [5, 6, 7, 8, 7]);
  assert.ok(close(s.r, 0.7631578947368421, 0, 1e-15));
  assert.ok(close(s.pValue, 0.13333911953180624, 1e-12, 0), `${s.pValue}`);
});

test('edge cases: perfect correlation, n = 2, constant input', () => {
  const line = pearson([1, 2, 3, 4], [3, 5, 7, 9]);
  assert.equal(line.r, 1);
  assert.equal(line.pValue, 0);
  assert.ok(Math.abs(spearman([1, 2, 3], [30, 20, 10]).r + 1) < 1e-15);
  assert.equal(pearson([1, 2], [5, 3]).pValue, 1);
  const flat = pearson([1, 1, 1], [1, 2, 3]);
  assert.ok(Number.isNaN(flat.r) && Number.isNaN(flat.pValue));
  assert.ok(Math.abs(correlationPValue(0, 10) - 1) < 1e-13);
});

test('correlation rejects unpaired, too short or non-finite input', () => {
  assert.throws(() => pearson([1, 2, 3], [1, 2]), IclitError);
  assert.throws(() => spearman([1], [1]), IclitError);
  assert.throws(() => pearson([1, NaN, 3], [1, 2, 3]), /pearson: x\[1\] is NaN/);
});
