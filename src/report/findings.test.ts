// Tests for the robustness summary, Holm over a run's tests and the Findings: each number recomputed independently from records and states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRobustness } from '../results/robustness.js';
import { holmAdjust, linearCka, pageTrendTest, wilcoxon } from '../stats/index.js';
import { summarize } from './summary.js';
import { makeRecord, syntheticRun } from './synthetic.js';
import { toJson } from './write.js';
import type { Finding, ReportRun, RunSummary, TestSummary } from './types.js';

const fullRun = (repeats = 10, seed = 1): ReportRun => {
  const s = syntheticRun({ seed, repeats });
  return { label: 'synthetic', meta: {}, records: s.records, states: s.states };
};

/** Every distinct test object reachable from a run summary (what Holm counts). */
function testsOf(run: RunSummary): TestSummary[] {
  const all: TestSummary[] = [];
  for (const e of run.experiments) {
    all.push(...e.tests, ...(e.accuracy?.tests ?? []));
    for (const c of e.conditions) all.push(...c.tests);
  }
  for (const f of run.findings) all.push(...f.tests, ...Object.values(f.robust).flatMap((c) => c.tests));
  return [...new Set(all)];
}

const finding = (run: RunSummary, id: string): Finding => run.findings.find((f) => f.id === id)!;

test('summary with states: centred, massive-out, null and CKA per condition equal computeRobustness; the null test is Wilcoxon on s − null', () => {
  const input = fullRun(8);
  const run = summarize([input]).runs[0];
  const rob = computeRobustness(input.records, input.states!);
  const conv = run.experiments.find((e) => e.experiment === 'convergence')!;
  const c = conv.conditions[0];
  const recs = input.records.filter((r) => r.experiment === 'convergence');
  const last = c.lastLayer!;
  const i = recs[0].layers.indexOf(last);
  assert.equal(c.nStates, 8);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => { const s = sorted(xs); return (s[3] + s[4]) / 2; };
  assert.ok(Math.abs(c.last.centred!.simIclIt.median! - median(recs.map((r) => rob.of(r)!.centred.iclIt[i]))) < 1e-12);
  assert.ok(Math.abs(c.last.massiveOut!.simAnchorIcl.median! - median(recs.map((r) => rob.of(r)!.massiveOut.anchorIcl[i]))) < 1e-12);
  assert.ok(Math.abs(c.last.nullIclIt!.median! - median(recs.map((r) => rob.of(r)!.nullIclIt[i]))) < 1e-12);
  assert.ok(Math.abs(c.last.update.median! - median(recs.map((r) => r.simUpdate[i]))) < 1e-12);
  assert.equal(c.last.cka, linearCka(recs.map((r) => input.states!(r)!.icl[i]), recs.map((r) => input.states!(r)!.it[i])));
  const nullTest = c.tests.find((t) => t.id === 'iclIt>null')!;
  const want = wilcoxon(recs.map((r) => r.simIclIt[i] - rob.of(r)!.nullIclIt[i]), { alternative: 'greater' });
  assert.equal(nullTest.statistic, want.statistic);
  assert.equal(nullTest.pValue, want.pValue);
  assert.equal(nullTest.effect, (want.wPlus - want.wMinus) / (want.wPlus + want.wMinus));
  // the layers preset plants a massive dimension (index 3) at hidden states 2 … 8: it is found and listed
  const layers = run.experiments.find((e) => e.experiment === 'layers')!.states!;
  assert.deepEqual(layers.massiveDims.filter((m) => m.dims.length).map((m) => [m.layer, m.dims]), [2, 3, 4, 5, 6, 7, 8].map((l) => [l, [3]]));
  assert.ok(layers.maxDeviation < 1e-6, `stored vs recomputed: ${layers.maxDeviation}`);
  assert.equal(layers.massiveRatio, 100);
  assert.doesNotMatch(toJson(run), /:\s*-?(NaN|Infinity)/);
});

