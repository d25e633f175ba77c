// Tests of Tokenizer loading, BOS/EOS handling and errors: LLaMA-2 against SentencePiece's ids, SmolLM2 round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer, trainByteLevelBpe, saveTrainedBpe } from './index.js';
import { IclitError } from '../util/errors.js';
import { missingShared, sharedPath, makeTempDir, removeTempDir } from '../util/testing.js';

const LLAMA = 'data/tokenizers/llama2';
const LLAMA_REF = 'fixtures/llama2-tokenizer-reference.json';
const SMOL = 'data/tokenizers/smollm2-135m-instruct';

interface RefCase {
  text: string;
  ids: number[];
}

test('LLaMA-2: every SentencePiece reference case matches exactly, with and without BOS', async (t) => {
  const dir = sharedPath(LLAMA);
  const refPath = sharedPath(LLAMA_REF);
  if (!dir) return t.skip(missingShared(LLAMA));
  if (!refPath) return t.skip(missingShared(LLAMA_REF));
  const tok = await Tokenizer.load(dir);
  const cases = (JSON.parse(readFileSync(refPath, 'utf8')) as { cases: RefCase[] }).cases;
  assert.ok(cases.length > 100, `expected the full reference, got ${cases.length} cases`);
  let mismatches = 0;
  for (const c of cases) {
    const ids = tok.encode(c.text, { addBos: false });
    if (ids.join(',') !== c.ids.join(',')) {
      mismatches++;
      assert.deepEqual(ids, c.ids, `text ${JSON.stringify(c.text)}`);
    }
    // Default follows add_bos_token: true; the post-processor also adds <s>, and it must appear once.
    assert.deepEqual(tok.encode(c.text), [1, ...c.ids], `prompt ids of ${JSON.stringify(c.text)}`);
    assert.equal(tok.decode(c.ids), c.text, `round trip of ${JSON.stringify(c.text)}`);
  }
  assert.equal(mismatches, 0);
});

test("LLaMA-2: llama.cpp's tokenizer test cases (whitespace, emoji, Cyrillic) match", async (t) => {
  const dir = sharedPath(LLAMA);
  if (!dir) return t.skip(missingShared(LLAMA));
  const inputs = readFileSync(join(dir, 'tests/ggml-vocab-llama-spm.gguf.inp'), 'utf8').split('\n__ggml_vocab_test__\n');
  const outputs = readFileSync(join(dir, 'tests/ggml-vocab-llama-spm.gguf.out'), 'utf8').split('\n');
  // Both files end with a separator / newline: the last element is empty and is not a case.
  assert.equal(inputs.pop(), '');
  assert.equal(outputs.pop(), '');
  assert.equal(inputs.length, outputs.length);
  const tok = await Tokenizer.load(dir);
  inputs.forEach((text, i) => {
    const expected = outputs[i].trim() === '' ? [] : outputs[i].trim().split(/\s+/).map(Number);
    assert.deepEqual(tok.encode(text, { addBos: false }), expected, `case ${i}: ${JSON.stringify(text)}`);
  });
});

test('LLaMA-2: special ids, vocabulary, EOS and batches without a pad token', async (t) => {
  const dir = sharedPath(LLAMA);
  if (!dir) return t.skip(missingShared(LLAMA));
  const tok = await Tokenizer.load(dir);
  assert.equal(tok.bosId, 1);
  assert.equal(tok.eosId, 2);
  assert.equal(tok.padId, undefined);
  assert.equal(tok.unkId, 0);
  assert.equal(tok.vocabSize, 32000);
  assert.equal(tok.modelMaxLength, undefined); // 1e30 in the config means no limit
  assert.equal(tok.tokenToId('<s>'), 1);
  assert.equal(tok.tokenToId('▁Hello'), 15043);
  assert.equal(tok.idToToken(3186), '▁world');
  assert.equal(tok.tokenToId('no such token'), undefined);
  assert.deepEqual(tok.encode('Hello world'), [1, 15043, 3186]);
  assert.deepEqual(tok.encode('Hello world', { addEos: true }), [1, 15043, 3186, 2]);
  assert.deepEqual(tok.encode('Hello world', { addSpecialTokens: false }), [15043, 3186]);
  assert.deepEqual(tok.tokenize('Hello world'), ['▁Hello', '▁world']);
  assert.equal(tok.decode([1, 15043, 3186, 2], { skipSpecialTokens: true }), 'Hello world');
  assert.equal(tok.decode([]), '');
  assert.throws(() => tok.decode([32000]), IclitError);
  assert.throws(() => tok.decode([1.5]), IclitError);
  assert.throws(() => tok.encodeBatch(['Hello world', 'Hi']), /no PAD token/);
  const batch = tok.encodeBatch(['Hello world', 'Hi'], { padId: 0, paddingSide: 'left' });
  assert.deepEqual(batch.inputIds, [[1, 15043, 3186], [0, 1, 6324]]);
  assert.deepEqual(batch.attentionMask, [[1, 1, 1], [0, 1, 1]]);
  // Truncation keeps BOS and cuts the text.
  assert.deepEqual(tok.encodeBatch(['Hello world'], { maxLength: 2 }).inputIds, [[1, 15043]]);
});

