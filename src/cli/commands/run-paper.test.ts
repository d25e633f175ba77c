// `iclit run paper` end to end on tiny random models: one folder per preset, skips said up front, resume, and `iclit report` of the tree with one Findings row per claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../testing.js';
import { ResultsStore } from '../../results/index.js';
import { writeTinyStudy } from '../../experiments/testing.js';
import { CLAIMS, EXPECTATIONS } from '../../report/paper.js';
import { repoRoot } from '../../util/paths.js';
import { tempDir } from '../../util/testing.js';

const root = tempDir(test, 'iclit-paper-');
const a = writeTinyStudy(root, { name: 'llama-7b' });
const b = writeTinyStudy(join(root, 'second'), { name: 'llama-13b', seed: 9 });

interface Row {
  id: string;
  figure: string;
  preset: string;
  model: string | null;
  expect: string;
  verdict: string;
  ran: boolean;
  note: string | null;
}

test('iclit run paper: every preset into one tree (demo-similarity skipped without --encoder, said up front), resumable; iclit report of the tree has a Findings row per claim, footnote 6 on translation, Fig. 8a for the second model', async () => {
  const out = join(root, 'paper');
  const args = ['run', 'paper', '--model', a.model, '--model', b.model, '--data', a.sst2, '--translation-data', a.wmt, '--repeats', '2', '--epochs', '1', '--layers', '0,1,2', '--eval-examples', '4', '--out', out];
  const r = await runCli(args);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /paper: 9 experiment\(s\) into .*convergence \(Fig\. 3a, Fig\. 8a\)/);
  assert.match(r.err, /paper: skipping demo-similarity \(Fig\. 4a, Fig\. 4b, Fig\. 4c\): it needs --encoder/);
  // the whole paper's estimate before any work, then each preset's progress line (one per finished repeat off a terminal)
  assert.match(r.err, /iclit: estimate: the paper, 9 experiment\(s\) \(convergence ≈ \S+, .*\): [\d.]+ TFLOP, ≈ \S+ on cpu/);
  assert.ok(r.err.indexOf('iclit: estimate: the paper') < r.err.indexOf('convergence: '), 'the estimate comes before the first progress line');
  assert.match(r.err, /\ntranslation: llama-7b \[model 1\/2\] \[[#.]+\] 2\/2 repeats · [\d.]+% of the work/);
  for (const p of ['convergence', 'wrong-label', 'cross-task', 'shots', 'accuracy', 'layers', 'sl', 'translation', 'token-loss']) assert.ok(existsSync(join(out, p, 'manifest.json')), p);
  assert.ok(!existsSync(join(out, 'demo-similarity')));
  const again = await runCli(args);
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /paper: 0 repeat\(s\) computed, \d+ already done/);

  const rep = await runCli(['report', out, '--out', join(root, 'report'), '--json']);
  assert.equal(rep.code, 0, rep.err);
  const summary = JSON.parse(rep.out.toString()).summary as { runs: { label: string; findings: Row[] }[] };
  assert.deepEqual(summary.runs.map((x) => x.label), ['llama-7b', 'llama-13b']);
  const rows = summary.runs.flatMap((x) => x.findings);
  for (const f of rows) {
    assert.ok(f.figure && f.preset, f.id);
    assert.ok(EXPECTATIONS.includes(f.expect as never), f.expect);
    assert.match(f.verdict, /^(replicates|does-not-replicate|inconclusive)$/);
  }
  // one row per claim (per model it is about): Fig. 3a on the first model, Fig. 8a on the second
  for (const c of CLAIMS) assert.ok(rows.some((f) => f.id === c.id), c.id);
  assert.deepEqual(rows.filter((f) => f.id === 'fig8a').map((f) => [f.model, f.ran]), [['llama-13b', true]]);
  assert.deepEqual(rows.filter((f) => f.figure === 'Fig. 3a').map((f) => f.model), ['llama-7b', 'llama-7b', 'llama-7b']);
  assert.deepEqual([...new Set(rows.filter((f) => f.figure === 'footnote 6').map((f) => f.preset))], ['translation']);
  assert.ok(rows.filter((f) => f.figure === 'footnote 6').every((f) => f.ran));
  assert.match(rows.find((f) => f.id === 'fig4a')!.note!, /^not run: this run has no demo-similarity records/);
  assert.ok(readFileSync(join(root, 'report', 'report.md'), 'utf8').includes('## Findings'));
});

test('iclit run paper --shard I/N: every preset computes only its share of the repeats (r mod N = I)', async () => {
  const out = join(root, 'shard1');
  const r = await runCli(['run', 'paper', '--model', a.model, '--data', a.sst2, '--translation-data', a.wmt, '--repeats', '3', '--epochs', '1', '--layers', '0,2', '--eval-examples', '4', '--shard', '1/2', '--out', out]);
  assert.equal(r.code, 0, r.err);
  for (const p of ['convergence', 'translation', 'token-loss']) {
    const store = ResultsStore.open(join(out, p), { readonly: true });
    try {
      assert.deepEqual([...new Set(store.records().map((x) => x.repeat))], [1], p);
    } finally {
      store.close();
    }
  }
});

test('iclit run paper refuses what it cannot run (and --dry-run) before computing anything; a refused start removes only the folders it created', async () => {
  const none = await runCli(['run', 'paper', '--model', a.model, '--out', join(root, 'never')]);
  assert.equal(none.code, 2);
  assert.match(none.err, /nothing to run/);
  assert.ok(!existsSync(join(root, 'never')));
  // cross-task (the third preset) cannot read its demonstrations: the two folders opened before it are removed again
  const late = await runCli(['run', 'paper', '--model', a.model, '--data', a.sst2, '--translation-data', join(root, 'no-such-pair'), '--out', join(root, 'never')]);
  assert.equal(late.code, 1, late.err);
  assert.match(late.err, /no-such-pair/);
  assert.ok(!existsSync(join(root, 'never')), 'a refused start leaves nothing behind');
  // --dry-run: every preset's checks and the whole paper's estimate, nothing written
  const dry = await runCli(['run', 'paper', '--model', a.model, '--data', a.sst2, '--repeats', '2', '--epochs', '1', '--eval-examples', '4', '--dry-run', '--out', join(root, 'never')]);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.err, /iclit: paper: skipping cross-task \(Fig\. 3c\): it needs --translation-data/);
  assert.match(dry.err, /iclit: estimate: the paper, 7 experiment\(s\) \(convergence ≈ \S+, wrong-label ≈ \S+.*\): [\d.]+ TFLOP, ≈ \S+ on cpu in float32 .*peak memory ≈ [\d.]+ GiB\n$/);
  assert.ok(!existsSync(join(root, 'never')), 'a dry run writes nothing');
  // a later preset refused: a preset folder that existed before this call (here holding only a stray file) stays
  const kept = join(root, 'kept');
  mkdirSync(join(kept, 'wrong-label'), { recursive: true });
  writeFileSync(join(kept, 'wrong-label', 'states-of-a-killed-run.safetensors'), 'x');
  const refused = await runCli(['run', 'paper', '--model', a.model, '--data', a.sst2, '--translation-data', join(root, 'no-such-pair'), '--out', kept]);
  assert.equal(refused.code, 1, refused.err);
  assert.ok(!existsSync(join(kept, 'convergence')), 'the folder this call created is removed');
  assert.ok(existsSync(join(kept, 'wrong-label', 'states-of-a-killed-run.safetensors')), 'a folder that was there before is left alone');
  const wrong = await runCli(['run', 'convergence', '--model', a.model, '--data', a.sst2, '--translation-data', a.wmt, '--out', join(root, 'never')]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /--translation-data is for `iclit run paper`/);
});

