// Tests for the prompt templates: exact strings of anchor / ICL / IT / SL prompts, part spans, flipped labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IclitError } from '../util/errors.js';
import {
  anchorPrompt, answerOf, flipLabels, iclPrompt, partsInUnits, SENTIMENT_SPEC, splitTemplate, taskSpec, tokenParts,
  TRANSLATION_SPEC, tuningTexts, type Prompt, type TaskSpec,
} from './prompts.js';
import type { SentimentExample } from './types.js';

const X = 'Decide whether the review is negative or positive.';
const A1: SentimentExample = { text: 'a gorgeous film', label: 1 };
const A2: SentimentExample = { text: 'dull {and} slow', label: 0 };
const B: SentimentExample = { text: 'it works', label: 1 };

/** Parts must tile the text: contiguous, in order, from 0 to text.length. */
function assertTiles(p: Prompt): void {
  let at = 0;
  for (const part of p.parts) {
    assert.equal(part.start, at, `part ${part.kind} ${part.index} starts at ${part.start}, expected ${at}`);
    assert.ok(part.end >= part.start);
    at = part.end;
  }
  assert.equal(at, p.text.length);
}
const slice = (p: Prompt, kind: string, index = 0): string => {
  const part = p.parts.find((q) => q.kind === kind && q.index === index);
  assert.ok(part, `no ${kind} ${index}`);
  return p.text.slice(part.start, part.end);
};

test('template pieces of the built-in specs', () => {
  assert.deepEqual(splitTemplate(SENTIMENT_SPEC.template, 'label'), {
    instruction: '{instruction}\n',
    demonstration: 'Review: {text}\nSentiment: {label}',
    inference: 'Review: {text}\nSentiment:',
  });
  assert.deepEqual(splitTemplate(TRANSLATION_SPEC.template, 'target'), {
    instruction: '{instruction}\n',
    demonstration: 'English: {source}\nCzech: {target}',
    inference: 'English: {source}\nCzech:',
  });
  assert.throws(() => splitTemplate('Review: {text}\n{instruction} {label}', 'label'), IclitError);
  assert.throws(() => splitTemplate('{instruction}\nSentiment: {label} .', 'label'), /must end with its answer slot/);
  assert.throws(() => splitTemplate('{instruction} Review: {text} {label}', 'label'), /line break/);
});

test('anchor and ICL prompts: exact strings and spans', () => {
  const anchor = anchorPrompt(SENTIMENT_SPEC, X, B);
  assert.equal(anchor.text, `${X}\nReview: it works\nSentiment:`);
  assertTiles(anchor);
  assert.deepEqual(anchor.parts.map((p) => p.kind), ['instruction', 'inference']);
  assert.equal(slice(anchor, 'instruction'), `${X}\n`);

  const icl = iclPrompt(SENTIMENT_SPEC, X, [A1, A2], B);
  assert.equal(
    icl.text,
    `${X}\nReview: a gorgeous film\nSentiment: positive\n\nReview: dull {and} slow\nSentiment: negative\n\nReview: it works\nSentiment:`,
  );
  assertTiles(icl);
  assert.deepEqual(icl.parts.map((p) => `${p.kind}${p.index}`), ['instruction0', 'demonstration0', 'separator0', 'demonstration1', 'separator1', 'inference0']);
  assert.equal(slice(icl, 'demonstration', 1), 'Review: dull {and} slow\nSentiment: negative');
  assert.equal(slice(icl, 'inference'), 'Review: it works\nSentiment:');
  const d0 = icl.parts[1];
  assert.ok(d0.answer);
  assert.equal(icl.text.slice(d0.answer.start, d0.answer.end), 'positive');
  // ICL with k = 0 is the anchor; the ICL prompt ends with the anchor's inference part
  assert.equal(iclPrompt(SENTIMENT_SPEC, X, [], B).text, anchor.text);
  assert.ok(icl.text.endsWith(slice(anchor, 'inference')));
});

