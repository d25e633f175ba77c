// Sentence encoder: tiny-bert fixture embeddings, pooling/normalise vs a float64 reference, batching order, truncation, bad inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../io/index.js';
import { tinyEncoderConfig, writeRandomEncoderCheckpoint, type EncoderConfig } from '../io/bert-config.js';
import { tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { assertClose, maxAbsDiff, missingShared, sharedPath, tempDir, makeTempDir } from '../util/testing.js';
import { naiveBertForward, naivePool } from '../test-support/naive-bert.js';
import { SentenceEncoder } from './sentence-encoder.js';
import { writeSentenceModules, type SentenceModulesSpec } from './sentence-modules.js';
import type { PoolingMode } from './pooling.js';

/** Every folder this file writes lives here and is removed when the file's tests end. */
const root = tempDir(test, 'iclit-sbert-');

const FIXTURE = 'fixtures/tiny-bert';
const MINILM_TOKENIZER = 'data/tokenizers/all-MiniLM-L6-v2';

function tmp(): string {
  return makeTempDir('sbert-', root);
}

/** A random sentence-transformers folder. */
function randomFolder(spec: SentenceModulesSpec = {}, over: Partial<EncoderConfig> = {}, seed = 5): string {
  const config = tinyEncoderConfig(over);
  const dir = writeRandomEncoderCheckpoint(tmp(), config, { seed, std: 0.15 });
  return writeSentenceModules(dir, config.hiddenSize, spec);
}

function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => e instanceof IclitError && re.test(e.message), String(re));
}

test('tiny-bert fixture: pooled, normalised embeddings [3, 48] within 1e-5 of the reference', async (t) => {
  const dir = sharedPath(FIXTURE);
  if (!dir) return t.skip(missingShared(FIXTURE));
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][]; embeddings: number[][] };
  const enc = await SentenceEncoder.load(dir, { batchSize: 2 });
  assert.deepEqual(enc.pooling.modes, ['mean_tokens']);
  assert.equal(enc.modules.normalize, true);
  assert.equal(enc.tokenizer, undefined);
  const got = enc.embed({ inputIds: ref.input_ids, attentionMask: ref.attention_mask });
  const f = SafetensorsFile.open(join(dir, 'reference.safetensors'));
  const want = tidy(() => f.tensor('embeddings').toFloat32Array());
  f.close();
  assert.equal(got.length, 3);
  got.forEach((row, b) => {
    assertClose(row, want.subarray(b * 48, (b + 1) * 48), 1e-5, 0, `embedding ${b}`);
    assertClose(row, ref.embeddings[b], 1e-5, 0, `embedding ${b} (reference.json)`);
  });
  assert.equal(enc.forwardCalls, 2, 'batch size 2 → two forward passes for three rows');
  await rejects(Promise.resolve().then(() => enc.embed(['a sentence'])), /has no tokenizer.json: pass token ids/);
  enc.dispose();
});

const poolings: [string, PoolingMode[], boolean][] = [
  ['mean, normalised', ['mean_tokens'], true],
  ['mean, not normalised', ['mean_tokens'], false],
  ['CLS', ['cls_token'], false],
  ['max', ['max_tokens'], true],
  ['mean_sqrt_len', ['mean_sqrt_len_tokens'], false],
  ['weightedmean', ['weightedmean_tokens'], false],
  ['lasttoken', ['lasttoken'], false],
  ['CLS + max + mean concatenated', ['cls_token', 'max_tokens', 'mean_tokens'], true],
];

// Lengths chosen so that batches of 2 mix lengths and the longest input is not first.
const SEQS = [[2, 5, 9, 40, 3], [2, 77, 3], [2, 12, 8, 95, 14, 15, 16, 17, 3], [2, 3], [2, 60, 61, 62, 3]];

for (const [name, modes, normalize] of poolings) {
  test(`pooling ${name}: every sequence of a sorted, padded, batched call equals the float64 reference (1e-4)`, async () => {
    const dir = randomFolder({ modes, normalize });
    const enc = await SentenceEncoder.load(dir, { batchSize: 2 });
    assert.equal(enc.dimension, 32 * modes.length);
    const got = enc.embed({ inputIds: SEQS });
    assert.equal(enc.forwardCalls, 3);
    SEQS.forEach((ids, b) => {
      const ref = naiveBertForward(dir, ids);
      const want = naivePool(ref.hidden[ref.hidden.length - 1], ids.length, 32, modes, normalize);
      assertClose(got[b], want, 1e-4, 0, `sequence ${b}`);
    });
    if (normalize) for (const v of got) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    else assert.ok(got.some((v) => Math.abs(Math.hypot(...v) - 1) > 1e-2), 'without Normalize the norms are not 1');
    enc.dispose();
  });
}

