// Tests for the next-token distribution measures against hand-worked values and direct float64 sums.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmax, jensenShannon, klDivergence, logSoftmax, probabilityMass } from './distributions.js';
import { IclitError } from '../util/errors.js';

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('logSoftmax: probabilities sum to 1, equal logits give uniform, huge logits do not overflow', () => {
  const lp = logSoftmax([1, 2, 3]);
  const p = Array.from(lp, Math.exp);
  close(p.reduce((s, v) => s + v, 0), 1, 1e-15, 'sum');
  const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
  close(p[2], Math.exp(3) / z, 1e-15, 'p[2]');
  for (const v of logSoftmax([5, 5, 5, 5])) close(v, Math.log(0.25), 1e-15, 'uniform');
  const big = logSoftmax([1000, 1000]);
  close(big[0], Math.log(0.5), 1e-15, 'overflow-safe');
  assert.throws(() => logSoftmax([0, NaN]), IclitError);
});

test('KL of known distributions: Bernoulli(0.5) vs Bernoulli(0.25), zero for identical, infinite off the support', () => {
  const p = [Math.log(0.5), Math.log(0.5)];
  const q = [Math.log(0.25), Math.log(0.75)];
  // KL(p‖q) = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 ln(4/3)
  close(klDivergence(p, q), 0.5 * Math.log(4 / 3), 1e-15, 'KL(p‖q)');
  // KL(q‖p) = 0.25 ln(0.5) + 0.75 ln(1.5)
  close(klDivergence(q, p), 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5), 1e-15, 'KL(q‖p)');
  assert.equal(klDivergence(p, p), 0);
  assert.equal(klDivergence(p, [0, -Infinity]), Infinity);
  assert.equal(klDivergence([0, -Infinity], p), Math.log(2)); // p = (1, 0): terms with p = 0 vanish
  assert.throws(() => klDivergence([0], [0, 0]), IclitError);
});

test('Jensen–Shannon: symmetric, ln 2 for disjoint supports, hand value for two Bernoullis', () => {
  const p = [Math.log(0.5), Math.log(0.5)];
  const q = [Math.log(0.25), Math.log(0.75)];
  const m = [0.375, 0.625];
  const want = 0.5 * (0.5 * Math.log(0.5 / m[0]) + 0.5 * Math.log(0.5 / m[1])) + 0.5 * (0.25 * Math.log(0.25 / m[0]) + 0.75 * Math.log(0.75 / m[1]));
  close(jensenShannon(p, q), want, 1e-15, 'JS');
  close(jensenShannon(q, p), want, 1e-15, 'JS symmetric');
  close(jensenShannon([0, -Infinity], [-Infinity, 0]), Math.LN2, 1e-15, 'disjoint');
  assert.equal(jensenShannon(q, q), 0);
});

test('KL and JS from logits of a 50-token vocabulary match a plain float64 sum written out here', () => {
  let s = 7;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 8 - 4;
  const a = Array.from({ length: 50 }, rnd);
  const b = Array.from({ length: 50 }, rnd);
  const softmax = (x: number[]): number[] => {
    const e = x.map(Math.exp);
    const z = e.reduce((t, v) => t + v, 0);
    return e.map((v) => v / z);
  };
  const p = softmax(a);
  const q = softmax(b);
  const kl = p.reduce((t, pi, i) => t + pi * Math.log(pi / q[i]), 0);
  const js = p.reduce((t, pi, i) => {
    const mi = (pi + q[i]) / 2;
    return t + 0.5 * pi * Math.log(pi / mi) + 0.5 * q[i] * Math.log(q[i] / mi);
  }, 0);
  close(klDivergence(logSoftmax(a), logSoftmax(b)), kl, 1e-12, 'KL');
  close(jensenShannon(logSoftmax(a), logSoftmax(b)), js, 1e-12, 'JS');
});

test('argmax takes the first of ties; probabilityMass sums label tokens once each and refuses ids outside the vocabulary', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  const lp = logSoftmax([0, 0, 0, 0]);
  close(probabilityMass(lp, [1, 3]), 0.5, 1e-15, 'two of four');
  close(probabilityMass(lp, [1, 1]), 0.25, 1e-15, 'duplicate id counted once');
  assert.throws(() => probabilityMass(lp, [4]), IclitError);
  assert.throws(() => argmax([]), IclitError);
});
