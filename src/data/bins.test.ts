// Tests for similarity bins: edges, clamping, per-bin seeded picks, explicit records for short bins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IclitError } from '../util/errors.js';
import { binOf, pickPerBin } from './bins.js';

test('binOf: equal bins over [0, 1], hi in the last bin, clamping outside', () => {
  assert.equal(binOf(0), 0);
  assert.equal(binOf(0.05), 0);
  assert.equal(binOf(0.1), 1);
  assert.equal(binOf(0.3), 3);
  assert.equal(binOf(0.999), 9);
  assert.equal(binOf(1), 9);
  assert.equal(binOf(1.0000001), 9);
  assert.equal(binOf(-0.2), 0);
  assert.equal(binOf(0.5, { nBins: 4, lo: -1, hi: 1 }), 3);
  assert.equal(binOf(-0.5, { nBins: 4, lo: -1, hi: 1 }), 1);
  assert.throws(() => binOf(Number.NaN), IclitError);
  assert.throws(() => binOf(0.5, { lo: 1, hi: 1 }), /lo < hi/);
  assert.throws(() => binOf(0.5, { nBins: 0 }), /nBins/);
});

test('pickPerBin: k per bin from the right bin, explicit missing records, deterministic', () => {
  // bin b gets b + 1 candidates (values b/10 + 0.05), so with k = 3 bins 0 and 1 are short
  const sims: number[] = [];
  for (let b = 0; b < 10; b++) for (let j = 0; j <= b; j++) sims.push(b / 10 + 0.05);
  const out = pickPerBin(sims, { k: 3, seed: 11 });
  assert.equal(out.length, 10);
  assert.deepEqual(out[0], { bin: 0, lo: 0, hi: 0.1, available: 1, picked: [], missing: true });
  assert.deepEqual(out[1], { bin: 1, lo: 0.1, hi: 0.2, available: 2, picked: [], missing: true });
  for (const r of out.slice(2)) {
    assert.equal(r.missing, false);
    assert.equal(r.available, r.bin + 1);
    assert.equal(new Set(r.picked).size, 3);
    for (const i of r.picked) assert.equal(binOf(sims[i]), r.bin);
  }
  assert.equal(out[9].hi, 1);
  assert.deepEqual(out.map((r) => r.lo), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  assert.deepEqual(pickPerBin(sims, { k: 3, seed: 11 }), out);
  assert.notDeepEqual(pickPerBin(sims, { k: 3, seed: 12 }).map((r) => r.picked), out.map((r) => r.picked));
});

test('pickPerBin: excluded candidates are never picked; NaN is an error naming the candidate', () => {
  const sims = [0.95, 0.96, 0.97, 0.15];
  const out = pickPerBin(sims, { k: 2, seed: 1, excludeIndex: [0] });
  assert.deepEqual(out[9].picked.slice().sort(), [1, 2]);
  assert.equal(out[9].available, 2);
  assert.deepEqual(out[1], { bin: 1, lo: 0.1, hi: 0.2, available: 1, picked: [], missing: true });
  assert.throws(() => pickPerBin([0.1, Number.NaN], { k: 1, seed: 1 }), /candidate 1 is NaN/);
  assert.throws(() => pickPerBin([0.1], { k: 0, seed: 1 }), /positive integer/);
  // clamped values count in the end bins
  const clamped = pickPerBin(new Float32Array([-0.3, 1.2]), { k: 1, seed: 2 });
  assert.deepEqual([clamped[0].picked, clamped[9].picked], [[0], [1]]);
});
