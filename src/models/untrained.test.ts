// Tests of the untrained control's model: HF's initialisation (normal(0, initializer_range) matrices, norms 1, biases 0), seeded, deterministic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decoderWeightShapes, embedName, parseDecoderConfig, tinyConfig, toHfConfig } from '../io/index.js';
import { tidy } from '../torch/index.js';
import { untrainedLlama, untrainedWeights } from './untrained.js';

// GQA, q/k/v biases (Qwen2-like through llama's attention_bias) and an untied head: every kind of weight there is
const config = tinyConfig({ vocabSize: 300, hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 16, qkvBias: true, oBias: true, initializerRange: 0.05 });

/** Every weight of the untrained model of `seed` as float64 host values, by HF name. */
function weightsOf(seed: number): Map<string, Float64Array> {
  const get = untrainedWeights(config, seed, 'float32');
  const out = new Map<string, Float64Array>();
  for (const [name, shape] of decoderWeightShapes(config)) {
    const t = get(name, shape);
    assert.deepEqual(t.shape, shape, name);
    out.set(name, Float64Array.from(t.toFloat32Array()));
    t.dispose();
  }
  return out;
}

test('config.json initializer_range is read (default 0.02) and written back', () => {
  assert.equal(config.initializerRange, 0.05);
  assert.equal(parseDecoderConfig({ ...toHfConfig(config), initializer_range: undefined }).initializerRange, 0.02);
  assert.equal(toHfConfig(config).initializer_range, 0.05);
  assert.throws(() => parseDecoderConfig({ ...toHfConfig(config), initializer_range: -1 }), /"initializer_range" must be a positive number/);
});

test("untrained weights: every matrix normal(0, initializer_range) (mean and std within 5 standard errors), RMSNorm weights exactly 1, biases exactly 0", () => {
  const w = weightsOf(3);
  const std = config.initializerRange;
  let matrices = 0;
  for (const [name, v] of w) {
    const n = v.length;
    if (name.endsWith('.bias')) assert.ok(v.every((x) => x === 0), `${name} is zero`);
    else if (name.endsWith('norm.weight')) assert.ok(v.every((x) => x === 1), `${name} is one`);
    else {
      matrices++;
      const mean = v.reduce((a, x) => a + x, 0) / n;
      const sd = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
      // standard errors: of the mean σ/√n, of the sample sd ≈ σ/√(2n) (normal data)
      assert.ok(Math.abs(mean) < (5 * std) / Math.sqrt(n), `${name}: mean ${mean}`);
      assert.ok(Math.abs(sd - std) < (5 * std) / Math.sqrt(2 * n), `${name}: sd ${sd} vs ${std}`);
      // normal, not uniform: the share within one σ is 68.3% (binomial standard error √(p(1−p)/n))
      const within = v.filter((x) => Math.abs(x) < std).length / n;
      assert.ok(Math.abs(within - 0.6827) < 5 * Math.sqrt((0.6827 * 0.3173) / n), `${name}: ${within} within 1σ`);
    }
  }
  assert.equal(matrices, 2 * 7 + 2, 'seven linears per block, the embedding and the untied lm_head');
});

test('untrained weights are a function of the seed: the same seed gives the same weights (each weight its own stream), another seed others', () => {
  const a = weightsOf(3);
  const b = weightsOf(3);
  const c = weightsOf(4);
  for (const [name, v] of a) {
    assert.deepEqual(b.get(name), v, name);
    if (v.length > 1 && !name.endsWith('norm.weight') && !name.endsWith('.bias')) assert.notDeepEqual(c.get(name), v, name);
  }
  // a weight drawn alone equals the same weight drawn after all the others
  const alone = untrainedWeights(config, 3, 'float32')(embedName, [config.vocabSize, config.hiddenSize]);
  assert.deepEqual(Float64Array.from(alone.toFloat32Array()), a.get(embedName));
  alone.dispose();
  // two matrices of one model are different draws
  assert.notDeepEqual(a.get('model.layers.0.self_attn.q_proj.weight')!.slice(0, 64), a.get('model.layers.1.self_attn.q_proj.weight')!.slice(0, 64));
});

test('untrainedLlama reads with those weights: the same seed gives the same hidden states, bfloat16 is the float32 draw rounded', () => {
  const ids = [[1, 5, 9, 200, 17], [1, 42, 7]];
  const read = (seed: number, dtype: 'float32' | 'bfloat16' = 'float32'): Float32Array[] => {
    const m = untrainedLlama(config, seed, dtype);
    try {
      return tidy(() => [...m.hiddenStates(ids, [config.numLayers]).values()].map((t) => t.to('float32').toFloat32Array()));
    } finally {
      m.dispose();
    }
  };
  assert.deepEqual(read(8), read(8));
  assert.notDeepEqual(read(8), read(9));
  const m32 = untrainedLlama(config, 8, 'float32');
  const m16 = untrainedLlama(config, 8, 'bfloat16');
  try {
    const e32 = m32.embedTokens.toFloat32Array();
    const e16 = tidy(() => m16.embedTokens.to('float32').toFloat32Array());
    assert.equal(m16.embedTokens.dtype, 'bfloat16');
    // bfloat16 keeps 8 significant bits: relative rounding ≤ 2^-8
    e32.forEach((x, i) => assert.ok(Math.abs(e16[i] - x) <= Math.abs(x) * 2 ** -8 + 1e-30, `embedding ${i}`));
  } finally {
    m32.dispose();
    m16.dispose();
  }
});
