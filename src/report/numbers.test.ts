// Tests for the report's test wrappers: effect sizes, Page's handling of missing levels and repeats, Holm over distinct tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHolm, notRun, pageTest, signedRankTest } from './numbers.js';
import { pageTrendTest } from '../stats/index.js';

test('signedRankTest reports the rank-biserial r and the median paired difference', () => {
  // |d| ranks: 0.1→1, 0.2→2, 0.4→3, 0.8→4; W+ = 8, W− = 2 → r = 0.6; median of (−0.2, 0.1, 0.4, 0.8) = 0.25
  const t = signedRankTest('x', 'h', [0.1, -0.2, 0.4, 0.8, NaN], 'greater', 3);
  assert.deepEqual([t.test, t.n, t.statistic, t.layer, t.pHolm], ['wilcoxon', 4, 8, 3, null]);
  assert.ok(Math.abs(t.effect! - 0.6) < 1e-15);
  assert.ok(Math.abs(t.medianDifference! - 0.25) < 1e-15);
  assert.match(t.note!, /1 pair\(s\) with NaN left out/);
});

test('pageTest leaves out levels present in under half of the repeats, then incomplete repeats, and says so', () => {
  const rows = [
    [0.1, 0.2, 0.3, NaN, 0.5],
    [0.2, 0.1, 0.4, NaN, 0.6],
    [0.1, 0.3, NaN, NaN, 0.4],
    [0.3, 0.2, 0.5, 0.9, 0.7],
  ];
  const t = pageTest('p', 'rises', rows, 16);
  const want = pageTrendTest([[0.1, 0.2, 0.3, 0.5], [0.2, 0.1, 0.4, 0.6], [0.3, 0.2, 0.5, 0.7]]);
  assert.deepEqual([t.test, t.n, t.statistic, t.pValue, t.effect], ['page', 3, want.statistic, want.pValue, want.meanRankCorrelation]);
  assert.match(t.note!, /1 level\(s\) with values in under half of the repeats left out; 1 repeat\(s\) without a value at every level left out/);
  const few = pageTest('p', 'rises', [[1, 2], [2, 3]], null);
  assert.equal(few.pValue, null);
  assert.match(few.note!, /not run: 2 complete repeat\(s\) over 2 level\(s\), need 2 over 3/);
});

test('applyHolm counts each test object once and skips tests that did not run', () => {
  const a = signedRankTest('a', 'h', [1, 2, 3, 4, 5], 'greater', null); // p = 1/32
  const b = signedRankTest('b', 'h', [1, -2, 3, 4, 5], 'greater', null); // negative ranks ⊆ {}, {1}, {2}: p = 3/32
  const c = notRun('c', 'h', 'wilcoxon', 'greater', null, 'not run: why');
  assert.equal(applyHolm([a, b, a, c]), 2);
  assert.deepEqual([a.pHolm, b.pHolm, c.pHolm], [2 / 32, 3 / 32, null]); // 2 × 1/32, then 1 × 3/32
});
