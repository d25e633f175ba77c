// `iclit activations` end to end: output file contents, and one-line errors with non-zero exits for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, tinyConfig, writeRandomCheckpoint } from '../../io/index.js';
import { LlamaModel } from '../../models/index.js';
import { tidy } from '../../torch/index.js';
import { repoRoot } from '../../util/paths.js';
import { tempDir, makeTempDir } from '../../util/testing.js';

const bin = join(repoRoot(), 'bin', 'iclit.js');
const root = tempDir(test, 'iclit-cli-');
const tmp = () => makeTempDir('d-', root);
function iclit(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

test('activations writes hidden.<layer> [positions, hidden] float32 and input_ids, equal to the library call', () => {
  const model = writeRandomCheckpoint(tmp(), tinyConfig(), { seed: 5 });
  const out = join(tmp(), 'a.safetensors');
  const r = iclit('activations', '--model', model, '--ids', '1,4,9,16', '--layers', '0,-1', '--positions', 'all', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const f = SafetensorsFile.open(out);
  assert.deepEqual(f.names().sort(), ['hidden.0', 'hidden.2', 'input_ids']);
  assert.deepEqual(f.info('hidden.2')!.shape, [4, 32]);
  assert.equal(f.info('hidden.2')!.dtype, 'float32');
  const want = LlamaModel.load(model).hiddenStates([[1, 4, 9, 16]], [2], 'all').get(2)!;
  tidy(() => assert.deepEqual(f.tensor('hidden.2').toFloat32Array(), want.select(0, 0).toFloat32Array()));
  tidy(() => assert.deepEqual(f.tensor('input_ids').toIntArray(), [1, 4, 9, 16]));
  const last = join(tmp(), 'b.safetensors');
  assert.equal(iclit('activations', '--model', model, '--ids', '1,4,9,16', '--out', last).status, 0);
  assert.deepEqual(SafetensorsFile.open(last).info('hidden.1')!.shape, [1, 32]);
});

test('bad input: one clear line on stderr, non-zero exit, never a stack trace', () => {
  const model = writeRandomCheckpoint(tmp(), tinyConfig(), { seed: 5 });
  const out = join(tmp(), 'x.safetensors');
  const cases: [string, () => string[], RegExp, number][] = [
    ['missing config.json', () => { const d = tmp(); return ['--model', d]; }, /config.json not found/, 1],
    ['malformed config.json', () => { const d = writeRandomCheckpoint(tmp(), tinyConfig()); writeFileSync(join(d, 'config.json'), '{oops'); return ['--model', d]; }, /config.json is not valid JSON/, 1],
    ['unsupported architecture', () => { const d = writeRandomCheckpoint(tmp(), tinyConfig()); const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')); writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, model_type: 'falcon' })); return ['--model', d]; }, /model_type "falcon" is not supported/, 1],
    ['truncated weights', () => { const d = writeRandomCheckpoint(tmp(), tinyConfig()); truncateSync(join(d, 'model.safetensors'), 5000); return ['--model', d]; }, /not a valid safetensors file: .*truncated/, 1],
    ['missing shard', () => { const d = writeRandomCheckpoint(tmp(), tinyConfig(), { shards: 3 }); rmSync(join(d, 'model-00003-of-00003.safetensors')); return ['--model', d]; }, /missing shard model-00003-of-00003.safetensors/, 1],
    ['wrong-shaped tensor', () => { const d = writeRandomCheckpoint(tmp(), tinyConfig()); const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')); writeFileSync(join(d, 'config.json'), JSON.stringify({ ...c, intermediate_size: 65 })); return ['--model', d]; }, /has shape \[64, 32\], the config implies \[65, 32\]/, 1],
    ['token id outside the vocabulary', () => ['--model', model, '--ids', '1,96'], /token id 96 at position 1 is outside the vocabulary/, 1],
    ['no tokenizer for --text', () => ['--model', model, '--text', 'hello'], /has no tokenizer.json/, 1],
    ['layer out of range', () => ['--model', model, '--layers', '7'], /hidden state 7 is out of range for a model with 3 hidden states/, 1],
    ['layer spec malformed', () => ['--model', model, '--layers', '1,x'], /--layers: "x" is not a hidden-state index/, 2],
    ['unknown flag', () => ['--model', model, '--frobnicate'], /Unknown option '--frobnicate'/, 2],
  ];
  for (const [name, args, pattern, code] of cases) {
    const a = args();
    const full = a.includes('--ids') || a.includes('--text') ? a : [...a, '--ids', '1,2'];
    const r = iclit('activations', ...full, '--out', out);
    assert.equal(r.status, code, `${name}: exit ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, pattern, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line, got ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

test('--help works for the tool and the command', () => {
  const top = iclit('--help');
  assert.equal(top.status, 0);
  assert.match(top.stdout, /activations/);
  const sub = iclit('activations', '--help');
  assert.equal(sub.status, 0);
  assert.match(sub.stdout, /--positions last\|all/);
});
