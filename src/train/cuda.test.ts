// Opt-in GPU tier (ICLIT_TEST_GPU=1): LoRA and AdamW on the device against the PyTorch fixture, per-adapter dropout, a small study vs the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { LlamaModel } from '../models/index.js';
import { adapterWeights, applyLora, setAdapterWeights, type LoraConfig } from '../lora/index.js';
import { noGrad, tidy, treeLeaves } from '../torch/index.js';
import { assertClose, gpuDevice, gpuTests, missingShared, sharedPath } from '../util/testing.js';
import { adamw, trainLora } from './index.js';
import { adapterFrom } from './testing.js';

const skip = !gpuTests && 'set ICLIT_TEST_GPU=1 on a host whose libtorch has CUDA';
const FIXTURE = 'fixtures/tiny-llama';

test('GPU: the fixture\'s 5 AdamW steps on the device match PyTorch: losses and final adapter within 1e-5, hidden states 1e-4', { skip }, (t) => {
  const dir = sharedPath(FIXTURE);
  if (!dir) return t.skip(missingShared(FIXTURE));
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
  const file = SafetensorsFile.open(join(dir, 'reference.safetensors'));
  const a = ref.adamw;
  const model = LlamaModel.load(dir, { device: gpuDevice });
  const lora = applyLora(model, { r: ref.lora.r, alpha: ref.lora.alpha, dropout: ref.lora.dropout, targets: ref.lora.targets });
  for (const p of lora.params.values()) assert.equal(p.device, gpuDevice, 'LoRA parameters live on the model\'s device');
  const state = adamw().init(lora.params);
  assert.ok(treeLeaves(state).every((s) => s.device === gpuDevice), 'AdamW moments live with their parameters');
  setAdapterWeights(lora, adapterFrom(file, 'lora.init'));
  const example = { ids: ref.train_ids };
  const result = trainLora(model, lora, [Array.from({ length: a.steps }, () => example)], { epochs: 1, batchSize: 1, lr: a.lr, weightDecay: a.weight_decay, betas: a.betas, eps: a.eps });
  assertClose(result.losses.map((l) => l[0]), a.losses, 1e-5, 0, 'AdamW losses');
  for (const [key, want] of adapterFrom(file, 'adamw.final')) assertClose(tidy(() => lora.params.get(key)!.select(0, 0).toFloat32Array()), want.toFloat32Array(), 1e-5, 0, `final ${key}`);
  const hidden = lora.apply(() => noGrad(() => model.forward([ref.infer_ids], { hiddenStates: [0, 1, 2, 3] }).hidden));
  for (let i = 0; i <= 3; i++) assertClose(hidden.get(i)!.toFloat32Array(), tidy(() => file.tensor(`adamw.infer.hidden.${i}`).toFloat32Array()), 1e-4, 0, `hidden ${i}`);
  model.dispose();
});

const lcfg: LoraConfig = { r: 4, alpha: 8, dropout: 0.05, targets: ['q_proj', 'v_proj'] };
const texts = [[1, 5, 9, 40, 3, 77, 12, 8, 30, 31], [4, 4, 2, 90, 17], [7, 8, 9, 10, 11, 12, 13]];

test('GPU: per-adapter dropout on the device: adapter b trained in a batch of 3 equals adapter b alone within 1e-5', { skip }, () => {
  const dir = writeRandomCheckpoint(mkdtempSync(join(tmpdir(), 'iclit-gpu-')), tinyConfig(), { seed: 11 });
  try {
    const model = LlamaModel.load(dir, { device: gpuDevice });
    const opts = { epochs: 3, lr: 5e-3, seed: 2 };
    const batched = applyLora(model, lcfg, { seeds: [5, 6, 7] });
    trainLora(model, batched, texts.map((ids) => [{ ids }]), opts);
    const together = [0, 1, 2].map((b) => adapterWeights(batched, b));
    batched.dispose();
    for (let b = 0; b < 3; b++) {
      const one = applyLora(model, lcfg, { seeds: [5 + b] });
      trainLora(model, one, [[{ ids: texts[b] }]], opts);
      for (const [k, w] of adapterWeights(one, 0)) assertClose(w.toFloat32Array(), together[b].get(k)!.toFloat32Array(), 1e-5, 0, `adapter ${b} ${k}`);
      one.dispose();
    }
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GPU: a small study (3 repeats: anchor, ICL, 10 epochs of LoRA, tuned anchor) equals the CPU run with dropout on (the same masks on both devices): adapters 1e-5, states 1e-4', { skip }, () => {
  const dir = writeRandomCheckpoint(mkdtempSync(join(tmpdir(), 'iclit-gpu-')), tinyConfig({ numKvHeads: 2 }), { seed: 13 });
  try {
    // Dropout masks are a counter hash of each sequence's seed, the same bits on every device, so dropout stays on.
    const study = (device: string) => {
      const model = LlamaModel.load(dir, { device });
      const layers = [0, 1, 2];
      const read = (prompts: number[][]) => noGrad(() => {
        const { hidden } = model.forward(prompts, { hiddenStates: layers });
        return layers.map((l) => hidden.get(l)!.toFloat32Array());
      });
      const anchors = texts.map((ids) => ids.slice(0, 4));
      const before = read(anchors);
      const lora = applyLora(model, lcfg, { seeds: [1, 2, 3] });
      trainLora(model, lora, texts.map((ids) => [{ ids }]), { epochs: 10, lr: 1e-3, seed: 0 });
      const after = lora.apply(() => read(anchors));
      const weights = [0, 1, 2].map((b) => [...adapterWeights(lora, b).values()].map((w) => w.toFloat32Array()));
      model.dispose();
      return { before, after, weights };
    };
    const gpu = study(gpuDevice);
    const cpu = study('cpu');
    gpu.before.forEach((h, l) => assertClose(h, cpu.before[l], 1e-4, 0, `anchor layer ${l}`));
    gpu.after.forEach((h, l) => assertClose(h, cpu.after[l], 1e-4, 0, `tuned anchor layer ${l}`));
    gpu.weights.forEach((ws, b) => ws.forEach((w, i) => assertClose(w, cpu.weights[b][i], 1e-5, 0, `adapter ${b} tensor ${i}`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