test('padding invariance: a sequence alone = the same sequence in a padded batch; pre-padded ids input = unpadded', async () => {
  const enc = await SentenceEncoder.load(randomFolder({ modes: ['mean_tokens', 'max_tokens'] }), { batchSize: 8 });
  const alone = SEQS.map((s) => enc.embed({ inputIds: [s] })[0]);
  const together = enc.embed({ inputIds: SEQS });
  const T = 9;
  const prePadded = enc.embed({ inputIds: SEQS.map((s) => [...s, ...Array(T - s.length).fill(0)]), attentionMask: SEQS.map((s) => [...s.map(() => 1), ...Array(T - s.length).fill(0)]) });
  SEQS.forEach((_, b) => {
    assert.ok(maxAbsDiff(alone[b], together[b]) < 1e-5, `sequence ${b} batched: ${maxAbsDiff(alone[b], together[b])}`);
    assert.ok(maxAbsDiff(alone[b], prePadded[b]) < 1e-5, `sequence ${b} pre-padded`);
  });
  // A mask that hides a middle token changes the embedding (the mask is honoured, not just trimmed).
  const holed = enc.embed({ inputIds: [SEQS[0]], attentionMask: [[1, 1, 0, 1, 1]] })[0];
  assert.ok(maxAbsDiff(holed, alone[0]) > 1e-3);
  assert.deepEqual(enc.embed({ inputIds: [] }), []);
  enc.dispose();
});

test('max_seq_length: sentence_bert_config.json first, else max_position_embeddings; do_lower_case read', async () => {
  const a = await SentenceEncoder.load(randomFolder({ maxSeqLength: 16, doLowerCase: true }));
  assert.equal(a.maxSeqLength, 16);
  assert.equal(a.doLowerCase, true);
  a.dispose();
  const b = await SentenceEncoder.load(randomFolder());
  assert.equal(b.maxSeqLength, 40);
  b.dispose();
  const c = await SentenceEncoder.load(randomFolder({ maxSeqLength: 100 }));
  assert.equal(c.maxSeqLength, 40, 'never beyond the position table');
  c.dispose();
});