test('SmolLM2 (byte-level BPE, no tokenizer_config.json): round trips and ids from config.json', async (t) => {
  const dir = sharedPath(SMOL);
  if (!dir) return t.skip(missingShared(SMOL));
  const tok = await Tokenizer.load(dir);
  assert.equal(tok.vocabSize, 49152);
  // No tokenizer_config.json: bos/eos/pad come from config.json's *_token_id; BOS is not added by default.
  assert.equal(tok.bosId, 1);
  assert.equal(tok.eosId, 2);
  assert.equal(tok.padId, 2);
  assert.equal(tok.addBosByDefault, false);
  assert.deepEqual(tok.encode('Hello world'), [19556, 905]);
  assert.deepEqual(tok.encode('Hello world', { addBos: true }), [1, 19556, 905]);
  const sentences = [
    "it 's a charming and often affecting journey . ",
    'Hello world! It\'s 2024, and prices rose 3.5% — "quoted" text.',
    '  leading spaces, tabs\tand\nnewlines\n\n',
    'Příliš žluťoučký kůň úpěl ďábelské ódy. Ünïcödé, 日本語, emoji 🦙🚀',
    '<|im_start|>user\nHi there<|im_end|>',
  ];
  for (const s of sentences) {
    const ids = tok.encode(s);
    assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize));
    assert.equal(tok.decode(ids), s, `round trip of ${JSON.stringify(s)}`);
  }
  assert.deepEqual(tok.encode('<|im_start|>user'), [1, 4093]);
  assert.equal(tok.decode(tok.encode('<|im_start|>user\nHi<|im_end|>'), { skipSpecialTokens: true }), 'user\nHi');
});

test('load: missing and malformed files name the file', async () => {
  const root = makeTempDir('iclit-tok-');
  try {
    await assert.rejects(Tokenizer.load(join(root, 'nope')), (e: Error) => e instanceof IclitError && /nope: tokenizer folder not found/.test(e.message));
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await assert.rejects(Tokenizer.load(empty), (e: Error) => e instanceof IclitError && e.message.includes(join(empty, 'tokenizer.json')));

    const good = join(root, 'good');
    saveTrainedBpe(good, trainByteLevelBpe(['a small corpus of words', 'a small corpus'], { vocabSize: 270 }));
    const tok = await Tokenizer.load(good);
    assert.deepEqual([tok.unkId, tok.bosId, tok.eosId, tok.padId], [0, 1, 2, 3]);

    const broken = join(root, 'broken');
    saveTrainedBpe(broken, trainByteLevelBpe(['x'], { vocabSize: 260 }));
    writeFileSync(join(broken, 'tokenizer_config.json'), '{"bos_token": "<s>",');
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && e.message.startsWith(join(broken, 'tokenizer_config.json') + ' is not valid JSON'));
    writeFileSync(join(broken, 'tokenizer_config.json'), JSON.stringify({ bos_token: { __type: 'AddedToken', content: '<bos>' } }));
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && /tokenizer_config\.json: "bos_token" is "<bos>", which is not in/.test(e.message));
    writeFileSync(join(broken, 'tokenizer_config.json'), JSON.stringify({ bos_token: 7 }));
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && /"bos_token": expected a token string/.test(e.message));
    writeFileSync(join(broken, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: 'yes' }));
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && /"add_bos_token" must be true or false/.test(e.message));
    writeFileSync(join(broken, 'tokenizer_config.json'), '[]');
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && /tokenizer_config\.json is not a JSON object/.test(e.message));
    writeFileSync(join(broken, 'tokenizer_config.json'), '{}');
    writeFileSync(join(broken, 'tokenizer.json'), JSON.stringify({ model: { type: 'Mystery' } }));
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && e.message === `${join(broken, 'tokenizer.json')}: "model.type" is "Mystery"; supported are BPE, WordPiece, Unigram and WordLevel`);
    writeFileSync(join(broken, 'tokenizer.json'), JSON.stringify({ version: '1.0' }));
    await assert.rejects(Tokenizer.load(broken), (e: Error) => e instanceof IclitError && /tokenizer\.json: missing "model"/.test(e.message));
  } finally {
    removeTempDir(root);
  }
});

test('BOS: an AddedToken-object bos_token and add_bos_token=false are honoured; BOS is never doubled', () => {
  const trained = trainByteLevelBpe(['hello hello world'], { vocabSize: 270 });
  const withObject = Tokenizer.fromFiles({
    tokenizerJson: trained.tokenizerJson,
    tokenizerConfig: { ...trained.tokenizerConfig, bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false } },
  });
  assert.equal(withObject.bosId, 1);
  const ids = withObject.encode('hello');
  assert.equal(ids[0], 1);
  assert.equal(ids.filter((id) => id === 1).length, 1);
  const off = Tokenizer.fromFiles({ tokenizerJson: trained.tokenizerJson, tokenizerConfig: { ...trained.tokenizerConfig, add_bos_token: false } });
  assert.deepEqual(off.encode('hello'), ids.slice(1)); // the post-processor's <s> is dropped
  assert.deepEqual(off.encode('hello', { addBos: true }), ids);
  // Without tokenizer_config.json, ids come from config.json (a list of EOS ids: the first).
  const fromModelConfig = Tokenizer.fromFiles({ tokenizerJson: trained.tokenizerJson, modelConfig: { bos_token_id: 1, eos_token_id: [2, 3] } });
  assert.deepEqual([fromModelConfig.bosId, fromModelConfig.eosId, fromModelConfig.padId], [1, 2, undefined]);
  // No post-processor at all: BOS comes only from the config.
  const bare = Tokenizer.fromFiles({ tokenizerJson: { ...trained.tokenizerJson, post_processor: null }, tokenizerConfig: trained.tokenizerConfig });
  assert.deepEqual(bare.encode('hello'), ids);
  assert.deepEqual(bare.encode('hello', { addEos: true }), [...ids, 2]);
});
