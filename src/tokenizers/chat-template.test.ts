// Chat templates: a LLaMA-2-chat and a ChatML folder (written here) render the study's anchor / ICL / tuning texts exactly, with spans; bad folders are one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { makeTempDir, missingShared, sharedPath, tempDir } from '../util/testing.js';
import { ChatTemplate, chatPrompts, type ChatPrompts, type ChatStudyPieces, type ChatText } from './chat-template.js';
import { Tokenizer } from './tokenizer.js';

// The templates as the Hugging Face tokenizer_config.json files of Llama-2-7b-chat-hf and Qwen2-7B-Instruct hold them.
const LLAMA2_CHAT =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}" +
  "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
const CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const root = tempDir(test, 'iclit-chat-');
const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof IclitError && !e.message.includes('\n') && (pattern.test(e.message) || assert.fail(`message was: ${e.message}`)));

/** A tokenizer folder holding only tokenizer_config.json with `config`. */
function folder(config: Record<string, unknown>): string {
  const dir = makeTempDir('tok-', root);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

const X = 'Classify the sentiment of the review.';
const pieces: ChatStudyPieces = {
  instruction: X,
  demonstrations: [
    { input: 'Review: a gripping , funny film\nSentiment:', answer: 'positive' },
    { input: 'Review: dull and long\nSentiment:', answer: 'negative' },
  ],
  input: 'Review: the cast is wonderful\nSentiment:',
};
const one: ChatStudyPieces = { ...pieces, demonstrations: pieces.demonstrations.slice(0, 1) };

/** Every span slices out exactly its piece. */
function checkSpans(t: ChatText, p: ChatStudyPieces): void {
  for (const s of t.spans) {
    const want = s.kind === 'instruction' ? p.instruction : s.kind === 'inference' ? p.input : s.kind === 'demonstration' ? p.demonstrations[s.index].input : p.demonstrations[s.index].answer;
    assert.equal(t.text.slice(s.start, s.end), want, `${s.kind} ${s.index}`);
  }
  for (let i = 1; i < t.spans.length; i++) assert.ok(t.spans[i].start >= t.spans[i - 1].end, 'spans in order, not overlapping');
}

function checkAll(r: ChatPrompts, p: ChatStudyPieces): void {
  checkSpans(r.anchor, p);
  checkSpans(r.icl, p);
  r.tuning.forEach((t) => checkSpans(t, p));
}

test('LLaMA-2-chat: anchor, ICL (demonstrations as turns) and tuning texts render exactly; spans slice out the pieces', () => {
  const t = ChatTemplate.load(folder({ chat_template: LLAMA2_CHAT, bos_token: { __type: 'AddedToken', content: '<s>' }, eos_token: '</s>' }));
  const r = chatPrompts(t, pieces);
  const [a1, a2] = pieces.demonstrations;
  assert.equal(r.anchor.text, `<s>[INST] ${X}\n${pieces.input} [/INST]`);
  assert.equal(r.icl.text, `<s>[INST] ${X}\n${a1.input} [/INST] positive </s><s>[INST] ${a2.input} [/INST] negative </s><s>[INST] ${pieces.input} [/INST]`);
  assert.deepEqual(r.tuning.map((x) => x.text), [`<s>[INST] ${X}\n${a1.input} [/INST] positive </s>`, `<s>[INST] ${X}\n${a2.input} [/INST] negative </s>`]);
  assert.deepEqual(r.icl.spans.map((s) => `${s.kind}${s.index}`), ['instruction0', 'demonstration0', 'answer0', 'demonstration1', 'answer1', 'inference0']);
  assert.deepEqual(r.anchor.spans.map((s) => s.kind), ['instruction', 'inference']);
  const tune = r.tuning[0];
  assert.equal(tune.text.slice(tune.answer.start, tune.answer.end), 'positive');
  assert.equal(tune.text.slice(tune.answer.end), ' </s>', 'the end of turn follows the answer');
  checkAll(r, pieces);
  const k1 = chatPrompts(t, one);
  assert.ok(k1.icl.text.startsWith(k1.tuning[0].text), 'k=1: ICL = the tuning text + the inference turn');
  assert.equal(k1.icl.text.slice(k1.tuning[0].text.length), `<s>[INST] ${pieces.input} [/INST]`);
});

test('ChatML: the generation prompt ends every read; the tuning text has none; the default system turn comes first', () => {
  const t = ChatTemplate.load(folder({ chat_template: CHATML, eos_token: '<|im_end|>', pad_token: '<|endoftext|>', bos_token: null }));
  const r = chatPrompts(t, pieces);
  const sys = '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n';
  const [a1, a2] = pieces.demonstrations;
  assert.equal(r.anchor.text, `${sys}<|im_start|>user\n${X}\n${pieces.input}<|im_end|>\n<|im_start|>assistant\n`);
  assert.equal(r.icl.text, `${sys}<|im_start|>user\n${X}\n${a1.input}<|im_end|>\n<|im_start|>assistant\npositive<|im_end|>\n<|im_start|>user\n${a2.input}<|im_end|>\n<|im_start|>assistant\nnegative<|im_end|>\n<|im_start|>user\n${pieces.input}<|im_end|>\n<|im_start|>assistant\n`);
  assert.equal(r.tuning[1].text, `${sys}<|im_start|>user\n${X}\n${a2.input}<|im_end|>\n<|im_start|>assistant\nnegative<|im_end|>\n`);
  assert.equal(r.tuning[1].text.slice(r.tuning[1].answer.end), '<|im_end|>\n');
  checkAll(r, pieces);
  const k0 = chatPrompts(t, { ...pieces, demonstrations: [] });
  assert.equal(k0.icl.text, k0.anchor.text, 'no demonstrations: ICL is the anchor');
  assert.deepEqual(k0.tuning, []);
  const joined = chatPrompts(t, { ...one, join: '\n\n' });
  assert.ok(joined.anchor.text.includes(`${X}\n\n${pieces.input}`), 'join goes between instruction and example');
  const k1 = chatPrompts(t, one);
  assert.ok(k1.icl.text.startsWith(k1.tuning[0].text), 'k=1: ICL = the tuning text + the inference turn');
});

test('where the template comes from: chat_template.jinja first, a named list\'s "default", AddedToken specials', () => {
  const dir = folder({ chat_template: [{ name: 'tool_use', template: 'TOOLS' }, { name: 'default', template: '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}' }], bos_token: { content: '<B>' } });
  assert.equal(ChatTemplate.load(dir).render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }), '<B>hi');
  writeFileSync(join(dir, 'chat_template.jinja'), '[{{ messages[0].content }}]{% if add_generation_prompt %}>{% endif %}');
  const t = ChatTemplate.load(dir);
  assert.match(t.source, /chat_template\.jinja$/);
  assert.equal(t.render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }), '[hi]>');
  assert.equal(t.render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: false }), '[hi]');
});

