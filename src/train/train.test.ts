// Unit tier: AdamW/SGD against hand computations, schedules, NaN stop, batched == separate training, full-parameter mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { LlamaModel, studyMemory } from '../models/index.js';
import { applyLora, adapterWeights, setAdapterWeights, type LoraConfig } from '../lora/index.js';
import { cacheStats, resetPeakMemory, tensor, tidy, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { assertClose, tempDir, makeTempDir } from '../util/testing.js';
import { adamw, compareLoss, constantSchedule, linearWithWarmup, lossDecrease, makeSchedule, meanLoss, paramCount, perTokenLoss, saveTrainedModel, sgd, train, trainLora, trainableModel } from './index.js';

/** Every folder this file writes lives here and is removed when the file's tests end. */
const root = tempDir(test, 'iclit-train-');

test('AdamW: two steps equal a hand computation of torch.optim.AdamW', () => {
  const lr = 0.1, wd = 0.5, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const opt = adamw({ lr, weightDecay: wd, betas: [b1, b2], eps });
  const p0 = [1, -2, 0.5];
  const gs = [[0.3, -0.1, 2], [-0.5, 0.2, 1]];
  const params = new Map<string, Tensor>([['w', tensor(p0, [3])]]);
  let state = opt.init(params);
  let cur = params;
  for (let s = 0; s < 2; s++) {
    const r = opt.update(cur, new Map([['w', tensor(gs[s], [3])]]), state, s + 1);
    cur = r.params;
    state = r.state;
  }
  // By hand, element by element.
  const want = p0.map((p, i) => {
    let m = 0, v = 0;
    for (let t = 1; t <= 2; t++) {
      const g = gs[t - 1][i];
      p = p * (1 - lr * wd);
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      p = p - (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
    }
    return p;
  });
  assertClose(cur.get('w')!.toArray(), want, 1e-6, 0, 'AdamW parameters');
  assert.deepEqual(params.get('w')!.toArray(), p0, 'update is pure: its input is untouched');
  // A parameter without a gradient is left alone.
  const skip = opt.update(params, new Map(), opt.init(params), 1);
  assert.deepEqual(skip.params.get('w')!.toArray(), p0);
});

test('SGD with momentum and weight decay equals torch.optim.SGD by hand', () => {
  const opt = sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
  let params = new Map<string, Tensor>([['w', tensor([1, 2], [2])]]);
  let state = opt.init(params);
  let p = [1, 2];
  let buf = [0, 0];
  for (let t = 1; t <= 3; t++) {
    const g = [0.5, -1];
    const r = opt.update(params, new Map([['w', tensor(g, [2])]]), state, t);
    params = r.params;
    state = r.state;
    const d = g.map((x, i) => x + 0.1 * p[i]);
    buf = t === 1 ? d : buf.map((b, i) => 0.9 * b + d[i]);
    p = p.map((x, i) => x - 0.1 * buf[i]);
  }
  assertClose(params.get('w')!.toArray(), p, 1e-6, 0, 'SGD');
});

test('schedules: constant, linear with warmup as transformers.get_linear_schedule_with_warmup', () => {
  assert.equal(constantSchedule(7), 1);
  const s = linearWithWarmup(2, 10);
  assertClose([0, 1, 2, 3, 6, 10, 12].map(s), [0, 0.5, 1, 7 / 8, 4 / 8, 0, 0], 1e-12);
  const noWarm = makeSchedule('linear', 0, 4);
  assertClose([0, 1, 2, 3].map(noWarm), [1, 0.75, 0.5, 0.25], 1e-12);
  assertClose([0, 1, 2, 5].map(makeSchedule('constant', 2, 10)), [0, 0.5, 1, 1], 1e-12);
  assert.throws(() => makeSchedule('linear', -1, 4), IclitError);
});

const lcfg: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj', 'down_proj'] };

function checkpoint(): string {
  return writeRandomCheckpoint(makeTempDir('train-', root), tinyConfig(), { seed: 11 });
}

/** Eight different examples (different lengths, so padding matters too). */
function examples(): { ids: number[]; lossMask?: number[] }[][] {
  return Array.from({ length: 8 }, (_, b) =>
    Array.from({ length: 3 }, (_, e) => {
      const ids = Array.from({ length: 6 + ((b * 3 + e * 5) % 7) }, (_, t) => (b * 31 + e * 17 + t * 7 + 3) % 96);
      return e === 1 ? { ids, lossMask: ids.map((_, t) => (t >= 3 ? 1 : 0)) } : { ids };
    }),
  );
}

for (const optimizer of ['adamw', 'sgd'] as const) test(`batched training (${optimizer}) of 8 adapters on 8 datasets equals 8 separate trainings within 1e-5`, () => {
  const model = LlamaModel.load(checkpoint());
  const data = examples();
  // SGD is scale-sensitive, so it also catches a loss averaged (rather than summed) over adapters.
  const opts = { epochs: 2, batchSize: 2, lr: optimizer === 'sgd' ? 0.5 : 5e-3, weightDecay: 0.01, schedule: 'linear' as const, warmupSteps: 1, seed: 4, optimizer };
  const batched = applyLora(model, lcfg, { adapters: 8, seed: 100 });
  const together = trainLora(model, batched, data, opts);
  assert.equal(together.steps, 4);
  const batchedWeights = [...Array(8).keys()].map((b) => adapterWeights(batched, b));
  batched.dispose();
  for (let b = 0; b < 8; b++) {
    const one = applyLora(model, lcfg, { seed: 100 + b });
    const alone = trainLora(model, one, [data[b]], opts);
    assertClose(alone.losses.map((l) => l[0]), together.losses.map((l) => l[b]), 1e-5, 0, `adapter ${b} losses`);
    const w = adapterWeights(one, 0);
    for (const [k, t] of w) assertClose(t.toFloat32Array(), batchedWeights[b].get(k)!.toFloat32Array(), 1e-5, 0, `adapter ${b} ${k}`);
    one.dispose();
  }
  model.dispose();
});

test('LoRA dropout is drawn per adapter: adapter b trained in a batch of 3 equals adapter b trained alone within 1e-5 (dropout 0.05)', () => {
  const model = LlamaModel.load(checkpoint());
  const data = examples().slice(2, 5); // three adapters, sequences of different lengths
  const cfg = { ...lcfg, dropout: 0.05 };
  const opts = { epochs: 3, batchSize: 2, lr: 5e-3, seed: 9 };
  const seeds = [101, 57, 3];
  const batched = applyLora(model, cfg, { seeds });
  const together = trainLora(model, batched, data, opts);
  const batchedWeights = [0, 1, 2].map((b) => adapterWeights(batched, b));
  batched.dispose();
  for (let b = 0; b < 3; b++) {
    const one = applyLora(model, cfg, { seeds: [seeds[b]] });
    const alone = trainLora(model, one, [data[b]], opts);
    assertClose(alone.losses.map((l) => l[0]), together.losses.map((l) => l[b]), 1e-5, 0, `adapter ${b} losses`);
    for (const [k, t] of adapterWeights(one, 0)) assertClose(t.toFloat32Array(), batchedWeights[b].get(k)!.toFloat32Array(), 1e-5, 0, `adapter ${b} ${k}`);
    one.dispose();
  }
  // The masks matter: without dropout, adapter 0 ends elsewhere.
  const plain = applyLora(model, { ...cfg, dropout: 0 }, { seeds: [seeds[0]] });
  trainLora(model, plain, [data[0]], opts);
  const key = [...batchedWeights[0].keys()].find((k) => k.endsWith('lora_B.weight'))!;
  const moved = Math.max(...Array.from(adapterWeights(plain, 0).get(key)!.toFloat32Array(), (v, i) => Math.abs(v - batchedWeights[0].get(key)!.toFloat32Array()[i])));
  assert.ok(moved > 1e-4, `dropout changed the trained adapter (max difference ${moved})`);
  model.dispose();
});

test('training lowers the loss; a NaN loss stops with a clear error', () => {
  const model = LlamaModel.load(checkpoint());
  const ids = [1, 5, 9, 40, 3, 77, 12, 8, 30, 31];
  const lora = applyLora(model, { ...lcfg, dropout: 0.1 });
  const steps: number[] = [];
  const r = trainLora(model, lora, [[{ ids }]], { epochs: 10, lr: 1e-2, onStep: (p) => steps.push(p.tokensPerSecond) });
  assert.equal(steps.length, 10);
  assert.ok(steps.every((x) => x > 0));
  assert.ok(r.losses[9][0] < r.losses[0][0] - 0.05, `loss ${r.losses[0][0]} → ${r.losses[9][0]}`);
  // Dropout is on only in training steps: two evaluations through the adapters agree exactly, and differ from the base model.
  const tuned = lora.apply(() => perTokenLoss(model, ids));
  assert.deepEqual(lora.apply(() => perTokenLoss(model, ids)), tuned);
  const base = perTokenLoss(model, ids);
  assert.ok(meanLoss(lossDecrease(base, tuned)) > 0.05, 'the tuned model predicts the training text better (positive decrease)');
  const cmp = compareLoss(model, lora, ids);
  assert.deepEqual(cmp, { base, tuned, decrease: lossDecrease(base, tuned) });
  lossDecrease(base, tuned).forEach((d, t) => assert.equal(d, base[t] - tuned[t]));
  // Poison one adapter weight: the first loss is NaN.
  const w = adapterWeights(lora, 0);
  const key = [...w.keys()][0];
  w.set(key, tidy(() => w.get(key)!.mul(Number.NaN)));
  setAdapterWeights(lora, w);
  assert.throws(() => trainLora(model, lora, [[{ ids }]], { lr: 1e-2 }), (e: unknown) => e instanceof IclitError && /loss is NaN at step 1/.test(e.message));
  assert.throws(() => trainLora(model, lora, [[{ ids }], [{ ids }]]), /2 training groups for 1 LoRA adapters/);
  assert.throws(() => trainLora(model, lora, [[{ ids: [5] }]]), /no target tokens|at least 2 tokens/);
  model.dispose();
});

test('full-parameter training: every weight is a leaf, the loss falls, the saved model reloads identically', () => {
  const dir = writeRandomCheckpoint(makeTempDir('full-', root), tinyConfig({ tieWordEmbeddings: true }), { seed: 2 });
  const { model, params } = trainableModel(dir);
  assert.equal(params.size, 1 + 2 * 9 + 1, 'embedding (tied), 9 per layer, final norm');
  assert.equal(paramCount(params), 96 * 32 + 2 * (2 * 32 + 32 * 32 * 2 + 16 * 32 * 2 + 3 * 64 * 32) + 32);
  const ids = [1, 5, 9, 40, 3, 77, 12, 8, 30, 31];
  const r = train(model, params, [[{ ids }]], { epochs: 5, lr: 1e-2 });
  assert.ok(r.losses[4][0] < r.losses[0][0] - 0.1, `loss ${r.losses[0][0]} → ${r.losses[4][0]}`);
  const out = makeTempDir('full-out-', root);
  saveTrainedModel(out, model.config, params);
  const reloaded = LlamaModel.load(out);
  assertClose(perTokenLoss(reloaded, ids), perTokenLoss(model, ids), 1e-5, 0, 'reloaded per-token loss');
  reloaded.dispose();
  model.dispose();
});

test('mixed precision: a bfloat16 model trains float32 LoRA parameters and optimiser state', () => {
  const model = LlamaModel.load(checkpoint(), { dtype: 'bfloat16' });
  const lora = applyLora(model, lcfg, { adapters: 2, seed: 3 });
  const ids = [1, 5, 9, 40, 3, 77, 12, 8, 30, 31];
  const r = trainLora(model, lora, [[{ ids }], [{ ids: ids.slice(2) }]], { epochs: 8, lr: 1e-2 });
  for (const p of lora.params.values()) assert.equal(p.dtype, 'float32');
  for (const g of [0, 1]) assert.ok(r.losses[7][g] < r.losses[0][g] - 0.05, `group ${g}: ${r.losses[0][g]} → ${r.losses[7][g]}`);
  model.dispose();
});

test('estimateStudyMemory bounds the measured peak of LoRA training (batch 4, q/v r 8) and is not loose by more than 10×', () => {
  const config = tinyConfig({ vocabSize: 512, hiddenSize: 128, intermediateSize: 256, numLayers: 3, numHeads: 4, numKvHeads: 2, headDim: 32 });
  const model = LlamaModel.load(writeRandomCheckpoint(makeTempDir('mem-', root), config, { seed: 1 }));
  const T = 96;
  const data = [0, 1, 2, 3].map((b) => [{ ids: Array.from({ length: T }, (_, t) => (b * 37 + t * 11) % 512) }]);
  const lora = applyLora(model, { r: 8, alpha: 32, dropout: 0.05, targets: ['q_proj', 'v_proj'] }, { adapters: 4 });
  resetPeakMemory();
  const base = cacheStats().live;
  trainLora(model, lora, data, { epochs: 2 });
  const measured = cacheStats().peakLive - base;
  const m = studyMemory(config, 'float32', { r: 8, targets: ['q_proj', 'v_proj'] }, 4, T);
  const bound = 4 * m.perRepeat;
  assert.ok(measured <= bound, `measured ${measured} bytes > estimated ${bound} for 4 repeats`);
  assert.ok(measured >= bound / 10, `measured ${measured} bytes, estimate ${bound} is more than 10× loose`);
  model.dispose();
});
