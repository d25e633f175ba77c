// Tests for similarity bins: edges, clamping, per-bin seeded picks, explicit records for short bins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IclitError } from '../util/errors.js';
import { binOf, pickPerBin } from './bins.js';

const TEN = { nBins: 10 };

test('binOf: equal bins over [0, 1], hi in the last bin, clamping outside', () => {
  assert.equal(binOf(0, TEN), 0);
  assert.equal(binOf(0.05, TEN), 0);
  assert.equal(binOf(0.1, TEN), 1);
  assert.equal(binOf(0.3, TEN), 3);
  assert.equal(binOf(0.999, TEN), 9);
  assert.equal(binOf(1, TEN), 9);
  assert.equal(binOf(1.0000001, TEN), 9);
  assert.equal(binOf(-0.2, TEN), 0);
  assert.equal(binOf(0.5, { nBins: 4, lo: -1, hi: 1 }), 3);
  assert.equal(binOf(-0.5, { nBins: 4, lo: -1, hi: 1 }), 1);
  assert.throws(() => binOf(Number.NaN, TEN), IclitError);
  assert.throws(() => binOf(0.5, { nBins: 10, lo: 1, hi: 1 }), /lo < hi/);
  assert.throws(() => binOf(0.5, { nBins: 0 }), /nBins/);
});

test('pickPerBin: k per bin from the right bin, explicit missing records, deterministic', () => {
  // bin b gets b + 1 candidates (values b/10 + 0.05), so with k = 3 bins 0 and 1 are short
  const sims: number[] = [];
  for (let b = 0; b < 10; b++) for (let j = 0; j <= b; j++) sims.push(b / 10 + 0.05);
  const out = pickPerBin(sims, { k: 3, seed: 11, nBins: 10 });
  assert.equal(out.length, 10);
  assert.deepEqual(out[0], { bin: 0, lo: 0, hi: 0.1, available: 1, picked: [], missing: true });
  assert.deepEqual(out[1], { bin: 1, lo: 0.1, hi: 0.2, available: 2, picked: [], missing: true });
  for (const r of out.slice(2)) {
    assert.equal(r.missing, false);
    assert.equal(r.available, r.bin + 1);
    assert.equal(new Set(r.picked).size, 3);
    for (const i of r.picked) assert.equal(binOf(sims[i], TEN), r.bin);
  }
  assert.equal(out[9].hi, 1);
  assert.deepEqual(out.map((r) => r.lo), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  assert.deepEqual(pickPerBin(sims, { k: 3, seed: 11, nBins: 10 }), out);
  assert.notDeepEqual(pickPerBin(sims, { k: 3, seed: 12, nBins: 10 }).map((r) => r.picked), out.map((r) => r.picked));
});

test('pickPerBin: excluded candidates are never picked; NaN is an error naming the candidate', () => {
  const sims = [0.95, 0.96, 0.97, 0.15];
  const out = pickPerBin(sims, { k: 2, seed: 1, nBins: 10, excludeIndex: [0] });
  assert.deepEqual(out[9].picked.slice().sort(), [1, 2]);
  assert.equal(out[9].available, 2);
  assert.deepEqual(out[1], { bin: 1, lo: 0.1, hi: 0.2, available: 1, picked: [], missing: true });
  assert.throws(() => pickPerBin([0.1, Number.NaN], { k: 1, seed: 1, nBins: 10 }), /candidate 1 is NaN/);
  assert.throws(() => pickPerBin([0.1], { k: 0, seed: 1, nBins: 10 }), /positive integer/);
  // clamped values count in the end bins
  const clamped = pickPerBin(new Float32Array([-0.3, 1.2]), { k: 1, seed: 2, nBins: 10 });
  assert.deepEqual([clamped[0].picked, clamped[9].picked], [[0], [1]]);
});

test('pickPerBin with quantile edges: equal candidate counts in similarity order, edges the bin extremes', () => {
  // 10 candidates, similarities crowded near 0.8 (equal-width bins would leave most bins empty)
  const sims = [0.81, 0.8, 0.83, 0.79, 0.85, 0.82, 0.84, 0.78, 0.86, 0.2];
  const out = pickPerBin(sims, { k: 1, seed: 3, nBins: 5, edges: 'quantile', excludeIndex: 9 });
  // 9 candidates over 5 bins: ranks [0,1) [1,3) [3,5) [5,7) [7,9)
  assert.deepEqual(out.map((r) => r.available), [1, 2, 2, 2, 2]);
  assert.deepEqual(out.map((r) => [r.lo, r.hi]), [[0.78, 0.78], [0.79, 0.8], [0.81, 0.82], [0.83, 0.84], [0.85, 0.86]]);
  for (const r of out) for (const i of r.picked) assert.ok(sims[i] >= r.lo && sims[i] <= r.hi);
  assert.ok(out.every((r) => !r.missing) && out.flatMap((r) => r.picked).every((i) => i !== 9));
  const equal = pickPerBin(sims, { k: 1, seed: 3, nBins: 5, excludeIndex: 9 });
  assert.deepEqual(equal.map((r) => r.available), [0, 0, 0, 2, 7]);
});
