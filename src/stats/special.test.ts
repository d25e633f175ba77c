// Tests for the special functions against values from SciPy 1.17 (scipy.special / scipy.stats) and exact identities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erf, erfc, logGamma, normalCdf, normalSf, regularizedIncompleteBeta, studentTSf } from './special.js';

function assertRel(actual: number, expected: number, rtol: number, label: string): void {
  const err = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(err <= rtol, `${label}: ${actual} vs ${expected} (relative error ${err}, tolerance ${rtol})`);
}

test('erf and erfc match scipy.special to 1e-14 relative, far into the tail', () => {
  const erfRef: [number, number][] = [
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1.0, 0.8427007929497148],
    [2.0, 0.9953222650189527],
    [-2.0, -0.9953222650189527],
  ];
  for (const [x, e] of erfRef) assertRel(erf(x), e, 1e-14, `erf(${x})`);
  const erfcRef: [number, number][] = [
    [0.3, 0.6713732405408726],
    [1.0, 0.15729920705028516],
    [3.0, 2.2090496998585445e-5],
    [5.0, 1.5374597944280347e-12],
    [10.0, 2.0884875837625446e-45],
    [20.0, 5.395865611607901e-176],
    [-1.5, 1.9661051464753108],
  ];
  for (const [x, e] of erfcRef) assertRel(erfc(x), e, 1e-14, `erfc(${x})`);
  assert.equal(erf(0), 0);
  assert.equal(erfc(0), 1);
  assert.equal(erfc(30), 0);
  assert.ok(Number.isNaN(erf(NaN)));
});

test('normal CDF and survival function match scipy.stats.norm', () => {
  const ref: [number, number][] = [
    [-1.96, 0.024997895148220435],
    [-8.0, 6.22096057427174e-16],
    [0.5, 0.6914624612740131],
    [3.0, 0.9986501019683699],
  ];
  for (const [x, e] of ref) assertRel(normalCdf(x), e, 1e-14, `normalCdf(${x})`);
  assertRel(normalSf(6), 9.865876450376946e-10, 1e-14, 'normalSf(6)');
  assert.equal(normalCdf(0), 0.5);
});

test('logGamma matches scipy.special.gammaln and exact values', () => {
  assertRel(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, 'lnΓ(1/2)');
  assertRel(logGamma(3.7), 1.428072326665388, 1e-14, 'lnΓ(3.7)');
  assertRel(logGamma(10), Math.log(362880), 1e-14, 'lnΓ(10)');
  assertRel(logGamma(100.5), 361.43554046777757, 1e-14, 'lnΓ(100.5)');
  assert.equal(logGamma(1), 0);
  assert.ok(Number.isNaN(logGamma(0)));
});

test('regularized incomplete beta matches scipy.special.betainc and its identities', () => {
  const ref: [number, number, number, number][] = [
    [2.5, 3.5, 0.3, 0.29675298929566646],
    [14, 14, 0.1, 5.633569708213213e-8],
    [0.5, 0.5, 0.2, 0.2951672353008665],
    [5, 0.5, 0.9, 0.3166429150200122],
    [28, 28, 0.01, 2.943121906957748e-41],
  ];
  for (const [a, b, x, e] of ref) assertRel(regularizedIncompleteBeta(x, a, b), e, 1e-12, `I_${x}(${a}, ${b})`);
  for (const x of [0.01, 0.3, 0.77]) {
    assertRel(regularizedIncompleteBeta(x, 1, 1), x, 1e-14, `I_${x}(1,1) = x`);
    assertRel(regularizedIncompleteBeta(x, 3, 1), x ** 3, 1e-14, `I_${x}(3,1) = x³`);
    assertRel(regularizedIncompleteBeta(x, 2.5, 4) + regularizedIncompleteBeta(1 - x, 4, 2.5), 1, 1e-14, 'symmetry');
  }
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
  assert.ok(Number.isNaN(regularizedIncompleteBeta(1.5, 2, 3)));
  assert.ok(Number.isNaN(regularizedIncompleteBeta(0.5, 0, 3)));
});

test("Student's t survival function matches scipy.stats.t.sf", () => {
  const ref: [number, number, number][] = [
    [2.0, 10, 0.03669401738537018],
    [-1.0, 5, 0.8183912661754386],
    [5.0, 28, 1.3866707498906336e-5],
    [0.1, 3, 0.46332617440040297],
  ];
  for (const [t, dof, e] of ref) assertRel(studentTSf(t, dof), e, 1e-12, `t.sf(${t}, ${dof})`);
  assert.equal(studentTSf(0, 7), 0.5);
});