test('folders and templates that cannot serve are refused in one line naming the folder, file or key', () => {
  refused(() => ChatTemplate.load(folder({ bos_token: '<s>' })), /has no chat template \(no chat_template\.jinja and no "chat_template" in tokenizer_config\.json\)/);
  refused(() => ChatTemplate.load(makeTempDir('empty-', root)), /has no chat template/);
  refused(() => ChatTemplate.load(folder({ chat_template: 7 })), /tokenizer_config\.json: "chat_template" must be a string or a list/);
  refused(() => ChatTemplate.load(folder({ chat_template: [{ name: 'tool_use', template: 'x' }] })), /"chat_template" is a list without a "default" template/);
  refused(() => ChatTemplate.load(folder({ chat_template: '{% for m in messages %}{{ m.content }}', eos_token: '</s>' })), /tokenizer_config\.json "chat_template": the chat template does not parse/);
  refused(() => ChatTemplate.load(folder({ chat_template: 'x', eos_token: 5 })), /"eos_token" must be a token string/);
  const llama = ChatTemplate.fromString(LLAMA2_CHAT, { bos_token: '<s>', eos_token: '</s>' }, 'llama2-chat');
  refused(() => llama.render([{ role: 'assistant', content: 'hi' }], { addGenerationPrompt: true }), /^llama2-chat: rendering the chat template failed: Conversation roles must alternate/);
  // LLaMA-2 strips content: a piece with edge spaces would not come out verbatim, so its spans would be wrong.
  refused(() => chatPrompts(llama, { ...one, instruction: '  padded' }), /llama2-chat: the chat template rewrites message content/);
  const dropper = ChatTemplate.fromString('{% for m in messages %}{% if m.role == "user" %}{{ m.content }}{% endif %}{% endfor %}', {}, 'dropper');
  refused(() => chatPrompts(dropper, one), /dropper: the chat template leaves out part of the messages \(1 of 4 pieces missing\)/);
  const twice = ChatTemplate.fromString('{% for m in messages %}{{ m.content }}{{ m.content }}{% endfor %}', {}, 'twice');
  refused(() => chatPrompts(twice, one), /twice: the chat template repeats message content/);
  refused(() => chatPrompts(llama, { ...one, input: '' }), /the inference is empty/);
});

