// End-to-end test of `iclit report` through bin/iclit.js: results folders written with src/results → report folder, stdout, --json, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyStudy } from '../experiments/testing.js';
import { ResultsStore, buildManifest } from '../results/index.js';
import { repoRoot } from '../util/paths.js';
import { groupBy } from '../util/group.js';
import { syntheticRecords } from './synthetic.js';
import { tempDir } from '../util/testing.js';

function iclit(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function resultsFolder(root: string, name: string, model: string, seed: number, finished: boolean): string {
  const dir = join(root, name);
  const modelDir = join(root, `${model}-weights`);
  writeFileSync(join(root, 'train.tsv'), 'sentence\tlabel\ngood\t1\n');
  writeFileSync(modelDir, 'not really weights');
  const store = ResultsStore.open(dir, { create: true });
  try {
    const manifest = buildManifest({ config: { experiments: ['convergence', 'shots'], repeats: 4, tune: { epochs: 10, lr: 0.001 } }, models: [{ label: model, path: modelDir }], data: [{ role: 'train', path: join(root, 'train.tsv') }], seed });
    store.beginRun(manifest);
    const recs = syntheticRecords({ model, seed, repeats: 4, experiments: ['convergence', 'shots'] }).map((r) => ({ ...r, configHash: manifest.configHash }));
    for (const g of groupBy(recs, (r) => String(r.repeat)).values()) store.saveRecords(g);
    if (finished) store.markFinished(12.5);
  } finally {
    store.close();
  }
  return dir;
}

test('iclit report: two results folders side by side; prints the report path; --json prints the summary', (t) => {
  const root = tempDir(t, 'iclit-report-cli-');
  const a = resultsFolder(root, 'res-a', 'llama-a', 1, true);
  const b = resultsFolder(root, 'res-b', 'llama-b', 2, false);
  const out = join(root, 'report');
  const r = iclit(['report', a, b, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), join(out, 'report.html'));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const s of ['llama-a', 'llama-b', 'llama-a-weights', 'train.tsv', 'config.tune.epochs', 'not finished (partial results)']) assert.ok(html.includes(s), s);
  assert.ok(existsSync(join(out, 'figures', 'shots.png')));
  const j = iclit(['report', a, '--out', join(root, 'r2'), '--json']);
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { report: string; summary: { runs: { label: string; nRecords: number; meta: Record<string, unknown> }[] } };
  assert.equal(parsed.report, join(root, 'r2', 'report.html'));
  assert.equal(parsed.summary.runs[0].label, 'llama-a');
  assert.equal(parsed.summary.runs[0].nRecords, 4 * 5);
  assert.equal(parsed.summary.runs[0].meta.wallSeconds, 12.5);
  const noted = iclit(['report', a, '--out', join(root, 'r3'), '--note', 'model: a test model', '--note', 'data: made up']);
  assert.equal(noted.code, 0, noted.stderr);
  assert.ok(readFileSync(join(root, 'r3', 'report.md'), 'utf8').includes('model: a test model · data: made up'));
});

test('iclit report: usage errors and a missing folder are one line with exit codes 2 and 1', (t) => {
  const root = tempDir(t, 'iclit-report-cli-');
  const noOut = iclit(['report', root]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /^iclit: --out is required\n$/);
  const noDir = iclit(['report', '--out', join(root, 'r')]);
  assert.equal(noDir.code, 2);
  const missing = iclit(['report', join(root, 'nope'), '--out', join(root, 'r')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^iclit: results folder .*nope does not exist\n$/);
});

test('iclit run (tiny random LLaMA) → iclit report / export: real records and their stored states give one run with figures and robustness measures', { timeout: 300_000 }, (t) => {
  const root = tempDir(t, 'iclit-report-e2e-');
  const study = writeTinyStudy(root);
  for (const preset of ['accuracy', 'layers']) {
    const r = iclit(['run', preset, '--model', study.model, '--data', study.sst2, '--repeats', '2', '--epochs', '1', '--eval-examples', '10', '--out', join(root, `res-${preset}`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  const j = iclit(['report', join(root, 'res-accuracy'), join(root, 'res-layers'), '--out', join(root, 'report'), '--json']);
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as {
    emptyFigures: string[];
    summary: {
      runs: {
        label: string;
        findings: { id: string; verdict: string; note: string | null }[];
        experiments: {
          experiment: string;
          accuracy: { byLabels: { labels: string; n: number }[] } | null;
          states: { nWithStates: number; maxDeviation: number } | null;
          conditions: { condition: string; n: number; nStates: number; layers: unknown[]; last: { centred: { simIclIt: { n: number } } | null; nullIclIt: { n: number } | null } }[];
        }[];
      }[];
    };
  };
  assert.deepEqual(parsed.summary.runs.map((r) => r.label), ['tiny-llama']);
  const exps = parsed.summary.runs[0].experiments;
  assert.deepEqual(exps.map((e) => e.experiment), ['accuracy', 'layers']);
  assert.deepEqual(exps[0].accuracy?.byLabels.map((g) => [g.labels, g.n]), [['right', 2], ['wrong', 2]]);
  assert.ok(exps[1].conditions[0].layers.length > 1);
  // The stored states were read: centred and null values exist, and the stored similarities equal those recomputed from the states.
  for (const e of exps) {
    assert.equal(e.states?.nWithStates, e.conditions.reduce((s, c) => s + c.n, 0), e.experiment);
    assert.ok(e.states!.maxDeviation < 1e-6, `${e.experiment}: stored vs recomputed ${e.states!.maxDeviation}`);
    for (const c of e.conditions) assert.deepEqual([c.nStates, c.last.centred?.simIclIt.n, c.last.nullIclIt?.n], [c.n, c.n, c.n], `${e.experiment}/${c.condition}`);
  }
  // Findings of the two presets were tested (a random tiny model may tie every accuracy: then the test says so).
  const f = Object.fromEntries(parsed.summary.runs[0].findings.map((x) => [x.id, x]));
  assert.match(f.fig7.verdict, /^(replicates|does-not-replicate|inconclusive)$/);
  assert.doesNotMatch(f.fig7.note ?? '', /^not run/);
  assert.ok(!/^not run/.test(f.fig6.note ?? ''), `fig6: ${f.fig6.verdict} ${f.fig6.note}`);
  assert.match(f.fig5.note ?? '', /this run has no shots records/);
  assert.deepEqual(parsed.emptyFigures, []);
  const csv = iclit(['export', join(root, 'res-layers'), '--format', 'jsonl']);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 2);
  for (const row of rows) for (const col of ['centred_icl_it_last', 'massive_out_icl_it_last', 'null_icl_it_last', 'sim_update_last']) assert.equal(typeof row[col], 'number', col);
  for (const f of ['layers', 'accuracy']) for (const ext of ['png', 'svg']) assert.ok(existsSync(join(root, 'report', 'figures', `${f}.${ext}`)), `${f}.${ext}`);
});
