// Tests of the committed demo model (models/iclit-demo): it loads, config and tokenizer agree, it beats chance on held-out reviews, and a demonstration tells it the label space.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDecoderConfig } from '../../io/index.js';
import { LlamaModel } from '../../models/index.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { repoRoot } from '../../util/paths.js';
import { generateCorpus, labelTokenIds, sentimentAccuracy } from './index.js';

const dir = join(repoRoot(), 'models', 'iclit-demo');

test('the demo model folder is complete, small, and its config matches its tokenizer', async () => {
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'eval.json', 'README.md']) {
    assert.ok(existsSync(join(dir, f)), `models/iclit-demo/${f} is missing`);
  }
  let bytes = 0;
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) bytes += statSync(join(dir, f)).size;
  assert.ok(bytes <= 20 * 1024 * 1024, `the demo model takes ${bytes} bytes (limit 20 MB)`);
  const config = readDecoderConfig(dir);
  const tokenizer = await Tokenizer.load(dir);
  assert.equal(config.modelType, 'llama');
  assert.equal(config.vocabSize, tokenizer.vocabSize);
  assert.equal(config.bosTokenId, tokenizer.bosId);
  assert.equal(config.eosTokenId, tokenizer.eosId);
  assert.equal(tokenizer.addBosByDefault, true);
  const [neg, pos] = labelTokenIds(tokenizer);
  assert.deepEqual(tokenizer.encode(' negative', { addSpecialTokens: false }), [neg], '" negative" is one token');
  assert.deepEqual(tokenizer.encode(' positive', { addSpecialTokens: false }), [pos], '" positive" is one token');
  type Acc = { accuracy: number; labelMass: number };
  const evalJson = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { seed: number; accuracy: { zeroShot: Acc; oneShot: Acc; fewShot: Acc } };
  assert.equal(typeof evalJson.seed, 'number');
  assert.ok(evalJson.accuracy.zeroShot.accuracy > 0.5 && evalJson.accuracy.oneShot.accuracy > 0.5 && evalJson.accuracy.fewShot.accuracy > 0.5);
  assert.ok(evalJson.accuracy.oneShot.labelMass > evalJson.accuracy.zeroShot.labelMass + 0.2, 'eval.json: one demonstration tells the label space');
});

test('the demo model beats chance on 100 held-out generated reviews (zero-shot, label-word logits)', async () => {
  const { seed } = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { seed: number };
  const tokenizer = await Tokenizer.load(dir);
  const model = LlamaModel.load(dir);
  try {
    const corpus = generateCorpus(seed, { trainingTexts: 0 });
    const examples = corpus.heldOut.sentiment.slice(0, 100);
    const train = new Set(corpus.train.sentiment.map((e) => e.text));
    assert.ok(examples.every((e) => !train.has(e.text)), 'held-out examples are not training examples');
    const r = sentimentAccuracy(model, tokenizer, examples, { shots: 0, seed: 11 });
    // 100 balanced examples: a coin flip exceeds 65% with probability < 0.2%.
    assert.ok(r.accuracy >= 0.65, `zero-shot accuracy ${r.accuracy} (predicts positive ${r.positiveRate})`);
    assert.ok(r.positiveRate > 0.2 && r.positiveRate < 0.8, `a near-constant guesser: predicts positive ${r.positiveRate}`);
  } finally {
    model.dispose();
  }
});

test('one demonstration tells the demo model the label space: P(" negative" or " positive") rises from zero- to 1-shot', async () => {
  const { seed } = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as { seed: number };
  const tokenizer = await Tokenizer.load(dir);
  const model = LlamaModel.load(dir);
  try {
    const corpus = generateCorpus(seed, { trainingTexts: 0 });
    const examples = corpus.heldOut.sentiment.slice(0, 100);
    const pool = corpus.heldOut.sentiment.slice(100);
    const zero = sentimentAccuracy(model, tokenizer, examples, { shots: 0, seed: 5 });
    const one = sentimentAccuracy(model, tokenizer, examples, { shots: 1, demoPool: pool, seed: 5 });
    assert.ok(zero.labelMass < 0.6, `zero-shot the model should hesitate between label spaces: P(negative or positive) = ${zero.labelMass}`);
    assert.ok(one.labelMass > zero.labelMass + 0.2, `one demonstration: P(negative or positive) ${zero.labelMass} → ${one.labelMass}`);
    assert.ok(one.accuracy >= 0.65, `1-shot accuracy ${one.accuracy}`);
  } finally {
    model.dispose();
  }
});
