// A chat template is code from a model folder: a huge range, a doubling string or a long nested loop stops within seconds in one line naming the template; real templates render as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate } from './chat-template.js';

const messages = [{ role: 'user' as const, content: 'hi' }];

function stops(text: string, says: RegExp): void {
  const t = ChatTemplate.fromString(text, {}, 'hostile.jinja');
  const start = performance.now();
  assert.throws(() => t.render(messages, { addGenerationPrompt: true }), (e: Error) => {
    assert.equal(e.name, 'IclitError');
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, /^hostile\.jinja: the chat template /);
    assert.match(e.message, says);
    return true;
  });
  assert.ok(performance.now() - start < 10_000, `stopped in ${Math.round(performance.now() - start)} ms`);
}

test('a 10^8-item range, a doubling string and a long nested loop each stop in one line within seconds', () => {
  stops('{% for i in range(100000000) %}x{% endfor %}', /asked range\(\) for 100000000 items \(at most 1000000\)/);
  stops("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", /made a value of more than 10000000 characters or items/);
  stops('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', /took more than 2000000 steps|ran longer than/);
});

test('an ordinary template renders unchanged, and renders again after a bounded one was stopped', () => {
  const t = ChatTemplate.fromString("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}");
  const want = '[user] hi\n[assistant]';
  assert.equal(t.render(messages, { addGenerationPrompt: true }), want);
  assert.throws(() => ChatTemplate.fromString('{% for i in range(100000000) %}{% endfor %}').render(messages, { addGenerationPrompt: false }));
  assert.equal(t.render(messages, { addGenerationPrompt: true }), want);
  // range() stays itself outside the limits
  assert.equal(ChatTemplate.fromString('{% for i in range(3) %}{{ i }}{% endfor %}{% for i in range(1, 7, 2) %}{{ i }}{% endfor %}').render(messages, { addGenerationPrompt: false }), '012135');
});
