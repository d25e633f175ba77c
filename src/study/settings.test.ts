// Tests of run settings: one table for YAML keys and flags, validation naming the key or flag, precedence defaults < file < flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { DEFAULT_METHODS, STUDY_DEFAULTS } from '../experiments/index.js';
import { SETTINGS, flagSettings, loadSettingsFile, mergeSettings, parseSettings } from './settings.js';
import { makeTempDir, removeTempDir } from '../util/testing.js';

test('a YAML config is read, paths resolve against its folder, flags win over the file, defaults fill the rest', () => {
  const dir = makeTempDir('iclit-config-');
  try {
    const file = join(dir, 'study.yaml');
    writeFileSync(file, 'preset: wrong-label\nmodels: [m1, /abs/m2]\ndata: data/sst2.tsv\nrepeats: 5\nlayers: [0, 2, 2, -1]\nlora:\n  r: 4\n  targets: [q_proj, k_proj]\nweight_decay: 0.01\nmethods:\n  tune_loss: answer\n  templates: {sentiment: "{instruction}\\nText: {text}\\nLabel: {label}"}\n');
    const s = loadSettingsFile(file);
    assert.deepEqual(s.models, [join(dir, 'm1'), '/abs/m2']);
    assert.equal(s.data, join(dir, 'data/sst2.tsv'));
    assert.deepEqual(s.layers, [0, 2, -1]);
    const merged = mergeSettings(s, flagSettings({ repeats: '7', seed: '3', 'wrong-labels': 'random' }));
    assert.equal(merged.repeats, 7);
    assert.equal(merged.seed, 3);
    assert.equal(merged.preset, 'wrong-label');
    assert.equal(merged.weightDecay, 0.01);
    assert.deepEqual(merged.lora, { r: 4, alpha: STUDY_DEFAULTS.lora.alpha, dropout: STUDY_DEFAULTS.lora.dropout, targets: ['q_proj', 'k_proj'] });
    assert.equal(merged.lr, 1e-4);
    assert.equal(merged.dtype, 'auto');
    assert.equal(merged.device, 'auto');
    assert.equal(merged.batch, undefined, 'batch is sized by the study (CPU default, CUDA memory)');
    assert.equal(merged.shots, undefined, "each preset's own (the paper's) shots");
    assert.equal(merged.saveStates, true);
    assert.equal(merged.saveAdapters, false);
    assert.deepEqual(merged.methods, { ...DEFAULT_METHODS, tuneLoss: 'answer', wrongLabels: 'random', templates: { ...DEFAULT_METHODS.templates, sentiment: '{instruction}\nText: {text}\nLabel: {label}' } });
    writeFileSync(file, 'preset: [unclosed\n');
    assert.throws(() => loadSettingsFile(file), (e: Error) => e instanceof IclitError && e.message.startsWith(`${file}: not valid YAML`));
  } finally {
    removeTempDir(dir);
  }
});

test('config errors name the file and the key; flag errors name the flag', () => {
  const bad: [unknown, RegExp][] = [
    [{ repeat: 3 }, /c\.yaml: key 'repeat' is not a setting/],
    [{ repeats: 0 }, /key 'repeats' must be an integer ≥ 1, got 0/],
    [{ repeats: 2.5 }, /key 'repeats' must be an integer/],
    [{ seed: -1 }, /key 'seed' must be an integer ≥ 0/],
    [{ dtype: 'float16' }, /key 'dtype' must be one of auto, float32, bfloat16/],
    [{ lr: 0 }, /key 'lr' must be a positive number/],
    [{ lora: { r: 0 } }, /key 'lora\.r' must be an integer ≥ 1/],
    [{ lora: { rank: 8 } }, /key 'lora\.rank' is not a setting/],
    [{ lora: 3 }, /key 'lora' must be a mapping/],
    [{ lora: { dropout: 1 } }, /key 'lora\.dropout' must be a number in \[0, 1\)/],
    [{ lora: { targets: ['qkv'] } }, /key 'lora\.targets' must be module names from/],
    [{ layers: [0, 1.5] }, /key 'layers': 1\.5 is not a hidden-state index/],
    [{ data: 3 }, /key 'data' must be a non-empty path/],
    [{ methods: { tune_loss: 'some' } }, /key 'methods\.tune_loss' must be one of all, answer/],
    [{ save_adapters: 'yes' }, /key 'save_adapters' must be true or false/],
    [[1, 2], /the config must be a mapping/],
  ];
  for (const [raw, re] of bad) assert.throws(() => parseSettings(raw, 'c.yaml', '/'), (e: Error) => e instanceof IclitError && re.test(e.message), JSON.stringify(raw));
  assert.throws(() => mergeSettings({ models: ['m'] }, {}), /no preset given/);
  assert.throws(() => mergeSettings({ preset: 'convergence' }, {}), /no model given/);
  assert.throws(() => flagSettings({ repeats: '-1' }), /--repeats must be an integer ≥ 1, got "-1"/);
  assert.throws(() => flagSettings({ lr: '-1' }), /--lr must be a positive number, got "-1"/);
  assert.throws(() => flagSettings({ layers: 'x' }), /--layers: "x" is not a hidden-state index/);
  assert.deepEqual(flagSettings({ 'no-save-states': true, 'save-adapters': true, 'lora-targets': 'q_proj,o_proj' }), { saveStates: false, saveAdapters: true, lora: { targets: ['q_proj', 'o_proj'] } });
});

test('every setting has a help line that says its default, and YAML keys and flags are unique', () => {
  const yaml = SETTINGS.map((s) => s.yaml);
  const flags = SETTINGS.flatMap((s) => (s.flag ? [s.flag] : []));
  assert.equal(new Set(yaml).size, yaml.length);
  assert.equal(new Set(flags).size, flags.length);
  for (const s of SETTINGS) assert.ok(s.help.length > 10, s.yaml);
  const shots = SETTINGS.find((s) => s.flag === 'shots')!;
  assert.match(shots.help, /default 1: the paper uses a single demonstration/);
});

test('--controls and the YAML key controls: names from the control table, one order, no repeats; default none', () => {
  assert.deepEqual(flagSettings({ controls: 'shuffled-labels, untrained,untrained' }).controls, ['untrained', 'shuffled-labels']);
  assert.deepEqual(parseSettings({ controls: ['random-adapter'] }, 'c.yaml', '/').controls, ['random-adapter']);
  assert.deepEqual(parseSettings({ controls: 'untrained,random-adapter' }, 'c.yaml', '/').controls, ['untrained', 'random-adapter']);
  assert.deepEqual(mergeSettings({ preset: 'convergence', models: ['m'] }, {}).controls, []);
  assert.deepEqual(mergeSettings({ preset: 'convergence', models: ['m'], controls: ['untrained'] }, flagSettings({ controls: 'random-adapter' })).controls, ['random-adapter'], 'the flag wins over the file');
  assert.throws(() => flagSettings({ controls: 'untrained,nope' }), (e: Error) => e instanceof IclitError && e.message === '--controls must be controls from untrained, random-adapter, shuffled-labels, got "nope"');
  assert.throws(() => parseSettings({ controls: [3] }, 'c.yaml', '/'), /key 'controls' must be controls from untrained, random-adapter, shuffled-labels, got 3/);
  assert.throws(() => parseSettings({ controls: { a: 1 } }, 'c.yaml', '/'), /key 'controls' must be a list of controls/);
});
