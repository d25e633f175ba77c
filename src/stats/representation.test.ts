// Tests for the hidden-state measures against hand-worked cases and direct float64 computations (invariances, planted dims, brute-force null).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  centredCosine,
  centredGram,
  cosineExcluding,
  linearCka,
  massiveDimensions,
  meanAbsVector,
  meanVector,
  mismatchedCosineMeans,
  updateCosine,
  normalisedUpdateCosine,
  dimensionMoments,
  standardisedCosine,
  unbiasedHsic,
  debiasedLinearCka,
} from './representation.js';
import { cosine } from './cosine.js';
import { seededRandom } from '../util/random.js';
import { IclitError } from '../util/errors.js';

/** Standard normal draws (Box–Muller) from a seeded PRNG. */
function gaussian(seed: number): () => number {
  const rng = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}
const randomVectors = (n: number, c: number, seed: number): number[][] => {
  const g = gaussian(seed);
  return Array.from({ length: n }, () => Array.from({ length: c }, g));
};
/** Plain float64 cosine written out here, independent of src/stats. */
function cos64(a: number[], b: number[]): number {
  let d = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return d / Math.sqrt(aa * bb);
}

test('updateCosine: hand cases (orthogonal updates 0, 2/√5, −1) and NaN for a zero update', () => {
  const anchor = [1, 1, 0];
  assert.equal(updateCosine(anchor, [2, 1, 0], [1, 2, 0]), 0); // updates (1,0,0) and (0,1,0)
  assert.ok(Math.abs(updateCosine(anchor, [2, 1, 0], [3, 1, 1]) - 2 / Math.sqrt(5)) < 1e-15); // (1,0,0)·(2,0,1)
  assert.ok(Math.abs(updateCosine(anchor, [2, 1, 0], [0, 1, 0]) + 1) < 1e-15);
  assert.ok(Number.isNaN(updateCosine(anchor, anchor, [3, 1, 1])));
  assert.ok(Math.abs(updateCosine(new Float32Array([0.5, -1]), new Float32Array([1.5, -1]), new Float32Array([2.5, -1])) - 1) < 1e-15);
  assert.throws(() => updateCosine([1, 2], [1, 2, 3], [1, 2]), RangeError);
});

test('centring removes a shared offset: centredCosine(o + x, o + y, o) = cos(x, y) while the raw cosine is ≈ 1', () => {
  const [x, y, o0] = randomVectors(3, 32, 1);
  const o = o0.map((v) => 100 + 10 * v);
  const a = o.map((v, i) => v + x[i]);
  const b = o.map((v, i) => v + y[i]);
  assert.ok(cosine(a, b) > 0.99, `raw ${cosine(a, b)}`);
  assert.ok(Math.abs(centredCosine(a, b, o) - cos64(x, y)) < 1e-12, `${centredCosine(a, b, o)} vs ${cos64(x, y)}`);
  // hand case: mean of the two vectors removed → opposite vectors
  assert.ok(Math.abs(centredCosine([3, 1], [1, 3], meanVector([[3, 1], [1, 3]])) + 1) < 1e-15);
});

test('meanVector and meanAbsVector by hand; ragged input throws', () => {
  assert.deepEqual(Array.from(meanVector([[1, -2], [3, 4]])), [2, 1]);
  assert.deepEqual(Array.from(meanAbsVector([[1, -2], [-3, 4]])), [2, 3]);
  assert.throws(() => meanVector([[1, 2], [1]]), /vector 1 has 1 dimensions/);
  assert.throws(() => meanVector([]), IclitError);
});

test('massive dimensions: threshold by hand, a planted huge dimension is found and leaving it out restores the cosine of the rest', () => {
  assert.deepEqual(massiveDimensions([1, 1, 1, 1, 150]), [4]);
  assert.deepEqual(massiveDimensions([1, 1, 1, 99]), []); // 99 < 100 × median 1
  assert.deepEqual(massiveDimensions([1, 1, 1, 99], 50), [3]);
  assert.deepEqual(massiveDimensions([0, 0, 0, 5]), []); // median 0: no reference scale
  assert.throws(() => massiveDimensions([1, 2], 0), IclitError);

  const vs = randomVectors(20, 64, 2);
  for (const v of vs) {
    v[7] = 2000 + v[7];
    v[41] = -1500 + v[41];
  }
  const dims = massiveDimensions(meanAbsVector(vs));
  assert.deepEqual(dims, [7, 41]);
  const [a, b] = vs;
  const rest = (v: number[]) => v.filter((_, i) => i !== 7 && i !== 41);
  assert.ok(cosine(a, b) > 0.99, 'the massive dims dominate the raw cosine');
  assert.ok(Math.abs(cosineExcluding(a, b, dims) - cos64(rest(a), rest(b))) < 1e-12);
  assert.ok(Math.abs(cosineExcluding(a, b, []) - cosine(a, b)) === 0);
  assert.ok(Number.isNaN(cosineExcluding([5, 0], [6, 0], [0])));
  assert.throws(() => cosineExcluding([1, 2], [1, 2], [2]), RangeError);
});

