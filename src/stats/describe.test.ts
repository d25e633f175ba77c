// Tests for describe(): summary statistics that skip NaN and count it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe as summarize } from './describe.js';

test('describe summarises non-NaN values and counts NaN', () => {
  const d = summarize([4, NaN, 1, 3, 2, NaN]);
  assert.equal(d.n, 4);
  assert.equal(d.nNaN, 2);
  assert.equal(d.mean, 2.5);
  assert.equal(d.median, 2.5);
  assert.equal(d.q1, 1.75);
  assert.equal(d.q3, 3.25);
  assert.equal(d.iqr, 1.5);
  assert.equal(d.min, 1);
  assert.equal(d.max, 4);
  assert.ok(Math.abs(d.std - Math.sqrt(5 / 3)) < 1e-15); // sample std, ddof = 1
});

test('describe of one value has NaN std; of none, NaN everywhere with n = 0', () => {
  const one = summarize([5]);
  assert.equal(one.n, 1);
  assert.equal(one.median, 5);
  assert.ok(Number.isNaN(one.std));
  const none = summarize([NaN, NaN]);
  assert.equal(none.n, 0);
  assert.equal(none.nNaN, 2);
  assert.ok(Number.isNaN(none.mean) && Number.isNaN(none.median) && Number.isNaN(none.min));
});