test('npm run demo is iclit run paper on models/iclit-demo: its summary.json has a Findings row per claim with figure, preset, expect and verdict; footnote 6 on translation', async () => {
  const out = join(root, 'demo');
  const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'scripts', 'demo.js'), '--repeats', '3', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /iclit: paper: 10 experiment\(s\)/);
  const summary = JSON.parse(readFileSync(join(out, 'report', 'summary.json'), 'utf8')) as { runs: { label: string; findings: Row[]; implicitIt: { rows: { measure: string; experiment: string | null; verdict: string }[] } }[] };
  assert.deepEqual(summary.runs.map((x) => x.label), ['iclit-demo']);
  // the demo's patching study sits in the same tree: every row of "Is ICL implicit IT here?" is measured, against the controls
  const section = summary.runs[0].implicitIt.rows;
  assert.deepEqual(section.map((x) => x.measure), ['hidden', 'update', 'attention', 'output', 'patching']);
  for (const row of section) assert.notEqual(row.verdict, 'not-measured', row.measure);
  assert.equal(section.find((x) => x.measure === 'patching')!.experiment, 'patching');
  const rows = summary.runs[0].findings;
  assert.deepEqual(rows.map((f) => f.id), CLAIMS.map((c) => c.id), 'one row per claim, in the paper order');
  for (const f of rows) {
    assert.ok(f.figure && f.preset && EXPECTATIONS.includes(f.expect as never), f.id);
    assert.match(f.verdict, /^(replicates|does-not-replicate|inconclusive)$/);
    if (f.id !== 'fig8a') assert.ok(f.ran, `${f.id}: ${f.note}`);
  }
  assert.deepEqual(rows.filter((f) => f.figure === 'footnote 6').map((f) => f.preset), ['translation', 'translation']);
  assert.match(rows.find((f) => f.id === 'fig8a')!.note!, /needs a second model/);
});
