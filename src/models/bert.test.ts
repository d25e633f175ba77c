// BERT encoder: fixture tier (PyTorch reference of tiny-bert) and unit tier (random checkpoints vs an independent float64 forward).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../io/index.js';
import { tinyEncoderConfig, writeRandomEncoderCheckpoint, toHfEncoderConfig, type EncoderConfig } from '../io/bert-config.js';
import { tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { assertClose, maxAbsDiff, missingShared, sharedPath, tempDir, makeTempDir } from '../util/testing.js';
import { BertModel } from './bert.js';
import { erf, naiveBertForward } from '../test-support/naive-bert.js';

/** Every folder this file writes lives here and is removed when the file's tests end. */
const root = tempDir(test, 'iclit-bert-');

const FIXTURE = 'fixtures/tiny-bert';

test('tiny-bert fixture: hidden.{0..2} [3, 14, 48] of the padded batch within 1e-5 at every position (float32)', (t) => {
  const dir = sharedPath(FIXTURE);
  if (!dir) return t.skip(missingShared(FIXTURE));
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][] };
  const model = BertModel.load(dir);
  const f = SafetensorsFile.open(join(dir, 'reference.safetensors'));
  const out = model.encode({ inputIds: ref.input_ids, attentionMask: ref.attention_mask }, [0, 1, 2]);
  // The reference keeps HF's values at padded positions too (they attend to real tokens only), so all positions are compared.
  for (let i = 0; i <= 2; i++) {
    assert.deepEqual(out.hidden.get(i)!.shape, [3, 14, 48]);
    assertClose(out.hidden.get(i)!.toFloat32Array(), tidy(() => f.tensor(`hidden.${i}`).toFloat32Array()), 1e-5, 0, `hidden ${i}`);
  }
  assertClose(out.lastHiddenState.toFloat32Array(), tidy(() => f.tensor('hidden.2').toFloat32Array()), 1e-5, 0, 'last hidden state');
  f.close();
  model.dispose();
});

test('erf of the naive reference matches known values to 1e-12', () => {
  const cases: [number, number][] = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [-2, -0.9953222650189527], [3.5, 0.9999992569016276], [6, 1]];
  for (const [x, want] of cases) assert.ok(Math.abs(erf(x) - want) < 1e-12, `erf(${x}) = ${erf(x)}, expected ${want}`);
});

const variants: [string, Partial<EncoderConfig>, string][] = [
  ['exact GELU', {}, ''],
  ['tanh GELU, bert. prefix', { hiddenAct: 'gelu_tanh' }, 'bert.'],
  ['ReLU, no token types, 2 heads', { hiddenAct: 'relu', typeVocabSize: 0, numHeads: 2, headDim: 16 }, ''],
  ['3 layers, eps 1e-5', { numLayers: 3, layerNormEps: 1e-5 }, ''],
];

for (const [name, over, prefix] of variants) {
  test(`random BERT (${name}) matches an independent float64 forward within 1e-4 at every layer`, () => {
    const dir = writeRandomEncoderCheckpoint(makeTempDir('bert-', root), tinyEncoderConfig(over), { seed: 11, prefix, std: 0.15 });
    const ids = [101 % 120, 5, 9, 40, 3, 77, 12, 8, 95, 102 % 120];
    const want = naiveBertForward(dir, ids);
    const model = BertModel.load(dir);
    const n = model.config.numLayers;
    const out = model.encode({ inputIds: [ids] }, [...Array(n + 1).keys()]);
    for (let i = 0; i <= n; i++) assertClose(out.hidden.get(i)!.toFloat32Array(), want.hidden[i], 1e-4, 0, `hidden ${i}`);
    model.dispose();
  });
}

test('padding invariance: each sequence alone equals its rows in a right-padded batch (real positions)', () => {
  const dir = writeRandomEncoderCheckpoint(makeTempDir('bert-', root), tinyEncoderConfig(), { seed: 3 });
  const model = BertModel.load(dir);
  const seqs = [[1, 2, 3, 4, 5, 6, 7], [1, 9, 8], [1, 50, 51, 52, 53]];
  const T = 7;
  const batch = { inputIds: seqs.map((s) => [...s, ...Array(T - s.length).fill(0)]), attentionMask: seqs.map((s) => [...s.map(() => 1), ...Array(T - s.length).fill(0)]) };
  const batched = model.encode(batch, [-1]).hidden.get(2)!; // [3, 7, C]
  seqs.forEach((s, b) => {
    const alone = model.encode({ inputIds: [s] }).lastHiddenState.toFloat32Array();
    const row = tidy(() => batched.select(0, b).slice(0, 0, s.length).toFloat32Array());
    assert.ok(maxAbsDiff(row, alone) < 1e-5, `sequence ${b}: ${maxAbsDiff(row, alone)}`);
  });
  // Without the mask the padding would leak into the real positions: the test can fail.
  const unmasked = model.encode({ inputIds: batch.inputIds }).lastHiddenState;
  const alone = model.encode({ inputIds: [seqs[1]] }).lastHiddenState.toFloat32Array();
  assert.ok(maxAbsDiff(tidy(() => unmasked.select(0, 1).slice(0, 0, 3).toFloat32Array()), alone) > 1e-3);
  model.dispose();
});

