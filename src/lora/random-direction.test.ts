// Tests of the random-adapter control's adapters: every module's weight change B'A' keeps the tuned BA's Frobenius norm in a seeded random direction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import { untrainedLlama } from '../models/index.js';
import { manualSeed, randn, tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { applyLora, peftKey, randomDirectionAdapters, type LoraAdapters, type LoraConfig } from './index.js';

const config: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] };
const model = untrainedLlama(tinyConfig({ initializerRange: 0.1 }), 5);
test.after(() => model.dispose());

/**
 * A set of `seeds.length` adapters with non-zero A and B aligned as tuning leaves them: B's columns lie along A's rows
 * read through a fixed map, so ‖BA‖ is near ‖B‖‖A‖ (random factors of those norms multiply to far less).
 */
function tunedLike(seeds: number[], drawSeed: number): LoraAdapters {
  const lora = applyLora(model, config, { seeds });
  manualSeed(drawSeed);
  for (const name of lora.modules) {
    const A = lora.params.get(peftKey(name, 'A'))!; // [N, r, in]
    const B = lora.params.get(peftKey(name, 'B'))!; // [N, out, r]
    const [N, r, inn] = A.shape;
    const out = B.shape[1];
    tidy(() => {
      // A = one direction per adapter plus a little noise; B = (a fixed out × in map) · Aᵀ: strongly aligned factors
      const a = randn([N, 1, inn]).mul(randn([N, r, 1])).add(randn([N, r, inn]).mul(0.02));
      A.copy_(a);
      B.copy_(randn([out, inn]).mul(0.2).matmul(a.transpose(1, 2)));
    });
  }
  return lora;
}

/** Adapter b's matrix under PEFT key `key`, as float64 host values. */
function matrix(lora: LoraAdapters, key: string, b: number): Float64Array {
  return Float64Array.from(tidy(() => lora.params.get(key)!.select(0, b).contiguous().toFloat32Array()));
}

const norm = (v: Float64Array): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
const cos = (a: Float64Array, b: Float64Array): number => a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b));
/** B [out, r] · A [r, in] (row-major) in float64: the weight change of one module, before the LoRA scaling. */
function product(B: Float64Array, A: Float64Array, r: number): Float64Array {
  const out = B.length / r;
  const inn = A.length / r;
  const p = new Float64Array(out * inn);
  for (let o = 0; o < out; o++) for (let k = 0; k < r; k++) for (let i = 0; i < inn; i++) p[o * inn + i] += B[o * r + k] * A[k * inn + i];
  return p;
}

test('random-direction adapters: per module and adapter ‖B\'A\'‖_F = ‖BA‖_F (rel. 1e-5), A\' keeps ‖A‖_F, vec(B\'A\') in another direction (|cos| < 0.3); the tuned set is unchanged', () => {
  const tuned = tunedLike([1, 2, 3], 9);
  const before = [...tuned.params.keys()].map((k) => matrix(tuned, k, 1));
  const rd = randomDirectionAdapters(tuned, [11, 12, 13]);
  try {
    assert.equal(rd.count, 3);
    assert.deepEqual([...rd.params.keys()], [...tuned.params.keys()]);
    for (const key of tuned.params.keys()) assert.deepEqual(rd.params.get(key)!.shape, tuned.params.get(key)!.shape);
    let factorProducts = 0;
    for (const name of tuned.modules) {
      const [kA, kB] = [peftKey(name, 'A'), peftKey(name, 'B')];
      for (let b = 0; b < 3; b++) {
        const [A, B, A2, B2] = [matrix(tuned, kA, b), matrix(tuned, kB, b), matrix(rd, kA, b), matrix(rd, kB, b)];
        const [BA, BA2] = [product(B, A, config.r), product(B2, A2, config.r)];
        assert.ok(norm(BA) > 0);
        assert.ok(Math.abs(norm(BA2) - norm(BA)) <= 1e-5 * norm(BA), `${name}[${b}]: ‖B'A'‖ ${norm(BA2)} vs ‖BA‖ ${norm(BA)}`);
        assert.ok(Math.abs(norm(A2) - norm(A)) <= 1e-6 * norm(A), `${name}[${b}]: ‖A'‖ ${norm(A2)} vs ‖A‖ ${norm(A)}`);
        // independent directions in out · in = 512 dimensions (rank-4 products): |cos| is about 0.05
        assert.ok(Math.abs(cos(BA2, BA)) < 0.3, `${name}[${b}]: cos ${cos(BA2, BA)}`);
        assert.ok(Math.abs(cos(A2, A)) < 0.3, `${name}[${b}]: A cos ${cos(A2, A)}`);
        // what matching each factor's norm would give: random factors of the tuned norms multiply to far less
        const rescaledB = B2.map((v) => (v * norm(B)) / norm(B2));
        factorProducts += norm(product(rescaledB, A2, config.r)) / norm(BA) / (tuned.modules.length * 3);
      }
    }
    assert.ok(factorProducts < 0.7, `factor norms alone give ${factorProducts} of the tuned product's norm on average, so matching the product matters here`);
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

test('the IT read through random-direction adapters differs from the read through the tuned ones (and from the base model); a zero BA gives a zero B\'', () => {
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
