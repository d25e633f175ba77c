// Tests for "Is ICL implicit IT here?": rows, tests (brute-force exact Wilcoxon, Holm written out), verdicts and readings on synthetic runs with controls, and the section in report.md / summary.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RepeatRecord } from '../experiments/record.js';
import { summarize } from './summary.js';
import { syntheticControlsRun } from './synthetic-controls.js';
import { syntheticRun } from './synthetic.js';
import { implicitItTable, controlFindingsTable } from './implicit-it-tables.js';
import { writeReport } from './write.js';
import { readRow, type ImplicitItRow } from './implicit-it.js';
import { dist } from './numbers.js';
import type { TestSummary } from './types.js';
import { tempDir } from '../util/testing.js';

/** Exact one-sided Wilcoxon p by enumerating all 2^n sign assignments (no ties, no zeros); 'less' flips the signs. */
function bruteForceP(d: number[], alternative: 'greater' | 'less'): number {
  const x = alternative === 'greater' ? d : d.map((v) => -v);
  const order = x.map((v, i) => ({ a: Math.abs(v), i })).sort((p, q) => p.a - q.a);
  const rank = new Array<number>(x.length);
  order.forEach((o, r) => (rank[o.i] = r + 1));
  const wPlus = x.reduce((s, v, i) => s + (v > 0 ? rank[i] : 0), 0);
  const n = x.length;
  let atLeast = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let w = 0;
    for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) w += r;
    if (w >= wPlus) atLeast++;
  }
  return atLeast / 2 ** n;
}

/** Holm's step-down adjustment written out: sort, multiply by (m − rank), running max, cap at 1. */
function holm(ps: number[]): number[] {
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const out = new Array<number>(ps.length);
  let run = 0;
  order.forEach(({ p, i }, k) => {
    run = Math.max(run, Math.min(1, (ps.length - k) * p));
    out[i] = run;
  });
  return out;
}

const rowsOf = (records: RepeatRecord[], states?: (r: RepeatRecord) => ReturnType<ReturnType<typeof syntheticControlsRun>['states']>) =>
  summarize([{ label: 'x', meta: {}, records, states }]).runs[0];
const row = (rows: ImplicitItRow[], m: ImplicitItRow['measure']) => rows.find((r) => r.measure === m)!;

test('ICL ≈ IT beyond every control: each of the five rows exceeds every control and its null, and reads so', () => {
  const { records, states } = syntheticControlsRun({ pattern: 'beyond-controls' });
  const run = rowsOf(records, states);
  const rows = run.implicitIt.rows;
  assert.deepEqual(rows.map((r) => r.measure), ['hidden', 'update', 'attention', 'output', 'patching']);
  for (const r of rows) {
    assert.equal(r.verdict, 'exceeds-every-control', `${r.measure}: ${r.reading}`);
    assert.deepEqual(r.controls.map((c) => c.control), ['untrained', 'random-adapter', 'shuffled-labels']);
    assert.deepEqual(r.missingControls, []);
    const word = r.direction === 'greater' ? 'above' : 'below';
    assert.match(r.reading, new RegExp(`is ${word} its null and ${word} every control \\(untrained, random-adapter, shuffled-labels\\)$`), r.measure);
  }
  assert.deepEqual([row(rows, 'hidden').experiment, row(rows, 'hidden').condition, row(rows, 'hidden').layer], ['convergence', 'right-labels', 8]);
  assert.deepEqual([row(rows, 'patching').experiment, row(rows, 'patching').condition], ['patching', 'default']);
  assert.equal(row(rows, 'output').direction, 'less');
  // the paper's claims read the real condition only, never the controls pooled in
  assert.equal(run.findings.find((f) => f.id === 'fig3a.iclIt')!.n, 12);
  // the Findings rows say it per measure
  const summary = summarize([{ label: 'x', meta: {}, records, states }]);
  const ft = controlFindingsTable(summary)!;
  assert.deepEqual(ft.rows.map((r) => r[ft.head.indexOf('exceeds every control?')]), Array(5).fill('exceeds every control'));
});

test('the untrained control matches the trained effect: the section says the effect does not exceed it, and names it', () => {
  const { records, states } = syntheticControlsRun({ pattern: 'untrained-matches' });
  const rows = rowsOf(records, states).implicitIt.rows;
  for (const r of rows) {
    assert.equal(r.verdict, 'not-above-every-control', `${r.measure}: ${r.reading}`);
    const more = r.direction === 'greater' ? 'higher' : 'lower';
    const beyond = r.direction === 'greater' ? 'above' : 'below';
    assert.match(r.reading, new RegExp(`is ${beyond} its null, but no ${more} than the untrained control \\(${beyond} the random-adapter and shuffled-labels controls\\)$`), r.measure);
    const untrained = r.controls.find((c) => c.control === 'untrained')!;
    assert.ok(untrained.test.pHolm === null || untrained.test.pHolm >= 0.05, `${r.measure}: ${untrained.test.pHolm}`);
  }
  const ft = controlFindingsTable(summarize([{ label: 'x', meta: {}, records, states }]))!;
  assert.ok(ft.rows.every((r) => r.includes('does not exceed every control')));
});

