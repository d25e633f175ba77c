// LLaMA forward: fixture tier (PyTorch reference) and unit tier (random checkpoints vs an independent float64 forward).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, tinyConfig, writeRandomCheckpoint, type DecoderConfig } from '../io/index.js';
import { noGrad, tidy } from '../torch/index.js';
import { assertClose, maxAbsDiff, missingShared, sharedPath, tempDir, makeTempDir } from '../util/testing.js';
import { LlamaModel } from './llama.js';
import { naiveLlamaForward } from '../test-support/naive-llama.js';

/** Every folder this file writes lives here and is removed when the file's tests end. */
const root = tempDir(test, 'iclit-llama-');

const FIXTURE = 'fixtures/tiny-llama';

function referenceTensor(dir: string, name: string): Float32Array {
  const f = SafetensorsFile.open(join(dir, 'reference.safetensors'));
  return tidy(() => f.tensor(name).toFloat32Array());
}

test('tiny-llama fixture: every hidden state and the logits within 1e-4 (float32)', (t) => {
  const dir = sharedPath(FIXTURE);
  if (!dir) return t.skip(missingShared(FIXTURE));
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { infer_ids: number[] };
  const model = LlamaModel.load(dir);
  const out = noGrad(() => model.forward([ref.infer_ids], { hiddenStates: [0, 1, 2, 3], positions: 'all', logits: true }));
  for (let i = 0; i <= 3; i++) assertClose(out.hidden.get(i)!.toFloat32Array(), referenceTensor(dir, `infer.hidden.${i}`), 1e-4, 0, `hidden ${i}`);
  assertClose(out.logits!.toFloat32Array(), referenceTensor(dir, 'infer.logits'), 1e-4, 0, 'logits');
  model.dispose();
});

test('tiny-llama fixture: the BF16 copy loads and matches within bfloat16 tolerance', (t) => {
  const dir = sharedPath(`${FIXTURE}/model-bf16`);
  if (!dir) return t.skip(missingShared(`${FIXTURE}/model-bf16`));
  const ref = JSON.parse(readFileSync(join(dir, '..', 'reference.json'), 'utf8')) as { infer_ids: number[] };
  for (const dtype of ['float32', 'bfloat16'] as const) {
    const model = LlamaModel.load(dir, { dtype });
    const out = noGrad(() => model.forward([ref.infer_ids], { hiddenStates: [3], positions: 'all' }));
    const want = referenceTensor(join(dir, '..'), 'infer.hidden.3');
    // Weights rounded to bf16 (8-bit mantissa) move normalised states by a few 1e-2; bf16 compute adds as much again.
    assertClose(out.hidden.get(3)!.toFloat32Array(), want, dtype === 'float32' ? 0.05 : 0.15, 0.05, `bf16 weights, ${dtype} compute`);
    model.dispose();
  }
});

const variants: [string, Partial<DecoderConfig>][] = [
  ['GQA, untied', { numKvHeads: 2 }],
  ['no GQA, tied embeddings', { numKvHeads: 4, tieWordEmbeddings: true }],
  ['qwen2 q/k/v biases', { modelType: 'qwen2', qkvBias: true }],
  ['llama attention_bias + mlp_bias, head_dim ≠ hidden/heads', { qkvBias: true, oBias: true, mlpBias: true, headDim: 16 }],
  ['mistral sliding window 4', { modelType: 'mistral', slidingWindow: 4 }],
];

for (const [name, over] of variants) {
  test(`random checkpoint (${name}) matches an independent float64 forward within 1e-4`, () => {
    const dir = writeRandomCheckpoint(makeTempDir('llama-', root), tinyConfig(over), { seed: 7 });
    const ids = [1, 5, 9, 40, 3, 77, 12, 8, 95, 0];
    const want = naiveLlamaForward(dir, ids);
    const model = LlamaModel.load(dir);
    const n = model.config.numLayers;
    const out = noGrad(() => model.forward([ids], { hiddenStates: [...Array(n + 1).keys()], positions: 'all', logits: true }));
    for (let i = 0; i <= n; i++) assertClose(out.hidden.get(i)!.toFloat32Array(), want.hidden[i], 1e-4, 0, `hidden ${i}`);
    assertClose(out.logits!.toFloat32Array(), want.logits, 1e-4, 0, 'logits');
    model.dispose();
  });
}

test('batched sequences of different lengths equal one-at-a-time runs; last position is the last real token', () => {
  const dir = writeRandomCheckpoint(makeTempDir('llama-', root), tinyConfig(), { seed: 3 });
  const model = LlamaModel.load(dir);
  const seqs = [[1, 2, 3, 4, 5, 6, 7], [1, 9, 8], [1, 50, 51, 52, 53]];
  const batched = model.hiddenStates(seqs, [1, -1], 'last');
  seqs.forEach((s, b) => {
    const single = model.hiddenStates([s], [1, -1], 'last');
    for (const i of [1, 2]) {
      const rowB = tidy(() => batched.get(i)!.select(0, b).toFloat32Array());
      assert.ok(maxAbsDiff(rowB, single.get(i)!.toFloat32Array()) < 1e-5, `sequence ${b}, state ${i}`);
    }
    const all = model.hiddenStates([s], [2], 'all').get(2)!;
    assertClose(tidy(() => all.select(1, s.length - 1).toFloat32Array()), single.get(2)!.toFloat32Array(), 1e-6, 0, 'last = final position');
  });
  model.dispose();
});

test('sharded checkpoints load like single files; shard, shape and token errors are clear', () => {
  const config = tinyConfig();
  const one = writeRandomCheckpoint(makeTempDir('llama-', root), config, { seed: 11 });
  const three = writeRandomCheckpoint(makeTempDir('llama-', root), config, { seed: 11, shards: 3 });
  const a = LlamaModel.load(one).hiddenStates([[1, 2, 3]], [-1]).get(2)!.toFloat32Array();
  const b = LlamaModel.load(three).hiddenStates([[1, 2, 3]], [-1]).get(2)!.toFloat32Array();
  assert.deepEqual(a, b);
  assert.throws(() => LlamaModel.load(one).hiddenStates([[1, 96]], [1]), /token id 96 at position 1 is outside the vocabulary \(0..95\)/);
  assert.throws(() => LlamaModel.load(one).hiddenStates([[1]], [5]), /hidden state 5 is out of range/);
});