test('permutation null: mismatchedCosineMeans equals a brute-force loop over r′ ≠ r', () => {
  const icl = randomVectors(6, 16, 3);
  const it = randomVectors(6, 16, 4);
  const got = mismatchedCosineMeans(icl, it);
  for (let r = 0; r < 6; r++) {
    let s = 0;
    for (let q = 0; q < 6; q++) if (q !== r) s += cos64(icl[r], it[q]);
    assert.ok(Math.abs(got[r] - s / 5) < 1e-12, `r=${r}: ${got[r]} vs ${s / 5}`);
  }
  // hand case: ICL_0 = IT_1 and ICL_1 = IT_0 → the mismatched pairs are identical vectors
  assert.deepEqual(mismatchedCosineMeans([[1, 0], [0, 1]], [[0, 2], [3, 0]]), [1, 1]);
  assert.ok(mismatchedCosineMeans([[1, 0]], [[1, 0]]).every(Number.isNaN));
  assert.throws(() => mismatchedCosineMeans([[1, 0]], []), IclitError);
});

/** A random orthogonal C×C matrix: the product of three Householder reflections. */
function orthogonal(c: number, seed: number): number[][] {
  let q: number[][] = Array.from({ length: c }, (_, i) => Array.from({ length: c }, (_, j) => (i === j ? 1 : 0)));
  for (const v of randomVectors(3, c, seed)) {
    const vv = v.reduce((s, x) => s + x * x, 0);
    const h = v.map((vi, i) => v.map((vj, j) => (i === j ? 1 : 0) - (2 * vi * vj) / vv));
    q = q.map((row) => h[0].map((_, j) => row.reduce((s: number, x: number, k: number) => s + x * h[k][j], 0)));
  }
  return q;
}
const matmul = (x: number[][], q: number[][]) => x.map((row) => q[0].map((_, j) => row.reduce((s, v, k) => s + v * q[k][j], 0)));

test('linear CKA: a hand case, CKA(X, XQ) = 1 for orthogonal Q, CKA(X, aX) = 1, and the feature-space form in float64', () => {
  // one feature: CKA = squared Pearson correlation; x = 1,2,3 and y = 1,0,2 → r = 0.5
  assert.ok(Math.abs(linearCka([[1], [2], [3]], [[1], [0], [2]]) - 0.25) < 1e-15);
  const x = randomVectors(8, 12, 5);
  const q = orthogonal(12, 6);
  assert.ok(Math.abs(linearCka(x, matmul(x, q)) - 1) < 1e-12);
  assert.ok(Math.abs(linearCka(x, x.map((r) => r.map((v) => -3.5 * v))) - 1) < 1e-12);
  // feature form ‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F) computed directly
  const y = randomVectors(8, 5, 7);
  const centre = (m: number[][]) => {
    const mean = m[0].map((_, j) => m.reduce((s, r) => s + r[j], 0) / m.length);
    return m.map((r) => r.map((v, j) => v - mean[j]));
  };
  const cross = (a: number[][], b: number[][]) => {
    let s = 0;
    for (let i = 0; i < a[0].length; i++)
      for (let j = 0; j < b[0].length; j++) {
        let d = 0;
        for (let k = 0; k < a.length; k++) d += a[k][i] * b[k][j];
        s += d * d;
      }
    return s;
  };
  const xc = centre(x);
  const yc = centre(y);
  const want = cross(yc, xc) / Math.sqrt(cross(xc, xc) * cross(yc, yc));
  assert.ok(Math.abs(linearCka(x, y) - want) < 1e-12, `${linearCka(x, y)} vs ${want}`);
  // shifting either set by a constant vector changes nothing (columns are centred)
  assert.ok(Math.abs(linearCka(x.map((r) => r.map((v) => v + 50)), y) - want) < 1e-12);
});

