// Tests of the generated corpus: determinism, balance, disjoint splits, prompt formats, and read-back through src/data's readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadDataset } from '../load.js';
import { SENTIMENT_INSTRUCTIONS, TRANSLATION_INSTRUCTIONS } from '../instructions.js';
import {
  generateCorpus, generateSentimentExamples, generateTranslationExamples, generateTrainingTexts, sst2Tsv, writeSst2Tsv, writeTextPair,
  REVIEW_ADJECTIVES, LEX_NOUNS,
} from './index.js';
import { makeTempDir, removeTempDir } from '../../util/testing.js';

test('sentiment examples are deterministic per seed, distinct and balanced', () => {
  const a = generateSentimentExamples(301, 7);
  const b = generateSentimentExamples(301, 7);
  const c = generateSentimentExamples(301, 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a.map((e) => e.text)).size, a.length);
  assert.equal(a.filter((e) => e.label === 0).length, 150);
  assert.equal(a.filter((e) => e.label === 1).length, 151);
  for (const e of a) {
    assert.match(e.text, /^[a-z][^\t\n]*[.!]$/, e.text);
    assert.equal(e.text, e.text.trim());
  }
});

test('a review without negation or "but" uses only adjectives of its own polarity', () => {
  const adj = [new Set(REVIEW_ADJECTIVES[0]), new Set(REVIEW_ADJECTIVES[1])];
  let checked = 0;
  for (const e of generateSentimentExamples(400, 3)) {
    if (/\bnot\b|\bbut\b/.test(e.text)) continue;
    const words = e.text.replace(/[.,;!]/g, ' ').split(/\s+/);
    for (const w of words) assert.ok(!adj[1 - e.label].has(w), `"${e.text}" (label ${e.label}) holds "${w}"`);
    checked++;
  }
  assert.ok(checked > 200, `only ${checked} plain reviews checked`);
});

test('translation pairs are deterministic, distinct, and inflect objects into the accusative', () => {
  const a = generateTranslationExamples(200, 1);
  assert.deepEqual(a, generateTranslationExamples(200, 1));
  assert.notDeepEqual(a, generateTranslationExamples(200, 2));
  assert.equal(new Set(a.map((p) => p.source)).size, 200);
  for (const p of a) {
    assert.match(p.source, /^[A-Z].*\.$/);
    assert.match(p.target, /^\p{Lu}.*\.$/u);
    assert.ok(!/\b(the|an)\b/i.test(p.target), `Czech has no articles: ${p.target}`);
  }
  const book = LEX_NOUNS.find((n) => n.en === 'book')!;
  assert.deepEqual([book.nom, book.acc, book.gender], ['kniha', 'knihu', 'f']);
  const withBook = a.filter((p) => / (the|a) book\.$/.test(p.source) && !/ and /.test(p.source));
  for (const p of withBook) assert.match(p.target, / knihu\.$/, `${p.source} → ${p.target}`);
});

test('the corpus splits are disjoint and the training texts follow the prompt formats', () => {
  const c = generateCorpus(5, { trainSentiment: 300, trainTranslation: 300, heldOutSentiment: 100, heldOutTranslation: 50, trainingTexts: 200 });
  assert.deepEqual(c, generateCorpus(5, { trainSentiment: 300, trainTranslation: 300, heldOutSentiment: 100, heldOutTranslation: 50, trainingTexts: 200 }));
  const train = new Set(c.train.sentiment.map((e) => e.text));
  for (const e of c.heldOut.sentiment) assert.ok(!train.has(e.text), `held-out review in training: ${e.text}`);
  const trainT = new Set(c.train.translation.map((e) => e.source));
  for (const e of c.heldOut.translation) assert.ok(!trainT.has(e.source));
  assert.equal(c.heldOut.sentiment.filter((e) => e.label === 1).length, 50);
  assert.equal(c.trainingTexts.length, 200);
  for (const t of c.trainingTexts) {
    const first = t.text.split('\n')[0];
    const pool = t.task === 'sentiment' ? SENTIMENT_INSTRUCTIONS : TRANSLATION_INSTRUCTIONS;
    if (t.withInstruction) assert.ok(pool.includes(first), `not an instruction of the pool: ${first}`);
    else assert.match(first, /^(Review|English): /);
    if (t.task === 'sentiment') assert.match(t.text, /\nSentiment: (negative|positive)$/);
    else assert.match(t.text, /(^|\n)English: [^\n]+\nCzech: [^\n]+$/);
  }
  const sentiment = c.trainingTexts.filter((t) => t.task === 'sentiment');
  assert.equal(sentiment.length, 100);
  assert.ok(sentiment.some((t) => t.shots === 0) && sentiment.some((t) => t.shots === 5));
  assert.ok(c.trainingTexts.some((t) => !t.withInstruction));
  // A 2-shot sentiment text: instruction, two demonstrations separated by a blank line, the answered example.
  const two = generateTrainingTexts(40, 1, c.train.sentiment, c.train.translation, { maxShots: 2, noInstruction: 0, crossTask: 0 }).find((t) => t.task === 'sentiment' && t.shots === 2)!;
  assert.equal(two.text.split('\n\n').length, 3);
  assert.equal((two.text.match(/Sentiment: /g) ?? []).length, 3);
});

test('written TSV and text-pair files load through src/data readers unchanged', async () => {
  const dir = makeTempDir('iclit-synthetic-');
  try {
    const s = generateSentimentExamples(50, 2);
    const t = generateTranslationExamples(30, 2);
    const tsv = writeSst2Tsv(join(dir, 'sst2', 'dev.tsv'), s);
    const pair = writeTextPair(join(dir, 'wmt', 'newstest'), t);
    const ds = await loadDataset(tsv);
    assert.equal(ds.task, 'sentiment');
    assert.deepEqual(ds.examples, s);
    const dt = await loadDataset(join(dir, 'wmt', 'newstest'));
    assert.equal(dt.task, 'translation');
    assert.deepEqual(dt.examples, t);
    assert.deepEqual((await loadDataset(pair.en, 'translation')).examples, t);
    assert.throws(() => sst2Tsv([{ text: 'a\tb', label: 0 }]), /tab or line break/);
  } finally {
    removeTempDir(dir);
  }
});
