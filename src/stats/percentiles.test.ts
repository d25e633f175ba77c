// Tests for percentiles (NumPy linear, via the SciPy/NumPy fixture) and box-plot statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxStats, median, percentile, percentiles } from './percentiles.js';
import { IclitError } from '../util/errors.js';
import { close, loadScipyReference } from './fixture-testing.js';

test('percentiles match np.percentile (linear) from the fixture to 1e-12', (t) => {
  const f = loadScipyReference();
  if ('skip' in f) return void t.skip(f.skip);
  assert.ok(f.ref.percentiles.length > 0);
  for (const c of f.ref.percentiles) {
    const got = percentiles(c.x, c.q);
    c.q.forEach((q, i) => {
      assert.ok(close(got[i], c.linear[i], 0, 1e-12), `n=${c.x.length} q=${q}: ${got[i]} vs ${c.linear[i]}`);
      assert.ok(close(percentile(c.x, q), c.linear[i], 0, 1e-12));
    });
  }
});

test('linear interpolation by hand', () => {
  const x = [4, 1, 3, 2]; // sorted 1 2 3 4, index = 3q/100
  assert.equal(percentile(x, 0), 1);
  assert.equal(percentile(x, 100), 4);
  assert.equal(median(x), 2.5);
  assert.equal(percentile(x, 25), 1.75);
  assert.equal(percentile(x, 75), 3.25);
  assert.equal(percentile([7], 33), 7);
});

test('boxStats: quartiles, Tukey whiskers at the furthest data within 1.5·IQR, outliers', () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30, -20];
  const b = boxStats(x);
  // sorted: -20 1 2 … 10 30; n = 12, q1 at index 2.75, q3 at index 8.25
  assert.equal(b.n, 12);
  assert.equal(b.q1, 2.75);
  assert.equal(b.median, 5.5);
  assert.equal(b.q3, 8.25);
  assert.equal(b.iqr, 5.5);
  // fences: 2.75 − 8.25 = −5.5 and 8.25 + 8.25 = 16.5
  assert.equal(b.whiskerLow, 1);
  assert.equal(b.whiskerHigh, 10);
  assert.deepEqual(b.outliers, [-20, 30]);
  assert.equal(b.mean, 65 / 12);
  assert.equal(b.min, -20);
  assert.equal(b.max, 30);
  const flat = boxStats([2, 2, 2]);
  assert.deepEqual([flat.whiskerLow, flat.whiskerHigh, flat.outliers], [2, 2, []]);
});

test('percentile and boxStats reject NaN, empty input and q outside [0, 100]', () => {
  assert.throws(() => percentile([1, NaN], 50), /percentile: values\[1\] is NaN/);
  assert.throws(() => percentile([], 50), IclitError);
  assert.throws(() => percentile([1, 2], 101), IclitError);
  assert.throws(() => boxStats([]), IclitError);
  assert.throws(() => boxStats([1, NaN]), IclitError);
});