test('the numbers: effect, null and control medians recomputed from the records; p-values brute-forced; Holm over the section\'s tests', () => {
  const { records, states } = syntheticControlsRun({ pattern: 'beyond-controls', repeats: 10 });
  const run = rowsOf(records, states);
  const rows = run.implicitIt.rows;
  const conv = (condition: string) => records.filter((r) => r.experiment === 'convergence' && r.condition === condition).sort((a, b) => a.repeat - b.repeat);
  const real = conv('right-labels');
  const untrained = conv('control:untrained');
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2;
  };
  const hidden = row(rows, 'hidden');
  assert.ok(Math.abs(hidden.effect!.median! - med(real.map((r) => r.simIclIt[0]))) < 1e-12);
  assert.ok(Math.abs(hidden.controls[0].effect.median! - med(untrained.map((r) => r.simIclIt[0]))) < 1e-12);
  assert.ok(Math.abs(hidden.controls[0].test.pValue! - bruteForceP(real.map((r, i) => r.simIclIt[0] - untrained[i].simIclIt[0]), 'greater')) < 1e-12);
  const output = row(rows, 'output');
  assert.ok(Math.abs(output.nullTest!.pValue! - bruteForceP(real.map((r) => r.outputs!.klIclIt - r.outputs!.klIclAnchor), 'less')) < 1e-12);
  assert.ok(Math.abs(output.controls[0].test.pValue! - bruteForceP(real.map((r, i) => r.outputs!.klIclIt - untrained[i].outputs!.klIclIt), 'less')) < 1e-12);
  const attention = row(rows, 'attention');
  const att = (r: RepeatRecord) => r.attention!.iclIt[0] - Math.max(r.attention!.anchorIcl[0], r.attention!.anchorIt[0]);
  assert.ok(Math.abs(attention.nullTest!.pValue! - bruteForceP(real.map(att), 'greater')) < 1e-12);
  const update = row(rows, 'update');
  assert.ok(Math.abs(update.nullTest!.pValue! - bruteForceP(real.map((r) => r.simUpdate[0]), 'greater')) < 1e-12);
  // patching: the best patch point is the argmax of the real condition's mean ICL curve; controls are read at the same point
  const patch = records.filter((r) => r.experiment === 'patching' && r.condition === 'default');
  const means = patch[0].patching!.layers.map((_, j) => patch.reduce((s, r) => s + r.patching!.icl[j], 0) / patch.length);
  const best = patch[0].patching!.layers[means.indexOf(Math.max(...means))];
  assert.equal(row(rows, 'patching').layer, best);
  // Holm over exactly the section's tests that ran
  const tests: TestSummary[] = rows.flatMap((r) => [r.nullTest!, ...r.controls.map((c) => c.test)]).filter((t) => t.pValue !== null);
  assert.equal(run.implicitIt.nTests, tests.length);
  assert.equal(run.multipleTesting.families.implicitIt, tests.length);
  const want = holm(tests.map((t) => t.pValue!));
  tests.forEach((t, i) => assert.ok(Math.abs(t.pHolm! - want[i]) < 1e-12, t.id));
});

test('absent measures say "not measured (run … to measure it)"; a run without controls says so; the hidden null needs states', () => {
  const { records } = syntheticControlsRun({ pattern: 'beyond-controls', statesOnly: true, controls: [] });
  const rows = rowsOf(records).implicitIt.rows;
  for (const m of ['attention', 'output'] as const) {
    assert.equal(row(rows, m).verdict, 'not-measured');
    assert.match(row(rows, m).reading, /^not measured \(run a preset .*`iclit run convergence` to measure it\)$/);
  }
  assert.match(row(rows, 'patching').reading, /^not measured \(run the `patching` preset.* to measure it\)$/);
  const hidden = row(rows, 'hidden');
  assert.equal(hidden.verdict, 'no-controls');
  assert.match(hidden.reading, /its null was not tested \(not run: no stored hidden states\); no control in this run to compare with \(add --controls untrained,random-adapter,shuffled-labels\)$/);
  assert.equal(row(rows, 'update').verdict, 'no-controls');
  // a run of the paper's presets (no controls) still gets the five rows; an empty run gets none
  const paper = summarize([{ label: 'p', meta: {}, records: syntheticRun({ repeats: 5, experiments: ['convergence'] }).records }]);
  assert.equal(paper.runs[0].implicitIt.rows.length, 5);
  assert.equal(summarize([{ label: 'e', meta: {}, records: [] }]).runs[0].implicitIt.rows.length, 0);
  assert.equal(implicitItTable(summarize([{ label: 'e', meta: {}, records: [] }])), null);
});

