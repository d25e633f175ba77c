// Opt-in GPU tier (ICLIT_TEST_GPU=1): the decoder on the device against the PyTorch fixture and against the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, tinyConfig, writeRandomCheckpoint, type DecoderConfig } from '../io/index.js';
import { noGrad, tidy } from '../torch/index.js';
import { assertClose, gpuDevice, gpuTests, missingShared, sharedPath } from '../util/testing.js';
import { LlamaModel } from './llama.js';

const skip = !gpuTests && 'set ICLIT_TEST_GPU=1 on a host whose libtorch has CUDA';
const FIXTURE = 'fixtures/tiny-llama';

function referenceTensor(dir: string, name: string): Float32Array {
  const f = SafetensorsFile.open(join(dir, 'reference.safetensors'));
  return tidy(() => f.tensor(name).toFloat32Array());
}

test('GPU: tiny-llama fixture on the device, every hidden state and the logits within 1e-4 of PyTorch (float32, TF32 off)', { skip }, (t) => {
  const dir = sharedPath(FIXTURE);
  if (!dir) return t.skip(missingShared(FIXTURE));
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { infer_ids: number[] };
  const model = LlamaModel.load(dir, { device: gpuDevice });
  assert.equal(model.embedTokens.device, gpuDevice, 'weights live on the device');
  const out = noGrad(() => model.forward([ref.infer_ids], { hiddenStates: [0, 1, 2, 3], positions: 'all', logits: true }));
  for (let i = 0; i <= 3; i++) {
    assert.equal(out.hidden.get(i)!.device, 'cpu', 'hidden states come back to the host');
    assert.equal(out.hidden.get(i)!.dtype, 'float32');
    assertClose(out.hidden.get(i)!.toFloat32Array(), referenceTensor(dir, `infer.hidden.${i}`), 1e-4, 0, `hidden ${i}`);
  }
  assertClose(out.logits!.toFloat32Array(), referenceTensor(dir, 'infer.logits'), 1e-4, 0, 'logits');
  model.dispose();
});

test('GPU: bfloat16 on the device stays within the bf16 tolerance of the reference and of the CPU bf16 run', { skip }, (t) => {
  const dir = sharedPath(`${FIXTURE}/model-bf16`);
  if (!dir) return t.skip(missingShared(`${FIXTURE}/model-bf16`));
  const ref = JSON.parse(readFileSync(join(dir, '..', 'reference.json'), 'utf8')) as { infer_ids: number[] };
  const run = (device: string) => {
    const model = LlamaModel.load(dir, { dtype: 'bfloat16', device });
    const h = noGrad(() => model.forward([ref.infer_ids], { hiddenStates: [3], positions: 'all' }).hidden.get(3)!.toFloat32Array());
    model.dispose();
    return h;
  };
  const gpu = run(gpuDevice);
  const cpu = run('cpu');
  // As the CPU bf16 test: bf16 weights move normalised states by a few 1e-2 and bf16 compute as much again.
  assertClose(gpu, referenceTensor(join(dir, '..'), 'infer.hidden.3'), 0.15, 0.05, 'device bf16 vs float32 reference');
  // Both round every intermediate to bf16 (8-bit mantissa, 2^-8 relative); they differ in accumulation order and
  // in which intermediates land on the other side of a rounding boundary: a few bf16 ulps of O(1) states.
  assertClose(gpu, cpu, 0.1, 0.05, 'device bf16 vs CPU bf16');
});

const variants: [string, Partial<DecoderConfig>][] = [
  ['GQA, untied', { numKvHeads: 2 }],
  ['qwen2 q/k/v biases', { modelType: 'qwen2', qkvBias: true }],
  ['mistral sliding window 4', { modelType: 'mistral', slidingWindow: 4 }],
];

for (const [name, over] of variants) {
  test(`GPU: random checkpoint (${name}), a batch of three lengths, equals the CPU within 1e-4`, { skip }, () => {
    const dir = writeRandomCheckpoint(mkdtempSync(join(tmpdir(), 'iclit-gpu-')), tinyConfig(over), { seed: 7 });
    try {
      const batch = [[1, 5, 9, 40, 3, 77, 12, 8, 95, 0], [4, 4, 2], [7, 8, 9, 10, 11, 12]];
      const states = (device: string) => {
        const model = LlamaModel.load(dir, { device });
        const out = noGrad(() => model.forward(batch, { hiddenStates: [0, 1, 2], positions: 'all', logits: true }));
        const r = { hidden: [0, 1, 2].map((i) => out.hidden.get(i)!.toFloat32Array()), logits: tidy(() => out.logits!.toDevice('cpu').toFloat32Array()) };
        model.dispose();
        return r;
      };
      const gpu = states(gpuDevice);
      const cpu = states('cpu');
      gpu.hidden.forEach((h, i) => assertClose(h, cpu.hidden[i], 1e-4, 0, `hidden ${i}`));
      assertClose(gpu.logits, cpu.logits, 1e-4, 0, 'logits');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
