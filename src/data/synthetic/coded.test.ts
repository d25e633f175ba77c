// Pseudo-word label pairs: no real words, one fresh pair per text, labels consistent with the review's polarity, the instruction unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SENTIMENT_INSTRUCTIONS } from '../instructions.js';
import { REVIEW_ADJECTIVES, generateSentimentExamples } from './sentiment.js';
import { PSEUDO_WORDS, PSEUDO_WORD_COUNT, checkLabelPair, drawLabelPair } from './coded.js';
import { generateTrainingTexts } from './training.js';
import { generateTranslationExamples } from './translation.js';
import { makeDraw } from './random.js';

test('pseudo label words: distinct CVCV words, no real word of the corpus, no prefix of "negative" / "positive"', () => {
  assert.equal(PSEUDO_WORDS.length, PSEUDO_WORD_COUNT);
  assert.equal(new Set(PSEUDO_WORDS).size, PSEUDO_WORD_COUNT);
  const real = new Set([...REVIEW_ADJECTIVES[0], ...REVIEW_ADJECTIVES[1]]);
  for (const w of PSEUDO_WORDS) {
    assert.match(w, /^[bdfgklmnprstvz][aeiou][bdfgklmnprstvz][aiou]$/);
    assert.ok(!'negative'.startsWith(w) && !'positive'.startsWith(w) && !real.has(w), w);
  }
  const pair = drawLabelPair(makeDraw(1));
  assert.notEqual(pair[0], pair[1]);
  assert.throws(() => checkLabelPair(['dabo', 'dabo']), /two different one-word labels/);
});

test('training texts with pseudo labels: a fresh pair per text, each label word standing for its review\'s polarity, the instruction as in the pool', () => {
  const sentiment = generateSentimentExamples(200, 1);
  const byText = new Map(sentiment.map((e) => [e.text, e.label]));
  const texts = generateTrainingTexts(600, 4, sentiment, generateTranslationExamples(100, 1), { sentimentShare: 1, pseudoLabels: 0.75, crossTask: 0 });
  const pseudo = texts.filter((t) => t.labelWords);
  assert.ok(pseudo.length > 400 && pseudo.length < 500, `${pseudo.length} of 600 texts have pseudo labels`);
  const pairs = new Set<string>();
  for (const t of pseudo) {
    const [w0, w1] = t.labelWords!;
    assert.ok(PSEUDO_WORDS.includes(w0) && PSEUDO_WORDS.includes(w1) && w0 !== w1);
    const reviews = [...t.text.matchAll(/Review: ([^\n]+)\nSentiment: ([^\n]+)/g)];
    assert.equal(reviews.length, t.shots + 1, t.text);
    for (const [, review, label] of reviews) assert.equal(label, [w0, w1][byText.get(review)!], `${review} → ${label}`);
    if (t.withInstruction) assert.ok(SENTIMENT_INSTRUCTIONS.includes(t.text.split('\n')[0]), 'the instruction is the pool\'s, "negative or positive" and all');
    pairs.add(`${w0}/${w1}`);
  }
  assert.ok(pairs.size > 200, `pairs vary from text to text (${pairs.size} distinct)`);
  for (const t of texts.filter((x) => !x.labelWords)) assert.match(t.text, /\nSentiment: (negative|positive)$/);
  const plain = generateTrainingTexts(50, 4, sentiment, generateTranslationExamples(100, 1), { sentimentShare: 1 });
  assert.ok(plain.every((t) => !t.labelWords), 'pseudoLabels defaults to 0');
});