test('token_type_ids select the segment embedding', () => {
  const dir = writeRandomEncoderCheckpoint(makeTempDir('bert-', root), tinyEncoderConfig(), { seed: 4 });
  const model = BertModel.load(dir);
  const ids = [[1, 2, 3]];
  const zero = model.encode({ inputIds: ids }).lastHiddenState.toFloat32Array();
  const explicitZero = model.encode({ inputIds: ids, tokenTypeIds: [[0, 0, 0]] }).lastHiddenState.toFloat32Array();
  const one = model.encode({ inputIds: ids, tokenTypeIds: [[0, 1, 1]] }).lastHiddenState.toFloat32Array();
  assert.ok(maxAbsDiff(zero, explicitZero) < 1e-6);
  assert.ok(maxAbsDiff(zero, one) > 1e-3);
  model.dispose();
});

test('bad config and bad batches throw IclitError naming the problem', () => {
  const base = toHfEncoderConfig(tinyEncoderConfig());
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, model_type: 'llama' }, /model_type "llama" is not a supported encoder/],
    [{ ...base, hidden_size: 30 }, /hidden_size \(30\) is not divisible by num_attention_heads \(4\)/],
    [{ ...base, hidden_act: 'swish' }, /hidden_act "swish" is not supported/],
    [{ ...base, position_embedding_type: 'relative_key' }, /position_embedding_type "relative_key"/],
    [{ ...base, vocab_size: undefined }, /"vocab_size" must be a positive integer \(missing\)/],
  ];
  for (const [cfg, re] of cases) {
    const dir = makeTempDir('bert-', root);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    assert.throws(() => BertModel.load(dir), (e: unknown) => e instanceof IclitError && re.test(e.message), String(re));
  }
  // Weights whose shape disagrees with config.json.
  const dir = writeRandomEncoderCheckpoint(makeTempDir('bert-', root), tinyEncoderConfig(), { seed: 1 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...base, intermediate_size: 48 }));
  assert.throws(() => BertModel.load(dir), /weight 'encoder.layer.0.intermediate.dense.weight' in model.safetensors has shape \[64, 32\], the config implies \[48, 32\]/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(base));
  const model = BertModel.load(dir);
  assert.throws(() => model.encode({ inputIds: [[1, 2, 500]] }), /input_ids\[0\]\[2\] is 500, expected a token id in 0..119/);
  assert.throws(() => model.encode({ inputIds: [[1, 2], [1]] }), /input_ids row 1 has 1 entries, expected 2/);
  assert.throws(() => model.encode({ inputIds: [[1, 2]], attentionMask: [[1, 2]] }), /attention_mask\[0\]\[1\] is 2, expected 0 or 1/);
  assert.throws(() => model.encode({ inputIds: [[1, 2]], attentionMask: [[0, 0]] }), /attention_mask row 0 masks every token/);
  assert.throws(() => model.encode({ inputIds: [Array(41).fill(1)] }), /41 tokens, more than max_position_embeddings 40/);
  assert.throws(() => model.encode({ inputIds: [[1]] }, [5]), /hidden state index 5 is out of range/);
  model.dispose();
});

test('bfloat16 compute stays within bfloat16 tolerance of float32', () => {
  const dir = writeRandomEncoderCheckpoint(makeTempDir('bert-', root), tinyEncoderConfig(), { seed: 8, std: 0.15 });
  const batch = { inputIds: [[1, 5, 9, 40, 3, 0], [1, 7, 3, 0, 0, 0]], attentionMask: [[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]] };
  const f32 = BertModel.load(dir);
  const bf16 = BertModel.load(dir, { dtype: 'bfloat16' });
  const a = f32.encode(batch).lastHiddenState.toFloat32Array();
  const b = bf16.encode(batch).lastHiddenState;
  assert.equal(b.dtype, 'float32');
  // LayerNormed states are O(1); bf16 keeps 8 mantissa bits, over two layers a few 1e-2.
  assertClose(b.toFloat32Array(), a, 0.1, 0.05, 'bf16 vs f32');
  f32.dispose();
  bf16.dispose();
});