test('without states: update similarity still summarised, state measures null, the null test and robustness checks say why they did not run', () => {
  const { records } = syntheticRun({ seed: 2, repeats: 6, experiments: ['convergence'] });
  const run = summarize([{ label: 'x', meta: {}, records }]).runs[0];
  const c = run.experiments[0].conditions[0];
  assert.equal(c.nStates, 0);
  assert.equal(c.last.update.n, 6);
  assert.deepEqual([c.last.centred, c.last.massiveOut, c.last.nullIclIt, c.last.cka], [null, null, null, null]);
  assert.equal(run.experiments[0].states, null);
  const t = c.tests.find((x) => x.id === 'iclIt>null')!;
  assert.equal(t.pValue, null);
  assert.match(t.note!, /no stored hidden states/);
  const f = finding(run, 'fn6.anchorIcl');
  assert.equal(f.verdict, 'supported');
  assert.equal(f.robust.update.status, 'holds');
  for (const m of ['centred', 'massiveOut', 'null'] as const) assert.deepEqual([f.robust[m].status, f.robust[m].note], ['not run', 'no stored hidden states']);
});

test('Holm within families: the findings\' tests, each robustness measure\'s re-tests, the other table tests; nTests counts them all once', () => {
  const run = summarize([fullRun(6)]).runs[0];
  const ran = (ts: TestSummary[]) => [...new Set(ts)].filter((t) => t.pValue !== null);
  const seen = new Set<TestSummary>();
  const fam = (ts: TestSummary[]) => {
    const fresh = ran(ts).filter((t) => !seen.has(t));
    fresh.forEach((t) => seen.add(t));
    return fresh;
  };
  const findingsFam = fam(run.findings.flatMap((f) => f.tests));
  const robustFams = (['update', 'centred', 'massiveOut', 'null'] as const).map((m) => [m, fam(run.findings.flatMap((f) => f.robust[m].tests))] as const);
  const tableFam = fam(testsOf(run));
  for (const family of [findingsFam, ...robustFams.map(([, f]) => f), tableFam]) {
    const adjusted = holmAdjust(family.map((t) => t.pValue));
    family.forEach((t, k) => assert.equal(t.pHolm, adjusted[k], t.id));
  }
  const mt = run.multipleTesting;
  assert.equal(mt.families.findings, findingsFam.length);
  for (const [m, f] of robustFams) assert.equal(mt.families.robustness[m], f.length, m);
  assert.equal(mt.families.tables, tableFam.length);
  assert.equal(mt.nTests, ran(testsOf(run)).length, 'every test of the run counted once');
  assert.ok(findingsFam.length >= 10 && tableFam.length > 20, `${findingsFam.length} / ${tableFam.length}`);
  for (const t of testsOf(run).filter((x) => x.pValue === null)) assert.equal(t.pHolm, null);
});

test('findings: footnote 6 reuses the condition tests; verdicts follow Holm p < 0.05; absent presets are "not run"', () => {
  const input = fullRun(10);
  input.records = input.records.filter((r) => r.experiment !== 'sl');
  const run = summarize([input]).runs[0];
  const conv = run.experiments.find((e) => e.experiment === 'convergence')!.conditions[0];
  const a = finding(run, 'fn6.anchorIcl');
  assert.equal(a.tests[0], conv.tests.find((t) => t.id === 'iclIt>anchorIcl'));
  assert.equal(a.robust.null.tests[0], conv.tests.find((t) => t.id === 'iclIt>null'));
  assert.equal(finding(run, 'fn6.anchorIt').robust.update.tests[0], a.robust.update.tests[0], 'the shared update test is one test');
  for (const f of run.findings) {
    if (f.verdict === 'not run') continue;
    assert.equal(f.pHolm, Math.max(...f.tests.map((t) => t.pHolm!)), f.id);
    assert.equal(f.verdict, f.pHolm! < 0.05 ? 'supported' : 'not supported', f.id);
  }
  const sl = finding(run, 'fig8b');
  assert.equal(sl.verdict, 'not run');
  assert.match(sl.note!, /no sl records/);
  assert.equal(run.findings.length, 13);
  // translation: an intersection–union of both anchor comparisons
  const tr = finding(run, 'fig8c');
  assert.equal(tr.tests.length, 2);
  assert.equal(tr.pValue, Math.max(tr.tests[0].pValue!, tr.tests[1].pValue!));
  for (const f of run.findings.filter((x) => x.id.startsWith('fig6') || x.id === 'fig10')) for (const m of ['update', 'centred', 'massiveOut', 'null'] as const) assert.equal(f.robust[m].status, 'n/a');
});

