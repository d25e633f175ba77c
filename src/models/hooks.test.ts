// Hook names are checked against the model's hook points: a misspelt hook is an error naming the known ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { IclitError } from '../util/errors.js';
import { makeTempDir, tempDir } from '../util/testing.js';
import { hookPoints } from './hooks.js';
import { LlamaModel } from './llama.js';

const root = tempDir(test, 'iclit-hooks-');

test('hookPoints: every HF hidden state of a 2-layer model by its TransformerLens-like name', () => {
  assert.deepEqual(hookPoints(2), ['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post', 'ln_final.hook_normalized']);
});

test('a forward with an unknown hook name is refused, naming the known hook points; a known one runs', () => {
  const model = LlamaModel.load(writeRandomCheckpoint(makeTempDir('m-', root), tinyConfig(), { seed: 1 }));
  try {
    assert.throws(
      () => model.forward([[1, 2, 3]], { hiddenStates: [-1], hooks: { 'blocks.0.hook_resid_pots': () => undefined } }),
      (e: unknown) => e instanceof IclitError && /unknown hook 'blocks\.0\.hook_resid_pots'/.test(e.message) && e.message.includes('blocks.0.hook_resid_post') && e.message.includes('ln_final.hook_normalized'),
    );
    let seen = 0;
    model.forward([[1, 2, 3]], { hiddenStates: [-1], hooks: { 'blocks.0.hook_resid_post': () => void seen++ } });
    assert.equal(seen, 1);
  } finally {
    model.dispose();
  }
});
