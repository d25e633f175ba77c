// Degenerate hidden states stop a repeat in one line naming the model, situation, layer, condition and repeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStates } from './degenerate.js';

const where = { model: 'tiny', layers: [0, 3], condition: 'right-labels', repeat: 7 };
const ok = (): Float32Array[] => [Float32Array.of(1, 2), Float32Array.of(-1, 0.5)];

test('finite, non-zero states pass; NaN, Inf and all-zero states are named', () => {
  checkStates({ anchor: ok(), icl: ok(), it: ok() }, where);
  const nan = ok();
  nan[1][1] = NaN;
  assert.throws(() => checkStates({ anchor: ok(), icl: nan, it: ok() }, where), /^IclitError: the ICL hidden state 3 of model tiny \(condition right-labels, repeat 7\) holds NaN at dimension 1; check the model's weights/);
  const inf = ok();
  inf[0][0] = -Infinity;
  assert.throws(() => checkStates({ anchor: ok(), icl: ok(), it: inf }, where), /the IT hidden state 0 of model tiny .* holds -Infinity at dimension 0/);
  const zero = ok();
  zero[0] = new Float32Array(2);
  assert.throws(() => checkStates({ anchor: zero, icl: ok(), it: ok() }, where), /the anchor hidden state 0 of model tiny \(condition right-labels, repeat 7\) is all zeros, so its similarities would be NaN/);
});
