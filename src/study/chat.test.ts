// --chat-template end to end: a study's prompts rendered through a LLaMA-2-chat and a ChatML template, stored exactly, tokenised once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatPrompt, iclPrompt, SENTIMENT_SPEC, tuningTexts } from '../data/index.js';
import { writeTinyStudy } from '../experiments/testing.js';
import { ResultsStore } from '../results/index.js';
import { answerSeparator, ChatTemplate, Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { makeTempDir, tempDir } from '../util/testing.js';
import { mergeSettings } from './settings.js';
import { openStudy } from './study.js';

// As the tokenizer_config.json files of Llama-2-7b-chat-hf and Qwen2-7B-Instruct hold them.
const LLAMA2_CHAT =
  "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'].strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + message['content'].strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
const CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const root = tempDir(test, 'iclit-chat-study-');

/** The tiny study's model folder with `template` in its tokenizer_config.json. */
function chatModel(name: string, template: string): string {
  const model = writeTinyStudy(makeTempDir(`${name}-`, root), { name }).model;
  const cfgPath = join(model, 'tokenizer_config.json');
  const cfg = existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {};
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, chat_template: template, bos_token: '<s>', eos_token: '</s>' }));
  return model;
}

async function run(model: string, preset: string, out: string): Promise<void> {
  const data = join(model, '..', 'sst2.tsv');
  const s = mergeSettings({ preset, models: [model], data, repeats: 2, epochs: 1, dtype: 'float32', device: 'cpu', evalExamples: 5, lora: { r: 2, alpha: 8 }, methods: { chatTemplate: true } }, {});
  const study = await openStudy(s, out);
  try {
    await study.run();
  } finally {
    study.close();
  }
}

function records(dir: string) {
  const s = ResultsStore.open(dir, { readonly: true });
  try {
    return s.records();
  } finally {
    s.close();
  }
}

test('LLaMA-2-chat: anchor, ICL and tuning texts are stored as rendered; the k=1 ICL prompt is the tuning text plus [user: B]; no BOS added twice', async () => {
  const model = chatModel('llama-chat', LLAMA2_CHAT);
  const out = join(root, 'llama-run');
  await run(model, 'wrong-label', out);
  const rs = records(out);
  assert.equal(rs.length, 4);
  const tok = await Tokenizer.load(model);
  for (const r of rs) {
    assert.match(r.prompts.anchor, /^<s>\[INST\] .+\nReview: .+\nSentiment: \[\/INST\]$/s);
    assert.match(r.prompts.tuning[0], /^<s>\[INST\] .+\nReview: .+\nSentiment: \[\/INST\] (Negative|Positive) <\/s>$/s);
    assert.ok(r.prompts.icl.startsWith(r.prompts.tuning[0]), 'ICL = the tuning exchange, then the inference turn');
    assert.match(r.prompts.icl.slice(r.prompts.tuning[0].length), /^<s>\[INST\] Review: .+\nSentiment: \[\/INST\]$/s);
    assert.equal(r.tokenCounts.anchor, tok.encode(r.prompts.anchor, { addSpecialTokens: false }).length);
    assert.ok(r.simIclIt.every((v) => v >= -1 && v <= 1));
  }
  const wrong = rs.find((r) => r.condition === 'wrong-labels' && r.repeat === 0)!;
  const right = rs.find((r) => r.condition === 'right-labels' && r.repeat === 0)!;
  assert.notEqual(wrong.prompts.tuning[0], right.prompts.tuning[0], 'the label in the assistant turn is the wrong one');
  // the same rendering as the template module gives for the plain prompt
  const t = ChatTemplate.load(model);
  const plain = iclPrompt(SENTIMENT_SPEC, 'X', [{ text: 'good', label: 1 }], { text: 'bad', label: 0 });
  assert.equal(chatPrompt(t, plain, true).text, '<s>[INST] X\nReview: good\nSentiment: [/INST] Positive </s><s>[INST] Review: bad\nSentiment: [/INST]');
  const sl = tuningTexts(SENTIMENT_SPEC, 'X', [{ text: 'good', label: 1 }], { withInstruction: false })[0];
  const slChat = chatPrompt(t, sl, false);
  assert.equal(slChat.text, '<s>[INST] Review: good\nSentiment: [/INST] Positive </s>');
  const demo = slChat.parts.find((p) => p.kind === 'demonstration')!;
  assert.equal(slChat.text.slice(demo.answer!.start, demo.answer!.end), 'Positive');
  assert.equal(answerSeparator(t), ' ');
});

test('ChatML: reads end with the generation prompt; the accuracy preset scores the label word right after it', async () => {
  const model = chatModel('chatml', CHATML);
  const out = join(root, 'chatml-run');
  await run(model, 'accuracy', out);
  const rs = records(out);
  for (const r of rs) {
    assert.ok(r.prompts.anchor.endsWith('<|im_end|>\n<|im_start|>assistant\n'), r.prompts.anchor);
    assert.ok(r.prompts.tuning[0].endsWith('<|im_end|>\n') && !r.prompts.tuning[0].endsWith('assistant\n'));
    assert.equal(r.accuracy!.n, 5);
  }
  assert.equal(answerSeparator(ChatTemplate.load(model)), '');
});

test('--chat-template on a folder without a template is refused in one line before anything is written', async () => {
  const plain = writeTinyStudy(makeTempDir('plain-', root), { name: 'plain' }).model;
  const out = join(root, 'no-template');
  await assert.rejects(run(plain, 'convergence', out), (e: unknown) => e instanceof IclitError && /has no chat template/.test(e.message) && !e.message.includes('\n'));
  assert.equal(existsSync(out), false);
});