test('fixture tier: rendered texts tokenise with one BOS (LLaMA-2) and as special tokens (SmolLM2 ChatML), special tokens not added again', async (t) => {
  const llamaDir = sharedPath('data/tokenizers/llama2');
  const smolDir = sharedPath('data/tokenizers/smollm2-135m-instruct');
  if (!llamaDir || !smolDir) return t.skip(missingShared('data/tokenizers/llama2'));
  const llama = join(makeTempDir('llama-', root), 'tok');
  mkdirSync(llama);
  cpSync(join(llamaDir, 'special_tokens_map.json'), join(llama, 'special_tokens_map.json'));
  // Llama-2-7b-chat-hf's tokenizer.json marks its special tokens "normalized": false, so "<s>" is found anywhere in
  // a text (the base fixture's true would only find it after a space: the normalizer prepends "▁" to it, in
  // transformers as here).
  const tj = JSON.parse(readFileSync(join(llamaDir, 'tokenizer.json'), 'utf8'));
  tj.added_tokens = tj.added_tokens.map((a: Record<string, unknown>) => ({ ...a, normalized: false }));
  writeFileSync(join(llama, 'tokenizer.json'), JSON.stringify(tj));
  const cfg = JSON.parse(readFileSync(join(llamaDir, 'tokenizer_config.json'), 'utf8'));
  writeFileSync(join(llama, 'tokenizer_config.json'), JSON.stringify({ ...cfg, chat_template: LLAMA2_CHAT }));
  const tok = await Tokenizer.load(llama);
  const r = chatPrompts(ChatTemplate.load(llama), one);
  const ids = tok.encode(r.icl.text, { addBos: false });
  assert.deepEqual(ids.slice(0, 4), [1, 518, 25580, 29962], 'BOS from the template, then "▁[INST]" as in Meta\'s chat format');
  assert.notEqual(ids[1], tok.bosId, 'and is not doubled');
  assert.equal(ids.filter((i) => i === tok.bosId).length, 2, 'one BOS per user turn (two turns)');
  assert.equal(ids.filter((i) => i === tok.eosId).length, 1, '</s> after the answer is the EOS token');
  // SentencePiece's dummy prefix: each segment after a special token starts with "▁" (Meta's format), so
  // decoding shows "<s> [INST]" where the text has "<s>[INST]" — as transformers' legacy LLaMA tokenizer does.
  assert.equal(tok.decode(ids).replace(/<s> \[INST\]/g, '<s>[INST]'), r.icl.text, 'round trip up to the dummy-prefix spaces');
  assert.equal(tok.decode(ids.slice(-4)).trim(), '[/INST]', 'the read ends on the [/INST] generation cue');

  const smol = join(makeTempDir('smol-', root), 'tok');
  mkdirSync(smol);
  cpSync(join(smolDir, 'tokenizer.json'), join(smol, 'tokenizer.json'));
  writeFileSync(join(smol, 'tokenizer_config.json'), JSON.stringify({ chat_template: CHATML, eos_token: '<|im_end|>' }));
  const st = await Tokenizer.load(smol);
  const s = chatPrompts(ChatTemplate.load(smol), one);
  const sid = st.encode(s.anchor.text, { addBos: false, addSpecialTokens: false });
  const start = st.encode('<|im_start|>', { addBos: false, addSpecialTokens: false });
  assert.equal(start.length, 1, '<|im_start|> is one special token');
  assert.equal(sid.filter((i) => i === start[0]).length, 3, 'system, user and the generation prompt each open with <|im_start|>');
  assert.equal(st.decode(sid), s.anchor.text);
});
