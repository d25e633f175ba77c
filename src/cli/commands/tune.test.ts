// `iclit tune` and `iclit loss` end to end: a PEFT folder that lowers the training text's loss; bad JSONL named by line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyConfig, writeRandomCheckpoint } from '../../io/index.js';
import { repoRoot } from '../../util/paths.js';
import { tempDir, makeTempDir } from '../../util/testing.js';

const root = tempDir(test, 'iclit-tune-');
const tmp = () => makeTempDir('d-', root);
function iclit(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), ...args], { encoding: 'utf8' });
}

test('tune writes a PEFT adapter that lowers the per-token loss of its training text (loss --json)', () => {
  const model = writeRandomCheckpoint(tmp(), tinyConfig(), { seed: 2 });
  const dir = tmp();
  const ids = [1, 10, 20, 30, 40, 50, 60, 70];
  writeFileSync(join(dir, 'train.jsonl'), `${JSON.stringify({ input_ids: ids })}\n${JSON.stringify({ input_ids: ids.slice(0, 5), loss_mask: [0, 0, 1, 1, 1] })}\n`);
  const adapter = join(dir, 'adapter');
  const r = iclit('tune', '--model', model, '--data', join(dir, 'train.jsonl'), '--out', adapter, '--epochs', '5', '--lr', '0.01', '--r', '4', '--seed', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /loss/); // progress on stderr
  const cfg = JSON.parse(readFileSync(join(adapter, 'adapter_config.json'), 'utf8'));
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.r, 4);
  assert.deepEqual([...cfg.target_modules].sort(), ['q_proj', 'v_proj']);
  assert.ok(existsSync(join(adapter, 'adapter_model.safetensors')));
  const loss = iclit('loss', '--model', model, '--adapter', adapter, '--ids', ids.join(','), '--json');
  assert.equal(loss.status, 0, loss.stderr);
  const out = JSON.parse(loss.stdout) as { base: number[]; tuned: number[]; decrease: number[] };
  assert.equal(out.base.length, ids.length - 1);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(out.tuned) < mean(out.base) - 0.05, `tuned ${mean(out.tuned)} vs base ${mean(out.base)}`);
  out.decrease.forEach((d, i) => assert.ok(Math.abs(d - (out.base[i] - out.tuned[i])) < 1e-6, 'decrease = base − tuned'));
});

test('tune names the bad line of its data file', () => {
  const model = writeRandomCheckpoint(tmp(), tinyConfig(), { seed: 2 });
  const dir = tmp();
  writeFileSync(join(dir, 'bad.jsonl'), `${JSON.stringify({ input_ids: [1, 2, 3] })}\n{"input_ids": [1, 2], "loss_mask": [1]}\n`);
  const r = iclit('tune', '--model', model, '--data', join(dir, 'bad.jsonl'), '--out', join(dir, 'a'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad.jsonl:2/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
