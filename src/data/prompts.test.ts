// Tests for the prompt templates: exact strings of anchor / ICL / IT / SL prompts, part spans, flipped labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { IclitError } from '../util/errors.js';
import { missingShared, sharedPath } from '../util/testing.js';
import { anchorPrompt, iclPrompt, partsInUnits, partTokenRanges, splitTemplate, tokenParts, tuningTexts, type Prompt } from './prompts.js';
import { answerOf, SENTIMENT_SPEC, taskExamples, taskSpec, TRANSLATION_SPEC, type TaskSpec } from './tasks.js';
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
  assert.throws(() => splitTemplate('{instruction}Review: {text} {label}', 'label'), /a space or a line break after/);
  // one line, as the paper writes the template in §4.3: the instruction part ends with the space after it
  assert.deepEqual(splitTemplate('{instruction} Review: {text} Sentiment: {label}', 'label'), {
    instruction: '{instruction} ',
    demonstration: 'Review: {text} Sentiment: {label}',
    inference: 'Review: {text} Sentiment:',
  });
});

test("the paper's prompts: label words Positive/Negative by default or as chosen, a one-line template, translation with the instruction before B again (footnote 5)", () => {
  const data = { task: 'sentiment' as const, file: 'mem.tsv', format: 'tsv' as const, examples: [A1, A2, B] };
  assert.equal(taskExamples(data).icl(X, [{ index: 0 }], 2).text, `${X}\nReview: a gorgeous film\nSentiment: Positive\n\nReview: it works\nSentiment:`);
  const lower = taskExamples(data, { labelWords: ['neg', 'pos'] });
  assert.equal(lower.tuning(X, [{ index: 1 }])[0].text, `${X}\nReview: dull {and} slow\nSentiment: neg`);
  assert.deepEqual(lower.labelWords, ['neg', 'pos']);
  assert.match(lower.icl(X, [{ index: 0, label: 0 }], 2).text, /a gorgeous film\nSentiment: neg\n/);
  assert.throws(() => taskExamples(data, { labelWords: ['only'] }), /needs 2 label words/);
  assert.throws(() => taskExamples(data, { labelWords: ['a', 'a'] }), /distinct/);
  const oneLine = taskExamples(data, { template: '{instruction} Review: {text} Sentiment: {label}', separator: ' ' });
  assert.equal(oneLine.icl(X, [{ index: 0 }], 2).text, `${X} Review: a gorgeous film Sentiment: Positive Review: it works Sentiment:`);
  assert.equal(oneLine.answerSeparator, ' ');
  const tr = taskExamples({ task: 'translation', file: 'mem.en', format: 'text-pair', examples: [{ source: 'Hello.', target: 'Ahoj.' }, { source: 'Good night.', target: 'Dobrou noc.' }] });
  assert.equal(tr.instructionPlacement, 'every-example');
  assert.equal(tr.icl('Translate.', [{ index: 0 }], 1).text, 'Translate.\nEnglish: Hello.\nCzech: Ahoj.\n\nTranslate.\nEnglish: Good night.\nCzech:');
  assert.equal(taskExamples({ ...data }, { instructionPlacement: 'every-example' }).instructionPlacement, 'every-example');
  assert.equal(taskExamples({ task: 'translation', file: 'mem.en', format: 'text-pair', examples: tr.size ? [{ source: 'a', target: 'b' }, { source: 'c', target: 'd' }] : [] }, { instructionPlacement: 'once' }).icl('T.', [{ index: 0 }], 1).text, 'T.\nEnglish: a\nCzech: b\n\nEnglish: c\nCzech:');
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
    `${X}\nReview: a gorgeous film\nSentiment: Positive\n\nReview: dull {and} slow\nSentiment: Negative\n\nReview: it works\nSentiment:`,
  );
  assertTiles(icl);
  assert.deepEqual(icl.parts.map((p) => `${p.kind}${p.index}`), ['instruction0', 'demonstration0', 'separator0', 'demonstration1', 'separator1', 'inference0']);
  assert.equal(slice(icl, 'demonstration', 1), 'Review: dull {and} slow\nSentiment: Negative');
  assert.equal(slice(icl, 'inference'), 'Review: it works\nSentiment:');
  const d0 = icl.parts[1];
  assert.ok(d0.answer);
  assert.equal(icl.text.slice(d0.answer.start, d0.answer.end), 'Positive');
  // ICL with k = 0 is the anchor; the ICL prompt ends with the anchor's inference part
  assert.equal(iclPrompt(SENTIMENT_SPEC, X, [], B).text, anchor.text);
  assert.ok(icl.text.endsWith(slice(anchor, 'inference')));
});

