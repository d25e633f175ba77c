// LoRA's rank is at most min(in, out) of every module it wraps: above it is refused naming the module and both sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import { checkLoraRank } from './rank.js';

test('rank up to min(in, out) of the targets passes; above it is a usage error naming the module', () => {
  // hidden 32, 4 heads of 8 (q: 32 → 32), 2 KV heads (v: 32 → 16), MLP 64
  const c = tinyConfig();
  checkLoraRank(c, 16, ['q_proj', 'v_proj'], '--r');
  checkLoraRank(c, 32, ['q_proj'], '--r');
  assert.throws(() => checkLoraRank(c, 17, ['q_proj', 'v_proj'], '--r'), (e: Error) => e.name === 'UsageError' && /^--r 17 is larger than v_proj's min\(in 32, out 16\) = 16; a LoRA rank is at most that$/.test(e.message));
  assert.throws(() => checkLoraRank(c, 33, ['q_proj'], '--r'), /--r 33 is larger than q_proj's min\(in 32, out 32\) = 32/);
  assert.throws(() => checkLoraRank(c, 100000, ['down_proj'], '--lora-r'), /--lora-r 100000 is larger than down_proj's min\(in 64, out 32\) = 32/);
});
