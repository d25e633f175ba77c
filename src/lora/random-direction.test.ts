// Tests of the random-adapter control's adapters: every matrix keeps its tuned Frobenius norm in a seeded random direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import { untrainedLlama } from '../models/index.js';
import { manualSeed, randn, tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { applyLora, randomDirectionAdapters, type LoraAdapters, type LoraConfig } from './index.js';

const config: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] };
const model = untrainedLlama(tinyConfig({ initializerRange: 0.1 }), 5);
test.after(() => model.dispose());

/** A set of `seeds.length` adapters with non-zero, distinct A and B (as tuning leaves them). */
function tunedLike(seeds: number[], drawSeed: number): LoraAdapters {
  const lora = applyLora(model, config, { seeds });
  manualSeed(drawSeed);
  for (const p of lora.params.values()) tidy(() => p.copy_(randn(p.shape).mul(0.2)));
  return lora;
}

/** Adapter b's matrix under PEFT key `key`, as float64 host values. */
function matrix(lora: LoraAdapters, key: string, b: number): Float64Array {
  return Float64Array.from(tidy(() => lora.params.get(key)!.select(0, b).contiguous().toFloat32Array()));
}

const norm = (v: Float64Array): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const cos = (a: Float64Array, b: Float64Array): number => a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b));

test('random-direction adapters: each adapter\'s lora_A and lora_B have the tuned Frobenius norms (rel. 1e-6) in other directions (|cos| < 0.5); the tuned set is unchanged', () => {
  const tuned = tunedLike([1, 2, 3], 9);
  const before = [...tuned.params.keys()].map((k) => matrix(tuned, k, 1));
  const rd = randomDirectionAdapters(tuned, [11, 12, 13]);
  try {
    assert.equal(rd.count, 3);
    assert.deepEqual([...rd.params.keys()], [...tuned.params.keys()]);
    for (const key of tuned.params.keys()) {
      assert.deepEqual(rd.params.get(key)!.shape, tuned.params.get(key)!.shape);
      for (let b = 0; b < 3; b++) {
        const t = matrix(tuned, key, b);
        const r = matrix(rd, key, b);
        assert.ok(Math.abs(norm(r) - norm(t)) <= 1e-6 * norm(t), `${key}[${b}]: norm ${norm(r)} vs ${norm(t)}`);
        // independent directions in ≥ 128 dimensions: |cos| is about 1/√128 ≈ 0.09
        assert.ok(Math.abs(cos(r, t)) < 0.5, `${key}[${b}]: cos ${cos(r, t)}`);
      }
    }
    assert.deepEqual([...tuned.params.keys()].map((k) => matrix(tuned, k, 1)), before, 'the tuned set is untouched');
  } finally {
    rd.dispose();
    tuned.dispose();
  }
});

test('random-direction adapters are seeded per adapter: the same seeds give the same draw, and adapter b alone equals adapter b in a batch', () => {
  const tuned = tunedLike([1, 2, 3], 9);
  const a = randomDirectionAdapters(tuned, [11, 12, 13]);
  const b = randomDirectionAdapters(tuned, [11, 12, 13]);
  const c = randomDirectionAdapters(tuned, [11, 99, 13]);
  // adapter 1 of the batch as a set of its own
  const single = applyLora(model, config, { seeds: [2] });
  for (const [k, p] of single.params) tidy(() => p.select(0, 0).copy_(tuned.params.get(k)!.select(0, 1)));
  const alone = randomDirectionAdapters(single, [12]);
  try {
    for (const key of tuned.params.keys()) {
      for (let n = 0; n < 3; n++) assert.deepEqual(matrix(b, key, n), matrix(a, key, n), `${key}[${n}]`);
      assert.deepEqual(matrix(alone, key, 0), matrix(a, key, 1), `${key}: alone = batched`);
      assert.deepEqual(matrix(c, key, 0), matrix(a, key, 0), `${key}: adapter 0 does not depend on adapter 1's seed`);
      assert.notDeepEqual(matrix(c, key, 1), matrix(a, key, 1), `${key}: another seed, another direction`);
    }
  } finally {
    for (const x of [a, b, c, alone, single, tuned]) x.dispose();
  }
});

test('the IT read through random-direction adapters differs from the read through the tuned ones (and from the base model); a zero matrix stays zero', () => {
  const ids = [[1, 5, 9, 40, 3, 77], [1, 12, 8]];
  const last = (): Float32Array => tidy(() => model.hiddenStates(ids, [-1]).get(model.config.numLayers)!.toFloat32Array());
  const tuned = tunedLike([1, 2], 4);
  const rd = randomDirectionAdapters(tuned, [7, 8]);
  try {
    const base = last();
    const viaTuned = tuned.apply(last);
    const viaRandom = rd.apply(last);
    const diff = (x: Float32Array, y: Float32Array): number => Math.max(...x.map((v, i) => Math.abs(v - y[i])));
    assert.ok(diff(viaTuned, base) > 1e-3, 'the tuned adapters change the read');
    assert.ok(diff(viaRandom, viaTuned) > 1e-3, `random-direction read differs from the tuned read (${diff(viaRandom, viaTuned)})`);
    assert.ok(diff(viaRandom, base) > 1e-3, 'and from the base read');
  } finally {
    rd.dispose();
    tuned.dispose();
  }
  // a fresh set (B = 0, as PEFT initialises it): its random-direction B is 0 too, so the read is the base read
  const fresh = applyLora(model, config, { seeds: [1] });
  const rdFresh = randomDirectionAdapters(fresh, [5]);
  try {
    for (const k of rdFresh.params.keys()) if (k.endsWith('lora_B.weight')) assert.ok(matrix(rdFresh, k, 0).every((x) => x === 0), k);
    assert.deepEqual(rdFresh.apply(last), last());
  } finally {
    rdFresh.dispose();
    fresh.dispose();
  }
  const two = applyLora(model, config, { seeds: [1, 2] });
  assert.throws(() => randomDirectionAdapters(two, [1]), (e: unknown) => e instanceof IclitError && /1 seeds for 2 adapters/.test(e.message));
  two.dispose();
});