test('IT texts (one per demonstration) and SL texts (withInstruction: false)', () => {
  const it = tuningTexts(SENTIMENT_SPEC, X, [A1, A2]);
  assert.deepEqual(it.map((p) => p.text), [
    `${X}\nReview: a gorgeous film\nSentiment: Positive`,
    `${X}\nReview: dull {and} slow\nSentiment: Negative`,
  ]);
  it.forEach(assertTiles);
  const sl = tuningTexts(SENTIMENT_SPEC, X, [A1, A2], { withInstruction: false });
  assert.deepEqual(sl.map((p) => p.text), ['Review: a gorgeous film\nSentiment: Positive', 'Review: dull {and} slow\nSentiment: Negative']);
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

test('relabelled demonstrations: the label replaced in the prompt and the tuning text, the data untouched', () => {
  const data = { task: 'sentiment' as const, file: 'mem.tsv', format: 'tsv' as const, examples: [A1, A2, B] };
  const view = taskExamples(data);
  const wrong = view.icl(X, [{ index: 0, label: 0 }], 2);
  assert.match(wrong.text, /a gorgeous film\nSentiment: Negative\n\n/);
  assert.equal(view.tuning(X, [{ index: 1, label: 1 }])[0].text, `${X}\nReview: dull {and} slow\nSentiment: Positive`);
  assert.equal(A1.label, 1);
  assert.deepEqual([view.gold(0), view.gold(1), view.labelWords], [1, 0, ['Negative', 'Positive']]);
  assert.equal(answerOf(SENTIMENT_SPEC, { text: 'x', label: 0 }), 'Negative');
  // translation has no labels: relabelling is refused, gold is undefined
  const tr = taskExamples({ task: 'translation', file: 'mem.en', format: 'text-pair', examples: [{ source: 'a', target: 'b' }, { source: 'c', target: 'd' }] });
  assert.equal(tr.gold(0), undefined);
  assert.throws(() => tr.icl(X, [{ index: 0, label: 1 }], 1), /no labels to replace/);
  assert.throws(() => view.anchor(X, 9), /mem.tsv: example index 9 is outside the data/);
});

test('template choices: another template and separator, and the instruction before every example', () => {
  const data = { task: 'sentiment' as const, file: 'mem.tsv', format: 'tsv' as const, examples: [A1, A2, B] };
  const view = taskExamples(data, { template: '{instruction}\nText: {text}\nAnswer: {label}', separator: '\n###\n' });
  assert.equal(view.icl(X, [{ index: 0 }], 2).text, `${X}\nText: a gorgeous film\nAnswer: Positive\n###\nText: it works\nAnswer:`);
  const every = iclPrompt(SENTIMENT_SPEC, X, [A1, A2], B, { instructionPlacement: 'every-example' });
  assert.equal(every.text, `${X}\nReview: a gorgeous film\nSentiment: Positive\n\n${X}\nReview: dull {and} slow\nSentiment: Negative\n\n${X}\nReview: it works\nSentiment:`);
  assertTiles(every);
  assert.deepEqual(every.parts.map((p) => `${p.kind}${p.index}`), ['instruction0', 'demonstration0', 'separator0', 'instruction1', 'demonstration1', 'separator1', 'instruction2', 'inference0']);
  assert.equal(iclPrompt(SENTIMENT_SPEC, X, [], B, { instructionPlacement: 'every-example' }).text, anchorPrompt(SENTIMENT_SPEC, X, B).text);
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

test('partTokenRanges: exact prefixes, and the decoding fallback when a boundary is merged into a token', () => {
  const p = iclPrompt(SENTIMENT_SPEC, X, [A1, A2], B);
  const vocab: string[] = [];
  const id = (piece: string): number => (vocab.includes(piece) ? vocab.indexOf(piece) : vocab.push(piece) - 1);
  const decode = (ids: number[]): string => ids.map((i) => vocab[i]).join('');
  // character-level: parts map one to one onto characters
  const chars = { encode: (s: string) => Array.from(s, id), decode };
  const c = partTokenRanges(p, chars);
  assert.equal(c.ids.length, p.text.length);
  assert.deepEqual(c.parts.map((q) => [q.start, q.end]), p.parts.map((q) => [q.start, q.end]));
  // GPT-2-like: "\n\n" at the very end of a string is one token, elsewhere two; prefixes then disagree
  const gpt = { encode: (s: string) => (s.match(/\n\n$|\n|[^\n]+?(?=\n|$)/g) ?? []).map(id), decode };
  assert.notDeepEqual(gpt.encode('a\n\n'), gpt.encode('a\n\nb').slice(0, 2));
  const g = partTokenRanges(p, gpt);
  const texts = g.parts.map((q) => decode(g.ids.slice(q.start, q.end)));
  assert.deepEqual(texts, p.parts.map((q) => p.text.slice(q.start, q.end)));
  // 7-character chunks: a token straddling a boundary goes to the part holding its first character
  const chunks = { encode: (s: string) => (s.match(/[^]{1,7}/g) ?? []).map(id), decode };
  const k = partTokenRanges(p, chunks);
  assert.equal(k.parts[0].end, Math.ceil(p.parts[0].end / 7));
  assert.equal(k.parts[k.parts.length - 1].end, k.ids.length);
  // a codec that does not round-trip is an error, not a guess
  const lossy = { encode: gpt.encode, decode: (ids: number[]) => decode(ids).toUpperCase() };
  assert.throws(() => partTokenRanges(p, lossy), /does not give back the start of the prompt/);
});

test('fixture: part boundaries of real prompts map to tokens exactly (LLaMA-2 and SmolLM2 tokenizers)', (t) => {
  for (const name of ['llama2', 'smollm2-135m-instruct']) {
    const rel = `data/tokenizers/${name}/tokenizer.json`;
    const file = sharedPath(rel);
    if (!file) return t.skip(missingShared(rel));
    const configFile = join(file, '..', 'tokenizer_config.json');
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch {
      // SmolLM2's folder has no tokenizer_config.json; the tokenizer works without it
    }
    const tok = new Tokenizer(JSON.parse(readFileSync(file, 'utf8')), config);
    const codec = {
      encode: (s: string): number[] => tok.encode(s, { add_special_tokens: false }).ids,
      decode: (ids: number[]): string => tok.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false }),
    };
    const prompts = [
      iclPrompt(SENTIMENT_SPEC, X, [A1, A2], B),
      tuningTexts(SENTIMENT_SPEC, X, [A1])[0],
      iclPrompt(SENTIMENT_SPEC, X, [{ text: "it 's a charming and often affecting journey .", label: 1 }], { text: "you do n't have to know about music", label: 1 }),
      iclPrompt(TRANSLATION_SPEC, 'Translate into Czech.', [{ source: 'The professor admitted it.', target: 'Profesor to přiznal.' }], { source: 'Good night.', target: 'Dobrou noc.' }),
    ];
    for (const p of prompts) {
      const { ids, parts } = partTokenRanges(p, codec);
      assert.equal(parts[parts.length - 1].end, ids.length, name);
      for (const q of parts) assert.ok(q.end > q.start, `${name}: empty ${q.part.kind} ${q.part.index}`);
      // decoding each part's tokens gives back that part's text (up to the tokenizer's leading-space handling)
      for (const q of parts) {
        const text = codec.decode(ids.slice(q.start, q.end));
        assert.equal(text.trim(), p.text.slice(q.part.start, q.part.end).trim(), `${name}: ${q.part.kind} ${q.part.index}`);
      }
    }
  }
});
