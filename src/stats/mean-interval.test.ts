// The Student-t mean interval against published t quantiles and a hand-computed interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanTInterval, studentTQuantileUpper } from './mean-interval.js';

test('t quantiles match published values to 1e-9 (scipy.stats.t.ppf)', () => {
  const cases: [p: number, dof: number, t: number][] = [
    [0.025, 4, 2.7764451051977987],
    [0.025, 29, 2.045229642132703],
    [0.05, 1, 6.313751514675041],
    [0.5, 7, 0],
  ];
  for (const [p, dof, t] of cases) assert.ok(Math.abs(studentTQuantileUpper(p, dof) - t) < 1e-9, `t(${p}, ${dof}) = ${studentTQuantileUpper(p, dof)}`);
  assert.throws(() => studentTQuantileUpper(0.7, 3), /outside \(0, 0\.5\]/);
});

test('meanTInterval: 1..5 gives 3 ± 2.7764451·√(2.5/5); NaN values are left out; one value has no interval', () => {
  const r = meanTInterval([1, NaN, 2, 3, 4, 5]);
  const half = 2.7764451051977987 * Math.sqrt(2.5 / 5);
  assert.equal(r.n, 5);
  assert.equal(r.mean, 3);
  assert.ok(Math.abs(r.lower - (3 - half)) < 1e-9 && Math.abs(r.upper - (3 + half)) < 1e-9);
  const one = meanTInterval([0.4]);
  assert.equal(one.mean, 0.4);
  assert.ok(Number.isNaN(one.lower) && Number.isNaN(one.upper));
  assert.throws(() => meanTInterval([1, 2], 1), /confidence 1/);
});