test('findings: wrong labels, shots trend and layer profile tests equal independent computations', () => {
  const input = fullRun(10, 5);
  const run = summarize([input]).runs[0];
  const byRep = (exp: string, cond: string) => new Map(input.records.filter((r) => r.experiment === exp && r.condition === cond).map((r) => [r.repeat, r]));
  // Fig. 3b lower: right − flipped s(ICL,IT) by repeat, one-tailed Wilcoxon
  const right = byRep('wrong-label', 'right-labels');
  const flipped = byRep('wrong-label', 'flipped-labels');
  const d = [...right.keys()].sort((x, y) => x - y).map((k) => right.get(k)!.simIclIt[0] - flipped.get(k)!.simIclIt[0]);
  assert.equal(finding(run, 'fig3b.lower').tests[0].pValue, wilcoxon(d, { alternative: 'greater' }).pValue);
  // Fig. 3b spread: |flipped − its median| − |right − its median| > 0
  const med = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return (s[4] + s[5]) / 2; };
  const keys = [...right.keys()].sort((x, y) => x - y);
  const [mr, mf] = [med(keys.map((k) => right.get(k)!.simIclIt[0])), med(keys.map((k) => flipped.get(k)!.simIclIt[0]))];
  const spread = keys.map((k) => Math.abs(flipped.get(k)!.simIclIt[0] - mf) - Math.abs(right.get(k)!.simIclIt[0] - mr));
  assert.equal(finding(run, 'fig3b.spread').tests[0].pValue, wilcoxon(spread, { alternative: 'greater' }).pValue);
  // Fig. 5: Page's L with repeats as rows and k = 1, 2, 5, 10 as columns
  const rows = keys.map((k) => [1, 2, 5, 10].map((s) => byRep('shots', `k=${s}`).get(k)!.simIclIt[0]));
  const page = pageTrendTest(rows);
  const f5 = finding(run, 'fig5');
  assert.deepEqual([f5.tests[0].statistic, f5.tests[0].pValue, f5.effect], [page.statistic, page.pValue, page.meanRankCorrelation]);
  assert.equal(f5.verdict, 'supported');
  // Fig. 7: Page's L over layers of s(ICL,IT) − max anchor; layer 0 has all similarities 1 (gap 0)
  const layers = input.records.filter((r) => r.experiment === 'layers');
  const gapRows = layers.sort((x, y) => x.repeat - y.repeat).map((r) => r.layers.map((_, i) => r.simIclIt[i] - Math.max(r.simAnchorIcl[i], r.simAnchorIt[i])));
  assert.equal(finding(run, 'fig7').tests[0].pValue, pageTrendTest(gapRows).pValue);
});

test('findings: accuracy uses per-repeat fractions, token loss tests example > instruction, a reversed effect is "not supported"', () => {
  const recs = [0, 1, 2, 3, 4, 5].flatMap((k) => [
    makeRecord({ experiment: 'accuracy', condition: 'right-labels', repeat: k, extra: { labels: 'right' }, accuracy: { zeroShot: 0.5, icl: 0.8 + 0.01 * k, it: 0.9, n: 100 } }),
    makeRecord({ experiment: 'accuracy', condition: 'flipped-labels', repeat: k, extra: { labels: 'wrong' }, accuracy: { zeroShot: 0.5, icl: 0.5 + 0.02 * k, it: 0.95, n: 100 } }),
    makeRecord({ experiment: 'token-loss', condition: 'right-labels', repeat: k, lossDecrease: { instruction: 0.1 + 0.01 * k, example: 0.5 + 0.03 * k } }),
    makeRecord({ experiment: 'sl', condition: 'it', repeat: k, extra: { withInstruction: true }, simIclIt: [0.6 + 0.01 * k] }),
    makeRecord({ experiment: 'sl', condition: 'sl', repeat: k, extra: { withInstruction: false }, simIclIt: [0.9 + 0.001 * k] }),
  ]);
  const run = summarize([{ label: 'x', meta: {}, records: recs }]).runs[0];
  const icl = finding(run, 'fig6.icl');
  assert.equal(icl.tests[0].pValue, wilcoxon([0, 1, 2, 3, 4, 5].map((k) => 0.3 - 0.01 * k), { alternative: 'greater' }).pValue);
  assert.match(icl.value!, /right 82\.5% vs wrong 55\.0%/);
  assert.equal(finding(run, 'fig6.it').verdict, 'not supported', 'IT accuracy is higher with wrong labels here');
  const loss = finding(run, 'fig10');
  assert.equal(loss.tests[0].pValue, 1 / 64);
  assert.equal(loss.tests[0].alternative, 'greater');
  const sl = finding(run, 'fig8b');
  assert.equal(sl.verdict, 'not supported');
  assert.equal(sl.effect, -1);
});
