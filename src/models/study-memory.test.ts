// The study's memory estimate: weights counted exactly, linear in the batch, and errors that name --batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import { IclitError } from '../util/errors.js';
import { checkStudyBatch, defaultStudyBatch, estimateStudyMemory, studyMemory } from './study-memory.js';

const LLAMA2_7B = tinyConfig({ vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, maxPositionEmbeddings: 4096 });
const GiB = 2 ** 30;
/** The paper's LoRA (src/lora's LORA_DEFAULTS; models sits below lora, so the test states it). */
const LORA = { r: 8, targets: ['q_proj', 'v_proj'] };

test('weights: a 7B bfloat16 model is its 6.74e9 parameters × 2 bytes; float32 twice that', () => {
  const bf = studyMemory(LLAMA2_7B, 'bfloat16', LORA, 1, 128);
  assert.equal(bf.weights, 6738415616 * 2);
  assert.equal(studyMemory(LLAMA2_7B, 'float32', LORA, 1, 128).weights, 6738415616 * 4);
});

test('the estimate grows linearly with the batch and with the tokens', () => {
  const one = estimateStudyMemory(LLAMA2_7B, 'bfloat16', LORA, 1, 128);
  const four = estimateStudyMemory(LLAMA2_7B, 'bfloat16', LORA, 4, 128);
  const m = studyMemory(LLAMA2_7B, 'bfloat16', LORA, 1, 128);
  assert.ok(Math.abs(four - one - 3 * m.perRepeat) < 1, 'three more repeats add three times the per-repeat bytes');
  assert.ok(studyMemory(LLAMA2_7B, 'bfloat16', LORA, 1, 256).perRepeat > 1.9 * m.perRepeat);
  assert.ok(m.perRepeat > 0.5 * GiB && m.perRepeat < 4 * GiB, `7B bf16, 128 tokens: ${(m.perRepeat / GiB).toFixed(2)} GiB per repeat`);
});

test('default --batch fills the device (90%); too small a device or too large a batch is an error naming --batch', () => {
  const h200 = 139 * GiB;
  const b = defaultStudyBatch(LLAMA2_7B, 'bfloat16', LORA, 128, h200, 64, 'cuda:0');
  assert.ok(b >= 30 && b <= 64, `default batch on 139 GiB: ${b}`);
  assert.ok(estimateStudyMemory(LLAMA2_7B, 'bfloat16', LORA, b, 128) <= 0.9 * h200 + 1);
  assert.ok(estimateStudyMemory(LLAMA2_7B, 'bfloat16', LORA, b + 1, 128) > 0.9 * h200 || b === 64);
  assert.throws(() => defaultStudyBatch(LLAMA2_7B, 'bfloat16', LORA, 128, 8 * GiB, 64, 'cuda:0'), (e: unknown) => e instanceof IclitError && /at --batch 1 .* only 8\.0 GiB is available/.test(e.message));
  checkStudyBatch(LLAMA2_7B, 'bfloat16', LORA, 4, 128, h200, 'cuda:0');
  assert.throws(
    () => checkStudyBatch(LLAMA2_7B, 'bfloat16', LORA, 500, 128, h200, 'cuda:0'),
    (e: unknown) => e instanceof IclitError && !e.message.includes('\n') && /^--batch 500 needs about .* on cuda:0 .*: use --batch \d+ or less$/.test(e.message),
  );
});
