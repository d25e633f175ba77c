// Tests for the Wilcoxon signed-rank test: every SciPy 1.10 fixture case, the study's footnote values, the exact null distribution, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signedRankCounts, wilcoxon, wilcoxonPaired } from './wilcoxon.js';
import { IclitError } from '../util/errors.js';
import { close, loadScipyReference } from './fixture-testing.js';

// p-values: 1e-9 relative or 1e-12 absolute (the project's tolerance for SciPy agreement).
const P_RTOL = 1e-9;
const P_ATOL = 1e-12;

test('wilcoxon matches every SciPy fixture case (statistic exactly, p within 1e-9 rel / 1e-12 abs)', (t) => {
  const f = loadScipyReference();
  if ('skip' in f) return void t.skip(f.skip);
  let checked = 0;
  for (const c of f.ref.wilcoxon) {
    for (const r of c.results) {
      assert.equal(r.zero_method, 'wilcox');
      const label = `n=${c.d.length} ${r.alternative} ${r.method} correction=${r.correction}`;
      const res = wilcoxon(c.d, { alternative: r.alternative, method: r.method, correction: r.correction });
      assert.equal(res.method, r.method, `${label}: method`);
      assert.equal(res.statistic, r.statistic, `${label}: statistic`);
      assert.ok(close(res.pValue, r.pvalue, P_RTOL, P_ATOL), `${label}: p ${res.pValue} vs ${r.pvalue}`);
      assert.equal(res.zStatistic === undefined, r.method === 'exact', `${label}: zStatistic only for approx`);
      checked++;
    }
  }
  assert.ok(checked >= 90, `only ${checked} fixture results checked`);
});

test("auto picks SciPy's method: exact for small tie-free samples, approx with zeros, ties or n > 50", (t) => {
  const f = loadScipyReference();
  if ('skip' in f) return void t.skip(f.skip);
  for (const c of f.ref.wilcoxon) {
    for (const r of c.results) {
      if (r.correction) continue; // auto + exact ignores the correction flag; compare only uncorrected cases
      const res = wilcoxon(c.d, { alternative: r.alternative });
      const hasZero = c.d.some((x) => x === 0);
      const abs = c.d.filter((x) => x !== 0).map(Math.abs);
      const hasTies = new Set(abs).size !== abs.length;
      const expected = !hasZero && !hasTies && abs.length <= 50 ? 'exact' : 'approx';
      assert.equal(res.method, expected, `n=${c.d.length}`);
      if (res.method === r.method) assert.ok(close(res.pValue, r.pvalue, P_RTOL, P_ATOL));
    }
  }
});

test("the study's footnote values (n = 30, one-tailed 'greater', exact)", () => {
  const allPositive = Array.from({ length: 30 }, (_, i) => (i + 1) / 100);
  const a = wilcoxon(allPositive, { alternative: 'greater' });
  assert.equal(a.method, 'exact');
  assert.equal(a.n, 30);
  assert.equal(a.statistic, 465);
  assert.ok(close(a.pValue, 9.313225746154785e-10, P_RTOL, 0), `all positive: p = ${a.pValue}`);
  assert.equal(a.pValue, 2 ** -30);

  const rank2Negative = allPositive.slice();
  rank2Negative[1] = -rank2Negative[1];
  const b = wilcoxon(rank2Negative, { alternative: 'greater', method: 'exact' });
  assert.equal(b.statistic, 463);
  assert.equal(b.wMinus, 2);
  assert.ok(close(b.pValue, 2.7939677238464355e-9, P_RTOL, 0), `rank 2 negative: p = ${b.pValue}`);
  assert.equal(b.pValue, 3 * 2 ** -30); // W+ ≥ 463 ⇔ negative ranks ⊆ {1}, {2} or none
});

test('exact null distribution: counts sum to 2^n, are symmetric and match enumeration for small n', () => {
  for (const n of [1, 2, 5, 12, 30, 50]) {
    const counts = signedRankCounts(n);
    const max = (n * (n + 1)) / 2;
    assert.equal(counts.length, max + 1);
    let total = 0;
    for (let k = 0; k <= max; k++) {
      total += counts[k];
      assert.equal(counts[k], counts[max - k], `n=${n} symmetry at ${k}`);
    }
    assert.equal(total, 2 ** n, `n=${n} total`);
  }
  // Enumerate the 2^6 sign patterns directly.
  const n = 6;
  const brute = new Array<number>(22).fill(0);
  for (let mask = 0; mask < 1 << n; mask++) {
    let s = 0;
    for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) s += r;
    brute[s]++;
  }
  assert.deepEqual(Array.from(signedRankCounts(n)), brute);
});

test('two-sided exact p is 1 at the centre and symmetric in the sign of d', () => {
  // ranks 1..4: W+ = 1 + 4 = 5 = floor(4·5/4), the centre
  const centre = wilcoxon([1, -2, -3, 4], { method: 'exact' });
  assert.equal(centre.pValue, 1);
  const d = [0.5, -1.2, 2.2, 3.1, 4.4, -0.1, 5.9];
  const p1 = wilcoxon(d).pValue;
  const p2 = wilcoxon(d.map((x) => -x)).pValue;
  assert.equal(p1, p2);
  const g = wilcoxon(d, { alternative: 'greater' }).pValue;
  const l = wilcoxon(d.map((x) => -x), { alternative: 'less' }).pValue;
  assert.equal(g, l);
});

test("explicit 'exact' falls back to 'approx' with zeros or ties, and says so", () => {
  assert.equal(wilcoxon([0, 1, 2, 3, -4], { method: 'exact' }).method, 'approx');
  assert.equal(wilcoxon([1, -1, 2, 3, 4], { method: 'exact' }).method, 'approx');
  const r = wilcoxon([0, 0, 1, 2, 3, -4]);
  assert.equal(r.n, 4);
  assert.equal(r.nZeros, 2);
});

test('wilcoxonPaired tests x − y', () => {
  const x = [1.5, 2.5, 3.0, 4.2, 5.1, 6.6];
  const y = [1.0, 2.9, 2.0, 4.0, 3.0, 2.6];
  const d = x.map((v, i) => v - y[i]);
  assert.deepEqual(wilcoxonPaired(x, y, { alternative: 'greater' }), wilcoxon(d, { alternative: 'greater' }));
  assert.throws(() => wilcoxonPaired([1, 2], [1]), IclitError);
});

test('bad input throws IclitError, never a silent number', () => {
  assert.throws(() => wilcoxon([]), IclitError);
  assert.throws(() => wilcoxon([0, 0, -0]), /all 3 difference\(s\) are zero/);
  assert.throws(() => wilcoxon([1, NaN, 2]), /wilcoxon: d\[1\] is NaN/);
  assert.throws(() => wilcoxon([1, Infinity]), IclitError);
  const big = Array.from({ length: 1001 }, (_, i) => i + 1);
  assert.throws(() => wilcoxon(big, { method: 'exact' }), /n = 1001 > 1000/);
  assert.equal(wilcoxon(big).method, 'approx');
  // @ts-expect-error: invalid option on purpose
  assert.throws(() => wilcoxon([1, 2], { alternative: 'bigger' }), IclitError);
  // @ts-expect-error: invalid option on purpose
  assert.throws(() => wilcoxon([1, 2], { method: 'permutation' }), IclitError);
  // @ts-expect-error: invalid option on purpose
  assert.throws(() => wilcoxon([1, 2], { zeroMethod: 'pratt' }), IclitError);
});
