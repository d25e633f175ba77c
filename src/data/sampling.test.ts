// Tests for seeded sampling: derived seeds, sampling without replacement, repeat draws (determinism, exclusion, balance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import { deriveSeed, drawnExamples, drawRepeat, sampleWithoutReplacement, shuffle } from './sampling.js';
import type { SentimentExample } from './types.js';

test('deriveSeed is the documented SHA-256 prefix, stable and label-sensitive', () => {
  const expected = createHash('sha256').update('[7,"repeat",3]').digest().readUInt32BE(0);
  assert.equal(deriveSeed(7, 'repeat', 3), expected);
  assert.equal(deriveSeed(7, 'repeat', 3), deriveSeed(7, 'repeat', 3));
  assert.notEqual(deriveSeed(7, 'repeat', 3), deriveSeed(7, 'repeat', '3'));
  assert.notEqual(deriveSeed(7, 'repeat', 3), deriveSeed(8, 'repeat', 3));
  const s = deriveSeed(0);
  assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  assert.throws(() => deriveSeed(1.5), IclitError);
  // 1000 repeats get 1000 different seeds
  assert.equal(new Set(Array.from({ length: 1000 }, (_, r) => deriveSeed(42, 'repeat', r))).size, 1000);
});

test('sampleWithoutReplacement: distinct, deterministic, prefix-stable in k, uniform enough', () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  const a = sampleWithoutReplacement(items, 10, seededRandom(5));
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(sampleWithoutReplacement(items, 10, seededRandom(5)), a);
  assert.deepEqual(sampleWithoutReplacement(items, 4, seededRandom(5)), a.slice(0, 4));
  assert.deepEqual(shuffle(items, seededRandom(1)).sort((x, y) => x - y), items);
  assert.throws(() => sampleWithoutReplacement(items, 21, seededRandom(1)), /cannot draw 21 distinct items from 20/);
  assert.throws(() => sampleWithoutReplacement(items, -1, seededRandom(1)), IclitError);
  // each of 5 items is picked in a 2-of-5 draw with probability 0.4
  const counts = [0, 0, 0, 0, 0];
  const rng = seededRandom(9);
  for (let t = 0; t < 20000; t++) for (const i of sampleWithoutReplacement([0, 1, 2, 3, 4], 2, rng)) counts[i]++;
  for (const c of counts) assert.ok(Math.abs(c / 20000 - 0.4) < 0.02, `frequency ${c / 20000}`);
});

const data: SentimentExample[] = Array.from({ length: 40 }, (_, i) => ({ text: `review ${i}`, label: (i % 4 === 0 ? 1 : 0) as 0 | 1 }));
const pool = Array.from({ length: 30 }, (_, i) => `instruction ${i}`);

test('drawRepeat: same seed, same draw; different seeds differ; inference example never a demonstration', () => {
  const d = drawRepeat(pool, data, { k: 5, seed: 123 });
  assert.deepEqual(drawRepeat(pool, data, { k: 5, seed: 123 }), d);
  assert.notDeepEqual(drawRepeat(pool, data, { k: 5, seed: 124 }), d);
  for (let seed = 0; seed < 300; seed++) {
    const r = drawRepeat(pool, data, { k: 10, seed });
    assert.ok(r.instructionIndex >= 0 && r.instructionIndex < 30);
    assert.equal(new Set(r.demonstrationIndices).size, 10);
    assert.ok(!r.demonstrationIndices.includes(r.inferenceIndex), `seed ${seed}`);
    for (const i of [...r.demonstrationIndices, r.inferenceIndex]) assert.ok(i >= 0 && i < 40);
  }
  // changing k keeps the instruction and the inference example, and the demonstrations are nested
  const big = drawRepeat(pool, data, { k: 12, seed: 123 });
  assert.equal(big.instructionIndex, d.instructionIndex);
  assert.equal(big.inferenceIndex, d.inferenceIndex);
  assert.deepEqual(big.demonstrationIndices.slice(0, 5), d.demonstrationIndices);
  const ex = drawnExamples(d, data);
  assert.deepEqual(ex.demonstrations, d.demonstrationIndices.map((i) => data[i]));
  assert.equal(ex.inference, data[d.inferenceIndex]);
  assert.throws(() => drawnExamples(d, data.slice(0, 1)), /outside the data/);
  // pool as a size
  assert.deepEqual(drawRepeat(30, data, { k: 5, seed: 123 }), d);
});

test('drawRepeat: excludeIndex and a fixed inferenceIndex are honoured', () => {
  const exclude = Array.from({ length: 30 }, (_, i) => i); // only rows 30..39 remain
  for (let seed = 0; seed < 100; seed++) {
    const r = drawRepeat(pool, data, { k: 9, seed, excludeIndex: exclude });
    for (const i of [...r.demonstrationIndices, r.inferenceIndex]) assert.ok(i >= 30, `seed ${seed}: index ${i}`);
    const f = drawRepeat(pool, data, { k: 39, seed, inferenceIndex: 7 });
    assert.equal(f.inferenceIndex, 7);
    assert.ok(!f.demonstrationIndices.includes(7));
  }
  assert.throws(() => drawRepeat(pool, data, { k: 10, seed: 1, excludeIndex: exclude }), /cannot draw k=10 demonstrations from 9 candidates/);
  assert.throws(() => drawRepeat(pool, data, { k: 1, seed: 1, inferenceIndex: 3, excludeIndex: 3 }), /also in excludeIndex/);
  assert.throws(() => drawRepeat(pool, data, { k: 1, seed: 1, excludeIndex: 40 }), /outside the data/);
  assert.throws(() => drawRepeat([], data, { k: 1, seed: 1 }), /pool is empty/);
});

test('drawRepeat: balanced labels split k evenly (remainder to a drawn class)', () => {
  // 10 positives, 30 negatives: unbalanced draws would mostly be negative
  for (let seed = 0; seed < 100; seed++) {
    const even = drawRepeat(pool, data, { k: 8, seed, balanced: true });
    assert.equal(even.demonstrationIndices.filter((i) => data[i].label === 1).length, 4);
    assert.ok(!even.demonstrationIndices.includes(even.inferenceIndex));
    const odd = drawRepeat(pool, data, { k: 5, seed, balanced: true });
    const pos = odd.demonstrationIndices.filter((i) => data[i].label === 1).length;
    assert.ok(pos === 2 || pos === 3, `seed ${seed}: ${pos} positives of 5`);
    assert.deepEqual(drawRepeat(pool, data, { k: 5, seed, balanced: true }), odd);
  }
  assert.throws(() => drawRepeat(pool, data, { k: 24, seed: 1, balanced: true }), /needs 12 examples with label 1, only (9|10) are available/);
  const custom = drawRepeat(pool, ['a', 'b', 'c', 'd'], { k: 2, seed: 3, balanced: true, labelOf: (s) => (s < 'c' ? 0 : 1) });
  assert.equal(custom.demonstrationIndices.filter((i) => i < 2).length, 1);
  assert.throws(() => drawRepeat(pool, ['a', 'b', 'c'], { k: 2, seed: 3, balanced: true }), /needs labelOf/);
});
