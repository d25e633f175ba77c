// Bounded work and repairs (issue 23): a huge --repeats with a small shard starts at once, --threads above the cores is capped with a note, and a resume recomputes a repeat whose stored states or adapter are gone or damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyStudy } from '../experiments/testing.js';
import { ResultsStore } from '../results/index.js';
import { runCli } from './testing.js';
import { tempDir } from '../util/testing.js';

const root = tempDir(test, 'iclit-bounded-');
const tiny = writeTinyStudy(root);
const study = ['convergence', '--model', tiny.model, '--data', tiny.sst2, '--epochs', '1'];

test('--repeats 1000000 --shard 0/1000000 measures and computes one repeat, in seconds', async () => {
  const start = performance.now();
  const r = await runCli(['run', ...study, '--repeats', '1000000', '--shard', '0/1000000', '--out', join(root, 'huge')]);
  const seconds = (performance.now() - start) / 1000;
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /1 repeat\(s\) computed, 0 already done/);
  assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
});

test('--threads above the core count is capped with a note', async () => {
  const n = availableParallelism() * 50;
  const r = await runCli(['activations', '--model', tiny.model, '--ids', '1,2,3', '--threads', String(n), '--out', join(root, 'a.safetensors')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`^iclit: --threads ${n} is more than this machine's ${availableParallelism()} cores; using ${availableParallelism()}$`, 'm'));
});

test('resume recomputes a repeat whose states were deleted or damaged, or whose adapter is gone; NaN in stored states is named by export', async () => {
  const out = join(root, 'repair');
  const args = ['run', ...study, '--repeats', '2', '--save-adapters', '--out', out];
  const first = await runCli(args);
  assert.equal(first.code, 0, first.err);
  const store = ResultsStore.open(out, { readonly: true });
  const [r0, r1] = store.records().filter((r) => r.condition === store.records()[0].condition);
  store.close();
  // a deleted states file and a deleted adapter: both repeats are recomputed, the files are back
  rmSync(join(out, r0.states!));
  rmSync(join(out, r1.adapter!), { recursive: true });
  const again = await runCli(args);
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /2 repeat\(s\) computed, 0 already done/);
  assert.match(again.err, /states file .* is missing; recomputing it|is damaged \(its states file .* is missing\); recomputing it/);
  assert.ok(existsSync(join(out, r0.states!)) && existsSync(join(out, r1.adapter!, 'adapter_model.safetensors')));
  // a NaN written into a stored states file: export names the file
  const file = join(out, r0.states!);
  const bytes = readFileSync(file);
  bytes.writeFloatLE(NaN, bytes.length - 4);
  writeFileSync(file, bytes);
  const ex = await runCli(['export', out, '--format', 'csv']);
  assert.equal(ex.code, 1, ex.err);
  assert.equal(ex.err.trimEnd().split('\n').length, 1, ex.err);
  assert.match(ex.err, new RegExp(`^iclit: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor '\\w+' holds NaN`));
  // a NaN inside an otherwise valid states file counts as damaged too: the resume recomputes it
  const nanFixed = await runCli(args);
  assert.equal(nanFixed.code, 0, nanFixed.err);
  assert.match(nanFixed.err, /1 repeat\(s\) computed, 1 already done/);
  assert.match(nanFixed.err, /holds NaN/);
  assert.equal((await runCli(['export', out, '--format', 'csv'])).code, 0);
  // a truncated states file counts as damaged: the resume recomputes it
  writeFileSync(file, bytes.subarray(0, 20));
  const fixed = await runCli(args);
  assert.equal(fixed.code, 0, fixed.err);
  assert.match(fixed.err, /1 repeat\(s\) computed, 1 already done/);
  assert.equal((await runCli(['export', out, '--format', 'csv'])).code, 0);
});