test('IT texts (one per demonstration) and SL texts (withInstruction: false)', () => {
  const it = tuningTexts(SENTIMENT_SPEC, X, [A1, A2]);
  assert.deepEqual(it.map((p) => p.text), [
    `${X}\nReview: a gorgeous film\nSentiment: positive`,
    `${X}\nReview: dull {and} slow\nSentiment: negative`,
  ]);
  it.forEach(assertTiles);
  const sl = tuningTexts(SENTIMENT_SPEC, X, [A1, A2], { withInstruction: false });
  assert.deepEqual(sl.map((p) => p.text), ['Review: a gorgeous film\nSentiment: positive', 'Review: dull {and} slow\nSentiment: negative']);
  assert.deepEqual(sl[0].parts.map((p) => p.kind), ['demonstration']);
  const anchorNoInstr = anchorPrompt(SENTIMENT_SPEC, '', B, { withInstruction: false });
  assert.equal(anchorNoInstr.text, 'Review: it works\nSentiment:');
  assert.throws(() => anchorPrompt(SENTIMENT_SPEC, '  ', B), /instruction is empty/);
});

test('translation prompts', () => {
  const spec = taskSpec('translation');
  const a = { source: 'Hello.', target: 'Ahoj.' };
  const b = { source: 'Good night.', target: 'Dobrou noc.' };
  const icl = iclPrompt(spec, 'Translate into Czech.', [a], b);
  assert.equal(icl.text, 'Translate into Czech.\nEnglish: Hello.\nCzech: Ahoj.\n\nEnglish: Good night.\nCzech:');
  assertTiles(icl);
  const ans = icl.parts[1].answer;
  assert.ok(ans);
  assert.equal(icl.text.slice(ans.start, ans.end), 'Ahoj.');
  assert.equal(answerOf(spec, b), 'Dobrou noc.');
  assert.equal(tuningTexts(spec, 'Translate into Czech.', [b])[0].text, 'Translate into Czech.\nEnglish: Good night.\nCzech: Dobrou noc.');
});

test('flipLabels flips all labels, or only those at given indices, without touching the input', () => {
  const demos = [A1, A2];
  assert.deepEqual(flipLabels(demos), [{ text: A1.text, label: 0 }, { text: A2.text, label: 1 }]);
  assert.deepEqual(flipLabels(demos, [1]), [A1, { text: A2.text, label: 1 }]);
  assert.equal(A1.label, 1);
  const wrong = iclPrompt(SENTIMENT_SPEC, X, flipLabels([A1]), B);
  assert.match(wrong.text, /a gorgeous film\nSentiment: negative\n\n/);
  assert.equal(answerOf(SENTIMENT_SPEC, { text: 'x', label: 0 }), 'negative');
});

test('a custom spec with an unknown slot is a clear error', () => {
  const bad: TaskSpec<SentimentExample> = { ...SENTIMENT_SPEC, template: '{instruction}\nReview: {review}\nSentiment: {label}' };
  assert.throws(() => anchorPrompt(bad, X, B), /slot \{review\} has no value/);
});

test('tokenParts maps token offsets to the part they overlap most; partsInUnits converts offsets', () => {
  const p = iclPrompt(SENTIMENT_SPEC, 'Mood?', [A1], B);
  // "Mood?\n" = [0,6), demo = [6, 6+44)...
  const demoStart = p.parts[1].start;
  const offsets: [number, number][] = [[0, 0], [0, 4], [4, 7], [demoStart, demoStart + 6], [p.parts[2].start, p.parts[2].end], [p.text.length - 3, p.text.length]];
  const got = tokenParts(p, offsets).map((q) => (q ? `${q.kind}${q.index}` : '-'));
  assert.deepEqual(got, ['-', 'instruction0', 'instruction0', 'demonstration0', 'separator0', 'inference0']);

  const cz = iclPrompt(TRANSLATION_SPEC, 'Přelož 🙂', [{ source: 'a', target: 'č' }], { source: 'b', target: 'd' });
  const cp = partsInUnits(cz, 'codepoint');
  const u8 = partsInUnits(cz, 'utf8');
  assert.equal(cz.parts[0].end, 10); // 'Přelož ' (7) + emoji (2 code units) + '\n'
  assert.equal(cp[0].end, 9);
  assert.equal(u8[0].end, Buffer.byteLength('Přelož 🙂\n'));
  assert.equal(u8[u8.length - 1].end, Buffer.byteLength(cz.text));
  const ans = u8[1].answer;
  assert.ok(ans);
  assert.equal(Buffer.from(cz.text).subarray(ans.start, ans.end).toString(), 'č');
});
