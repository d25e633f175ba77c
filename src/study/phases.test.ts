// openStudy's phases on their own: the compute phase sizes --batch for the run's own LoRA settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import { studyMemory } from '../models/index.js';
import { flagSettings, mergeSettings } from './settings.js';
import { computePhase, studyBatch, type StudyModel } from './phases.js';
import { nativeBf16 } from '../torch/index.js';

const GiB = 2 ** 30;
/** LLaMA-2-7B's shapes: where the adapter's size per repeat is large enough to move the batch. */
const LLAMA2_7B = tinyConfig({ vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, maxPositionEmbeddings: 4096 });

/** The default --batch of a run given `flags`, on a device with `available` bytes free (the same machine for every call). */
function defaultBatch(flags: Record<string, unknown>, available: number, device = 'cuda:0'): number {
  const s = mergeSettings({ preset: 'convergence', models: ['m'], data: 'd' }, flagSettings(flags));
  return studyBatch({ asked: s.batch, device, dtype: 'bfloat16', lora: s.lora, models: [{ config: LLAMA2_7B, longest: 512 }], available });
}

test('the default batch is sized for the run\'s own LoRA: --lora-r 64 gets a smaller batch than --lora-r 8 on the same machine', () => {
  const available = 80 * GiB;
  const r8 = defaultBatch({ 'lora-r': '8' }, available);
  const r64 = defaultBatch({ 'lora-r': '64' }, available);
  assert.ok(r64 < r8, `--lora-r 64 → batch ${r64}, --lora-r 8 → batch ${r8}`);
  assert.equal(defaultBatch({}, available), r8, 'the default LoRA is r 8');
  // each is the largest batch whose estimate (for that LoRA) fits in 90% of the memory
  for (const [r, b] of [[8, r8], [64, r64]]) {
    const lora = { r, targets: ['q_proj', 'v_proj'] };
    assert.ok(studyMemory(LLAMA2_7B, 'bfloat16', lora, b, 512).total <= 0.9 * available);
    assert.ok(studyMemory(LLAMA2_7B, 'bfloat16', lora, b + 1, 512).total > 0.9 * available);
  }
  // more targets cost more memory too
  assert.ok(defaultBatch({ 'lora-r': '64', 'lora-targets': 'q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj' }, available) < r64);
  // a given --batch is kept when it fits, and refused naming --batch when it does not fit that LoRA
  assert.equal(defaultBatch({ 'lora-r': '64', batch: String(r64) }, available), r64);
  assert.throws(() => defaultBatch({ 'lora-r': '64', batch: String(r8 + 2) }, available), /--batch/);
});

test('--dtype auto keeps a model in bfloat16 on a CPU without native bfloat16 when its float32 copy would not fit the machine (a 70B model), float32 for a small one; the note says why', () => {
  const s = mergeSettings({ preset: 'convergence', models: ['m'], data: 'd' }, flagSettings({ device: 'cpu', batch: '1' }));
  const model = (config: ReturnType<typeof tinyConfig>): StudyModel => ({ label: 'm', dir: 'm', longest: 64, folder: { config } as StudyModel['folder'] });
  const LLAMA2_70B = tinyConfig({ vocabSize: 32000, hiddenSize: 8192, intermediateSize: 28672, numLayers: 80, numHeads: 64, numKvHeads: 8, headDim: 128, maxPositionEmbeddings: 4096 });
  const big = computePhase(s, [model(LLAMA2_70B)]);
  const small = computePhase(s, [model(tinyConfig())]);
  assert.equal(big.dtype, 'bfloat16', 'a 70B model (280 GB in float32) stays in bfloat16 on any CPU');
  if (nativeBf16('cpu')) {
    assert.equal(small.dtype, 'bfloat16', 'native bfloat16: always bfloat16');
    assert.equal(big.dtypeNote, undefined);
  } else {
    assert.equal(small.dtype, 'float32');
    assert.equal(small.dtypeNote, undefined);
    assert.match(big.dtypeNote!, /^--dtype auto: float32 would need about [\d.]+ GiB of this device's [\d.]+ GiB, so the weights stay in bfloat16/);
  }
  // an explicit --dtype is kept whatever the memory
  const asked = mergeSettings({ preset: 'convergence', models: ['m'], data: 'd' }, flagSettings({ device: 'cpu', batch: '1', dtype: 'float32' }));
  assert.equal(computePhase(asked, [model(LLAMA2_70B)]).dtype, 'float32');
});