test('linear CKA is NaN with fewer than 2 rows or no variance; unpaired sets throw; the centred Gram matrix by hand', () => {
  assert.ok(Number.isNaN(linearCka([[1, 2]], [[3, 4]])));
  assert.ok(Number.isNaN(linearCka([[1, 2], [1, 2]], [[3, 4], [5, 6]])));
  assert.throws(() => linearCka([[1], [2]], [[1]]), IclitError);
  // rows (0,0) and (2,0): centred (−1,0), (1,0) → Gram [[1, −1], [−1, 1]]
  assert.deepEqual(Array.from(centredGram([[0, 0], [2, 0]])), [1, -1, -1, 1]);
});

test('normalisedUpdateCosine (SimAOU) equals the update cosine of the unit-normalised states; a rescaled state does not move it', () => {
  const [a, i, t] = randomVectors(3, 16, 11);
  const unit = (v: number[]): number[] => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / n);
  };
  const ua = unit(a);
  const want = cos64(unit(i).map((x, k) => x - ua[k]), unit(t).map((x, k) => x - ua[k]));
  assert.ok(Math.abs(normalisedUpdateCosine(a, i, t) - want) < 1e-12);
  assert.ok(Math.abs(normalisedUpdateCosine(a.map((x) => 50 * x), i, t.map((x) => 3 * x)) - want) < 1e-12);
  assert.ok(Number.isNaN(normalisedUpdateCosine([0, 0], [1, 0], [0, 1])));
});

test('standardisedCosine: a rogue dimension decides the raw cosine but not the standardised one; equals a z-score cosine written out here', () => {
  const base = randomVectors(20, 8, 5);
  // dimension 0 carries a huge shared value that varies little: the raw cosine of any two states is ≈ 1
  const states = base.map((v) => [1000 + v[0], ...v.slice(1)]);
  const m = dimensionMoments(states);
  assert.ok(cosine(states[0], states[1]) > 0.99);
  const z = (v: number[]): number[] => v.map((x, k) => (x - m.mean[k]) / m.std[k]);
  const want = cos64(z(states[0]), z(states[1]));
  assert.ok(Math.abs(standardisedCosine(states[0], states[1], m) - want) < 1e-12);
  assert.ok(Math.abs(standardisedCosine(states[0], states[1], m)) < 0.9);
  // a constant dimension is left out rather than divided by zero
  const flat = states.map((v) => [...v, 7]);
  assert.ok(Math.abs(standardisedCosine(flat[0], flat[1], dimensionMoments(flat)) - want) < 1e-12);
});

/** HSIC's U-statistic by brute force over ordered distinct 4-tuples (Song et al. 2012), on raw linear kernels. */
function hsicBruteForce(x: number[][], y: number[][]): number {
  const n = x.length;
  const k = (i: number, j: number): number => x[i].reduce((s, v, d) => s + v * x[j][d], 0);
  const l = (i: number, j: number): number => y[i].reduce((s, v, d) => s + v * y[j][d], 0);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let q = 0; q < n; q++)
        for (let r = 0; r < n; r++) {
          if (new Set([i, j, q, r]).size < 4) continue;
          sum += k(i, j) * l(i, j) + k(i, j) * l(q, r) - 2 * k(i, j) * l(i, q);
          count++;
        }
  return sum / count;
}

test('unbiasedHsic equals the brute-force U-statistic over 4-tuples (on uncentred kernels: centring does not move it)', () => {
  const x = randomVectors(7, 5, 21).map((v) => v.map((e) => e + 3));
  const y = randomVectors(7, 4, 22);
  const got = unbiasedHsic(centredGram(x), centredGram(y), 7);
  const want = hsicBruteForce(x, y);
  assert.ok(Math.abs(got - want) < 1e-9 * Math.max(1, Math.abs(want)), `${got} vs ${want}`);
  assert.throws(() => unbiasedHsic(new Float64Array(9), new Float64Array(9), 3), IclitError);
});

test('debiasedLinearCka: 1 for a rotated copy, ≈ 0 for unrelated sets where n ≪ dimensions (biased CKA is far from 0 there)', () => {
  const x = randomVectors(30, 512, 31);
  const y = randomVectors(30, 512, 32);
  const biased = linearCka(x, y);
  const debiased = debiasedLinearCka(x, y);
  assert.ok(biased > 0.5, `biased CKA of unrelated sets ${biased}`);
  assert.ok(Math.abs(debiased) < 0.1, `debiased CKA of unrelated sets ${debiased}`);
  // a permutation of coordinates and a sign flip are orthogonal transforms; scaling is isotropic
  const rotated = x.map((v) => v.map((_, d) => -2.5 * v[(d + 7) % 512]));
  assert.ok(Math.abs(debiasedLinearCka(x, rotated) - 1) < 1e-12);
  assert.ok(Number.isNaN(debiasedLinearCka(x.slice(0, 3), y.slice(0, 3))));
});
