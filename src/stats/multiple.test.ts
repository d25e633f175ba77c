// Tests for Holm's adjustment (worked by hand) and the matched-pairs rank-biserial effect size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holmAdjust } from './multiple.js';
import { rankBiserial, wilcoxon } from './wilcoxon.js';
import { IclitError } from '../util/errors.js';

test('holm: a hand-worked family of five (step-down, running maximum, input order kept)', () => {
  // sorted 0.005, 0.01, 0.03, 0.04, 0.2 → ×5, ×4, ×3, ×2, ×1 = 0.025, 0.04, 0.09, 0.08→0.09 (running max), 0.2
  const got = holmAdjust([0.01, 0.04, 0.03, 0.005, 0.2]);
  const want = [0.04, 0.09, 0.09, 0.025, 0.2];
  got.forEach((p, i) => assert.ok(Math.abs(p! - want[i]) < 1e-15, `${i}: ${p} vs ${want[i]}`));
});

test('holm: nulls stay null and do not count; results are capped at 1; one test is unchanged', () => {
  const got = holmAdjust([null, 0.3, null, 0.02]);
  assert.equal(got[0], null);
  assert.equal(got[2], null);
  assert.ok(Math.abs(got[3]! - 0.04) < 1e-15);
  assert.ok(Math.abs(got[1]! - 0.3) < 1e-15);
  assert.deepEqual(holmAdjust([0.6, 0.7]), [1, 1]);
  assert.deepEqual(holmAdjust([0.123]), [0.123]);
  assert.deepEqual(holmAdjust([]), []);
  assert.throws(() => holmAdjust([0.1, NaN]), IclitError);
  assert.throws(() => holmAdjust([1.5]), /expected a number in \[0, 1\]/);
});

test('rank-biserial: (W+ − W−)/(W+ + W−), +1 when every difference is positive', () => {
  assert.equal(rankBiserial(wilcoxon([0.1, 0.2, 0.3])), 1);
  assert.equal(rankBiserial(wilcoxon([-0.1, -0.2, -0.3])), -1);
  // ranks of |d|: 0.1→1, 0.2→2, 0.4→3, 0.8→4; W+ = 1 + 3 + 4 = 8, W− = 2 → (8 − 2)/10
  assert.ok(Math.abs(rankBiserial(wilcoxon([0.1, -0.2, 0.4, 0.8])) - 0.6) < 1e-15);
  assert.ok(Number.isNaN(rankBiserial({ wPlus: 0, wMinus: 0 })));
});
