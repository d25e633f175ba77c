// End-to-end tests of `iclit export`: main([...]) with captured stdout/stderr, and the real binary for piped Parquet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { ResultsStore, exportRecords } from '../../results/index.js';
import { sampleGroups, sampleRecord } from '../../results/testing.js';
import { repoRoot } from '../../util/paths.js';
import { runCli } from '../testing.js';
import { makeTempDir, removeTempDir } from '../../util/testing.js';

const run = runCli;

function makeResults(root: string): string {
  const dir = join(root, 'run');
  const store = ResultsStore.open(dir, { create: true });
  for (const g of sampleGroups(['a', 'b'], 2)) store.saveRecords(g);
  store.saveRecords([sampleRecord({ experiment: 'shots', condition: 'k=1', prompts: { anchor: 'x, "y"\nz', icl: 'i', tuning: [] } })]);
  store.close();
  return dir;
}

test('iclit export writes CSV and JSONL to stdout, filtered by --experiment, equal to exportRecords', async () => {
  const root = makeTempDir('iclit-export-');
  try {
    const dir = makeResults(root);
    const store = ResultsStore.open(dir, { readonly: true });
    const all = store.records();
    const shots = store.records({ experiment: 'shots' });
    store.close();

    const csv = await run(['export', dir, '--format', 'csv']);
    assert.equal(csv.code, 0, csv.err);
    assert.equal(csv.out.toString(), exportRecords(all, 'csv'));
    assert.equal(csv.out.toString().split('\r\n')[0].split(',').slice(0, 5).join(','), 'experiment,condition,model,repeat,seed');

    const jsonl = await run(['export', dir, '--format', 'jsonl', '--experiment', 'shots']);
    assert.equal(jsonl.code, 0, jsonl.err);
    assert.equal(jsonl.out.toString(), exportRecords(shots, 'jsonl'));
    assert.equal(jsonl.out.toString().trim().split('\n').length, 1);
    assert.equal(JSON.parse(jsonl.out.toString()).prompt_anchor, 'x, "y"\nz');
  } finally {
    removeTempDir(root);
  }
});

test('iclit export --out writes Parquet (format from --format or the extension)', async () => {
  const root = makeTempDir('iclit-export-');
  try {
    const dir = makeResults(root);
    const file = join(root, 'out.parquet');
    const res = await run(['export', dir, '--out', file]);
    assert.equal(res.code, 0, res.err);
    assert.equal(res.out.length, 0, 'nothing on stdout');
    const buf = readFileSync(file);
    const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
    assert.equal(rows.length, 5);
    assert.deepEqual(rows.map((r) => `${r.experiment}/${r.condition}/${r.repeat}`), ['convergence/a/0', 'convergence/a/1', 'convergence/b/0', 'convergence/b/1', 'shots/k=1/0']);
  } finally {
    removeTempDir(root);
  }
});

test('iclit export: clear errors and exit codes', async () => {
  const root = makeTempDir('iclit-export-');
  try {
    const dir = makeResults(root);
    let r = await run(['export', root, '--format', 'csv']);
    assert.equal(r.code, 1);
    assert.equal(r.err, `iclit: ${root} is not an iclit results folder (no results.sqlite in it)\n`);
    r = await run(['export', dir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--format is required/);
    r = await run(['export', dir, '--format', 'xlsx']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--format must be one of csv, parquet, jsonl, got 'xlsx'/);
    r = await run(['export', dir, '--format', 'csv', '--experiment', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.err, `iclit: no records for experiment 'nope' in ${dir} (experiments there: convergence, shots)\n`);
    r = await run(['export', '--format', 'csv']);
    assert.equal(r.code, 2);
    // like activations and embed, export makes the folder of --out; a folder as --out is refused by name
    r = await run(['export', dir, '--format', 'csv', '--out', join(root, 'missing', 'x.csv')]);
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(join(root, 'missing', 'x.csv')));
    r = await run(['export', dir, '--format', 'csv', '--out', root]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `iclit: export file ${root} is a folder; give a file name\n`);
    const tty = process.stdout.isTTY;
    process.stdout.isTTY = true;
    try {
      r = await run(['export', dir, '--format', 'parquet']);
    } finally {
      process.stdout.isTTY = tty;
    }
    assert.equal(r.code, 2);
    assert.match(r.err, /refusing to write Parquet \(binary\) to a terminal/);
    r = await run(['export', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out.toString(), /Usage: iclit export RESULTS_DIR --format csv\|parquet\|jsonl/);
  } finally {
    removeTempDir(root);
  }
});

test('bin/iclit.js export pipes Parquet bytes to stdout', async () => {
  const root = makeTempDir('iclit-export-');
  try {
    const dir = makeResults(root);
    const res = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), 'export', dir, '--format', 'parquet', '--experiment', 'shots'], { maxBuffer: 64 << 20 });
    assert.equal(res.status, 0, res.stderr.toString());
    const buf = res.stdout;
    assert.equal(buf.subarray(0, 4).toString(), 'PAR1');
    const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
    assert.deepEqual(rows.map((r) => r.condition), ['k=1']);
  } finally {
    removeTempDir(root);
  }
});