test('bad module files, pooling configs and inputs throw IclitError naming the file or row', async () => {
  const dir = randomFolder();
  rmSync(join(dir, 'modules.json'));
  await rejects(SentenceEncoder.load(dir), /modules.json not found .* is not a sentence-transformers folder/);

  const noPool = randomFolder();
  rmSync(join(noPool, '1_Pooling', 'config.json'));
  await rejects(SentenceEncoder.load(noPool), /1_Pooling\/config.json not found \(the Pooling module/);

  const dense = randomFolder();
  const mods = JSON.parse(readFileSync(join(dense, 'modules.json'), 'utf8')) as unknown[];
  writeFileSync(join(dense, 'modules.json'), JSON.stringify([...mods, { idx: 3, name: '3', path: '3_Dense', type: 'sentence_transformers.models.Dense' }]));
  await rejects(SentenceEncoder.load(dense), /module type "sentence_transformers.models.Dense" is not supported/);
  writeFileSync(join(dense, 'modules.json'), JSON.stringify([mods[1], mods[0]].map((m, i) => ({ ...(m as object), idx: i }))));
  await rejects(SentenceEncoder.load(dense), /modules must be Transformer, Pooling and optionally Normalize in that order, got pooling → transformer/);
  writeFileSync(join(dense, 'modules.json'), '{"not": "a list"}');
  await rejects(SentenceEncoder.load(dense), /modules.json: expected a JSON list/);

  const pool = randomFolder();
  const poolPath = join(pool, '1_Pooling', 'config.json');
  writeFileSync(poolPath, JSON.stringify({ word_embedding_dimension: 32, pooling_mode_mean_tokens: false }));
  await rejects(SentenceEncoder.load(pool), /no pooling_mode_\* flag is true/);
  writeFileSync(poolPath, JSON.stringify({ word_embedding_dimension: 32, pooling_mode_fancy: true }));
  await rejects(SentenceEncoder.load(pool), /"pooling_mode_fancy" is not a supported pooling mode/);
  writeFileSync(poolPath, JSON.stringify({ word_embedding_dimension: 64, pooling_mode_mean_tokens: true }));
  await rejects(SentenceEncoder.load(pool), /word_embedding_dimension 64 differs from the encoder's hidden_size 32/);

  const sb = randomFolder({ maxSeqLength: 16 });
  writeFileSync(join(sb, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 'long' }));
  await rejects(SentenceEncoder.load(sb), /"max_seq_length" must be an integer/);
  await rejects(SentenceEncoder.load(join(sb, 'nope')), /encoder folder .* does not exist/);
  await rejects(SentenceEncoder.load(sb, { batchSize: 0 }), /batch size must be a positive integer/);

  const enc = await SentenceEncoder.load(randomFolder());
  assert.throws(() => enc.embed({ inputIds: [[1, 2, 3]], attentionMask: [[1, 1]] }), /attention_mask row 0 has 2 entries but input_ids row 0 has 3/);
  assert.throws(() => enc.embed({ inputIds: [[1, 2, 3]], attentionMask: [[0, 0, 0]] }), /attention_mask row 0 masks every token/);
  assert.throws(() => enc.embed({ inputIds: [[1, 2, 3], []] }), /input_ids row 1 is empty/);
  assert.throws(() => enc.embed({ inputIds: [[1, 2, 999]] }), /input_ids\[0\]\[2\] is 999/);
  assert.throws(() => enc.embed(['text']), /has no tokenizer.json/);
  enc.dispose();
});

test('real all-MiniLM-L6-v2 tokenizer: texts are truncated to max_seq_length with [CLS] … [SEP] and embed like their ids', async (t) => {
  const tok = sharedPath(MINILM_TOKENIZER);
  if (!tok) return t.skip(missingShared(MINILM_TOKENIZER));
  const dir = randomFolder({ maxSeqLength: 12 }, { vocabSize: 30522, maxPositionEmbeddings: 600 });
  const enc = await SentenceEncoder.load(dir, { tokenizerDir: tok });
  assert.equal(enc.maxSeqLength, 12);
  const long = 'this sentence has many more words than twelve tokens can hold in the encoder';
  const ids = enc.tokenize(['Hello world', long]);
  assert.deepEqual(ids[0], [101, 7592, 2088, 102]);
  assert.equal(ids[1].length, 12);
  assert.equal(ids[1][0], 101);
  assert.equal(ids[1][11], 102);
  const byText = enc.embed(['Hello world', long]);
  const byIds = enc.embed({ inputIds: ids });
  byText.forEach((v, i) => assert.ok(maxAbsDiff(v, byIds[i]) < 1e-6));
  enc.dispose();
  // Without sentence_bert_config.json the tokenizer's model_max_length (512) applies below the position table (600).
  const noSbert = await SentenceEncoder.load(randomFolder({}, { vocabSize: 30522, maxPositionEmbeddings: 600 }), { tokenizerDir: tok });
  assert.equal(noSbert.maxSeqLength, 512);
  noSbert.dispose();
});

test('texts without the shared tokenizers: do_lower_case is applied, a text with no tokens is a clear error', async () => {
  const dir = randomFolder({ doLowerCase: true, maxSeqLength: 4 });
  // A word-level tokenizer without special tokens, written beside the encoder.
  const vocab = { '[UNK]': 0, '[PAD]': 1, a: 2, b: 3, c: 4 };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ version: '1.0', model: { type: 'WordLevel', vocab, unk_token: '[UNK]' }, pre_tokenizer: { type: 'Whitespace' } }));
  const enc = await SentenceEncoder.load(dir);
  assert.deepEqual(enc.tokenize(['A b', 'a B c a b']), [[2, 3], [2, 3, 4, 2]], 'lower-cased, truncated to max_seq_length 4');
  const [upper] = enc.embed(['A B']);
  const [lower] = enc.embed({ inputIds: [[2, 3]] });
  assert.ok(maxAbsDiff(upper, lower) < 1e-6);
  assert.throws(() => enc.embed(['a', '   ']), /text 1 \(" {3}"\) gives no tokens with the tokenizer of/);
  enc.dispose();
});

test('fingerprint: a copied encoder folder keeps it; changed weights or pooling change it', async () => {
  const dir = randomFolder();
  const copy = join(tmp(), 'moved');
  cpSync(dir, copy, { recursive: true });
  const [a, b] = [await SentenceEncoder.load(dir), await SentenceEncoder.load(copy)];
  assert.equal(a.fingerprint, b.fingerprint);
  assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
  b.dispose();
  writeFileSync(join(copy, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 32, pooling_mode_cls_token: true }));
  const c = await SentenceEncoder.load(copy);
  assert.notEqual(c.fingerprint, a.fingerprint);
  c.dispose();
  a.dispose();
});
