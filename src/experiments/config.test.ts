// Tests of run settings: YAML validation (errors name the key), relative paths, precedence defaults < file < flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { loadSettingsFile, mergeSettings, parseLayerList, parseSettings } from './config.js';
import { STUDY_DEFAULTS } from './conditions.js';
import { makeTempDir, removeTempDir } from '../util/testing.js';

test('a YAML config is read, paths resolve against its folder, flags win over the file, defaults fill the rest', () => {
  const dir = makeTempDir('iclit-config-');
  try {
    const file = join(dir, 'study.yaml');
    writeFileSync(file, 'preset: wrong-label\nmodels: [m1, /abs/m2]\ndata: data/sst2.tsv\nrepeats: 5\nlayers: [0, 2, 2]\nlora:\n  r: 4\n  targets: [q_proj, k_proj]\nweight_decay: 0.01\n');
    const s = loadSettingsFile(file);
    assert.deepEqual(s.models, [join(dir, 'm1'), '/abs/m2']);
    assert.equal(s.data, join(dir, 'data/sst2.tsv'));
    assert.deepEqual(s.layers, [0, 2]);
    const merged = mergeSettings(s, { repeats: 7, seed: 3 });
    assert.equal(merged.repeats, 7);
    assert.equal(merged.seed, 3);
    assert.equal(merged.preset, 'wrong-label');
    assert.equal(merged.weightDecay, 0.01);
    assert.deepEqual(merged.lora, { r: 4, alpha: STUDY_DEFAULTS.lora.alpha, dropout: STUDY_DEFAULTS.lora.dropout, targets: ['q_proj', 'k_proj'] });
    assert.equal(merged.lr, 1e-4);
    assert.equal(merged.dtype, 'float32');
    assert.equal(merged.batch, STUDY_DEFAULTS.batch);
    writeFileSync(file, 'preset: [unclosed\n');
    assert.throws(() => loadSettingsFile(file), (e: Error) => e instanceof IclitError && e.message.startsWith(`${file}: not valid YAML`));
  } finally {
    removeTempDir(dir);
  }
});

test('config errors name the file and the key', () => {
  const bad: [unknown, RegExp][] = [
    [{ repeat: 3 }, /c\.yaml: key 'repeat' is not a setting/],
    [{ repeats: 0 }, /key 'repeats' must be an integer ≥ 1, got 0/],
    [{ repeats: 2.5 }, /key 'repeats' must be an integer/],
    [{ seed: -1 }, /key 'seed' must be an integer ≥ 0/],
    [{ dtype: 'float16' }, /key 'dtype' must be float32 or bfloat16/],
    [{ lr: 0 }, /key 'lr' must be a positive number/],
    [{ lora: { r: 0 } }, /key 'lora\.r' must be an integer ≥ 1/],
    [{ lora: { rank: 8 } }, /key 'lora\.rank' is not a LoRA setting/],
    [{ lora: { dropout: 1 } }, /key 'lora\.dropout' must be a number in \[0, 1\)/],
    [{ lora: { targets: ['qkv'] } }, /key 'lora\.targets': "qkv" is not one of/],
    [{ layers: [0, -1] }, /key 'layers': -1 is not a hidden-state index/],
    [{ data: 3 }, /key 'data' must be a non-empty string/],
    [[1, 2], /the config must be a mapping/],
  ];
  for (const [raw, re] of bad) assert.throws(() => parseSettings(raw, 'c.yaml', '/'), (e: Error) => e instanceof IclitError && re.test(e.message), JSON.stringify(raw));
  assert.throws(() => mergeSettings({ models: ['m'] }, {}), /no preset given/);
  assert.throws(() => mergeSettings({ preset: 'convergence' }, {}), /no model given/);
  assert.equal(parseLayerList('all', 'x'), 'all');
  assert.deepEqual(parseLayerList('3,1', 'x'), [3, 1]);
});