test('report.md, report.html and summary.json hold the section and its Findings rows', async (t) => {
  const dir = tempDir(t, 'iclit-implicit-');
  const { records, states } = syntheticControlsRun({ pattern: 'untrained-matches', repeats: 12 });
  const out = await writeReport([{ label: 'synth', meta: {}, records, states }], dir, { generatedAt: '2026-01-01T00:00:00Z' });
  const md = readFileSync(out.markdown, 'utf8');
  const html = readFileSync(out.html, 'utf8');
  assert.match(md, /## Is ICL implicit IT here\?\n\nOne row per measure/);
  assert.match(md, /### Does each measure of ICL ≈ IT exceed every control\?/);
  assert.ok(md.indexOf('### Does each measure') < md.indexOf('## Is ICL implicit IT here?'), 'Findings rows come first');
  assert.match(md, /\| hidden state \| .*untrained control/);
  assert.match(md, /no higher than the untrained control/);
  assert.match(html, /<section id="implicit-it">\n<h2>Is ICL implicit IT here\?<\/h2>/);
  assert.match(html, /v-does-not-replicate">does not exceed every control</);
  const json = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { runs: { implicitIt: { rows: { measure: string; verdict: string; controls: unknown[] }[] } }[] };
  assert.deepEqual(json.runs[0].implicitIt.rows.map((r) => [r.measure, r.verdict, r.controls.length]), [
    ['hidden', 'not-above-every-control', 3], ['update', 'not-above-every-control', 3], ['attention', 'not-above-every-control', 3],
    ['output', 'not-above-every-control', 3], ['patching', 'not-above-every-control', 3],
  ]);
});

test('control records stay out of the pooled quantities: accuracy groups, the loss test and the paper\'s claims', () => {
  const { records } = syntheticControlsRun({ pattern: 'beyond-controls', statesOnly: true, repeats: 6 });
  const withAcc = records.map((r) => ({
    ...r,
    accuracy: { zeroShot: 0.5, icl: recordControl(r) ? 0.25 : 0.75, it: 0.75, n: 8 },
    lossDecrease: { instruction: 0.5, example: recordControl(r) ? -1 : 0.25 + r.repeat / 64 },
  }));
  const ex = summarize([{ label: 'x', meta: {}, records: withAcc }]).runs[0].experiments[0];
  assert.deepEqual(ex.accuracy!.byLabels.map((g) => [g.labels, g.n, g.icl.mean]), [
    ['right', 6, 0.75], ['control:random-adapter', 6, 0.25], ['control:shuffled-labels', 6, 0.25], ['control:untrained', 6, 0.25],
  ]);
  const loss = ex.tests.find((t) => t.id === 'lossDecrease:instruction!=example')!;
  assert.equal(loss.n, 6);
  assert.equal(loss.medianDifference, 0.5 - (0.25 + 2.5 / 64));
});

const recordControl = (r: RepeatRecord): boolean => typeof r.extra.control === 'string';

test('readRow: the reading follows the tests (null failed and every control failed; null failed but every control passed; a control test that did not run)', () => {
  const t = (pHolm: number | null): TestSummary => ({
    id: 'x', hypothesis: 'h', test: 'wilcoxon', alternative: 'greater', layer: 1, n: 10, statistic: pHolm === null ? null : 1, pValue: pHolm, pHolm,
    method: null, effect: null, medianDifference: null, note: pHolm === null ? 'not run: 1 finite pair(s), need at least 2' : null,
  });
  const c = (control: string, p: number | null) => ({ control, condition: `control:${control}`, effect: dist([]), test: t(p) });
  const none = readRow({ measure: 'update', direction: 'greater', effect: null, nullTest: t(0.2), controls: [c('untrained', 0.5), c('random-adapter', 0.3), c('shuffled-labels', null)] });
  assert.deepEqual(none, { verdict: 'not-above-every-control', reading: 'the update cosine is not above its null (Holm p = 2.00e-1), and no higher than the untrained, random-adapter and shuffled-labels controls' });
  const all = readRow({ measure: 'output', direction: 'less', effect: null, nullTest: t(0.2), controls: [c('untrained', 0.01)] });
  assert.deepEqual(all, { verdict: 'exceeds-every-control', reading: 'KL(ICL‖IT) is not below its null (Holm p = 2.00e-1), though below every control (untrained)' });
});
