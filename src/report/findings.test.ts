// Tests for the Findings: the paper's pattern replicates on every claim, its opposite does not, the rules' edge cases, Holm, and numbers recomputed independently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMedianCI, holmAdjust, pageTrendTest, wilcoxon } from '../stats/index.js';
import { CLAIMS, EXPECTATIONS } from './paper.js';
import { slope } from './findings.js';
import { runsByModel } from './runs.js';
import { summarize } from './summary.js';
import { makeRecord, syntheticRun } from './synthetic.js';
import { patternRecords } from './synthetic-paper.js';
import { ACCURACY_MARGIN, directional, equivalent, high, notSignificant, uShape } from './verdicts.js';
import { notRun, signedRankTest } from './numbers.js';
import { toJson } from './write.js';
import type { Finding, RunSummary, TestSummary } from './types.js';

const runOf = (records: ReturnType<typeof patternRecords>): RunSummary => summarize([{ label: 'x', meta: {}, records }]).runs[0];
const find = (run: RunSummary, id: string, model?: string): Finding => run.findings.find((f) => f.id === id && (model === undefined || f.model === model))!;
const VERDICTS = ['replicates', 'does-not-replicate', 'inconclusive'];

test("records with the paper's pattern: every claim replicates; Fig. 8a says it needs a second model", () => {
  const run = runOf(patternRecords({ pattern: 'paper' }));
  assert.deepEqual([...new Set(run.findings.map((f) => f.id))], CLAIMS.map((c) => c.id), 'one row per claim, in the paper order');
  for (const f of run.findings.filter((x) => x.id !== 'fig8a')) {
    assert.equal(f.ran, true, `${f.id}: ${f.note}`);
    assert.equal(f.verdict, 'replicates', `${f.id}: ${f.note} — ${f.value}`);
    assert.equal(f.model, 'llama-7b');
  }
  const f8a = find(run, 'fig8a');
  assert.deepEqual([f8a.ran, f8a.verdict, f8a.model], [false, 'inconclusive', null]);
  assert.match(f8a.note!, /needs a second model/);
});

test("two models: a row per model, Fig. 3a for the first, Fig. 8a (all three high) for the second; every row replicates", () => {
  const run = runOf(patternRecords({ pattern: 'paper', models: ['llama-7b', 'llama-13b'] }));
  assert.deepEqual(run.models, ['llama-7b', 'llama-13b']);
  assert.deepEqual(run.findings.filter((f) => f.figure === 'Fig. 3a').map((f) => f.model), ['llama-7b', 'llama-7b', 'llama-7b']);
  const f8a = run.findings.filter((f) => f.id === 'fig8a');
  assert.deepEqual(f8a.map((f) => [f.model, f.verdict]), [['llama-13b', 'replicates']]);
  assert.equal(f8a[0].intervals.length, 3, 's(anchor,ICL), s(anchor,IT) and s(ICL,IT) each above the threshold');
  assert.deepEqual(run.findings.filter((f) => f.id === 'fig5').map((f) => f.model), ['llama-7b', 'llama-13b']);
  for (const f of run.findings) assert.equal(f.verdict, 'replicates', `${f.id}@${f.model}: ${f.note}`);
});

test('records with the opposite pattern: every claim does not replicate (Fig. 8a included)', () => {
  const run = runOf(patternRecords({ pattern: 'opposite', models: ['a', 'b'] }));
  for (const f of run.findings) assert.equal(f.verdict, 'does-not-replicate', `${f.id}@${f.model}: ${f.note} — ${f.value}`);
});

test('every row carries figure, preset, model, expect and verdict from the vocabularies; footnote 6 is on translation', () => {
  const run = runOf(patternRecords({ pattern: 'paper', repeats: 12 }));
  for (const f of run.findings) {
    assert.ok(f.figure && f.preset, f.id);
    assert.ok(EXPECTATIONS.includes(f.expect), f.expect);
    assert.ok(VERDICTS.includes(f.verdict), f.verdict);
  }
  assert.deepEqual(run.findings.filter((f) => f.figure === 'footnote 6').map((f) => [f.preset, f.expect]), [['translation', 'greater'], ['translation', 'greater']]);
  assert.deepEqual(['fig3a.iclIt', 'fig3c', 'fig4a', 'fig4b', 'fig4c', 'fig6', 'fig7'].map((id) => find(run, id).expect), ['high', 'high', 'trend-down', 'flat', 'trend-up', 'not-significant', 'u-shape']);
  assert.doesNotMatch(toJson(run), /:\s*-?(NaN|Infinity)/);
});

test('numbers behind the verdicts equal independent computations (Wilcoxon, Page, the bootstrap CIs, the slopes)', () => {
  const records = patternRecords({ pattern: 'paper', repeats: 16, seed: 3 });
  const run = runOf(records);
  const of = (exp: string, cond: string) => records.filter((r) => r.experiment === exp && r.condition === cond).sort((a, b) => a.repeat - b.repeat);
  // footnote 6: one-tailed Wilcoxon of s(ICL,IT) − s(anchor,IT) on translation
  const tr = of('translation', 'translation');
  const fn6 = find(run, 'fn6.anchorIt');
  assert.equal(fn6.tests[0].pValue, wilcoxon(tr.map((r) => r.simIclIt[0] - r.simAnchorIt[0]), { alternative: 'greater' }).pValue);
  assert.equal(fn6.opposite[0].pValue, wilcoxon(tr.map((r) => r.simIclIt[0] - r.simAnchorIt[0]), { alternative: 'less' }).pValue);
  // Fig. 5: Page's L with repeats as rows and k = 1, 2, 5, 10 as columns
  const rows = of('shots', 'k=1').map((_, i) => [1, 2, 5, 10].map((k) => of('shots', `k=${k}`)[i].simIclIt[0]));
  const page = pageTrendTest(rows);
  assert.deepEqual([find(run, 'fig5').tests[0].statistic, find(run, 'fig5').tests[0].pValue], [page.statistic, page.pValue]);
  // Fig. 4a: Page's test of −s(anchor,IT) over the bins
  const bins = Array.from({ length: 10 }, (_, b) => of('demo-similarity', `bin=${b}`));
  assert.equal(find(run, 'fig4a').tests[0].pValue, pageTrendTest(bins[0].map((_, i) => bins.map((g) => -g[i].simAnchorIt[0]))).pValue);
  // Fig. 4b: the per-repeat slope over bin midpoints, its 90% bootstrap CI (seed 0, 4000 resamples)
  const slopes = bins[0].map((_, i) => slope(bins.map((_, b) => (b / 10 + (b + 1) / 10) / 2), bins.map((g) => g[i].simAnchorIcl[0])));
  const ci = bootstrapMedianCI(slopes, { confidence: 0.9, resamples: 4000, seed: 0 });
  const iv = find(run, 'fig4b').intervals.find((i) => i.confidence === 0.9)!;
  assert.deepEqual([iv.median, iv.lower, iv.upper, iv.margin], [ci.estimate, ci.lower, ci.upper, 0.1]);
  // the slope itself against a hand computation: y = 2x + 1 has slope 2
  assert.ok(Math.abs(slope([0.05, 0.15, 0.25], [1.1, 1.3, 1.5]) - 2) < 1e-12);
  // Fig. 6: right − wrong IT accuracy per repeat; the paper's one-tailed test is shown, the CI decides
  const diffs = of('accuracy', 'right-labels').map((r, i) => r.accuracy!.it - of('accuracy', 'wrong-labels')[i].accuracy!.it);
  const f6 = find(run, 'fig6');
  assert.equal(f6.tests[0].pValue, wilcoxon(diffs, { alternative: 'greater' }).pValue);
  const ci95 = bootstrapMedianCI(diffs, { confidence: 0.95, resamples: 4000, seed: 0 });
  assert.deepEqual(f6.intervals.map((i) => [i.confidence, i.margin]), [[0.9, ACCURACY_MARGIN], [0.95, ACCURACY_MARGIN]]);
  assert.equal(f6.intervals[1].lower, ci95.lower);
  // Fig. 7: the minimum is chosen on the even repeats and tested on the odd ones
  const layers = records.filter((r) => r.experiment === 'layers').sort((a, b) => a.repeat - b.repeat);
  const even = layers.filter((r) => r.repeat % 2 === 0);
  const odd = layers.filter((r) => r.repeat % 2 === 1);
  const mean = (l: number) => even.reduce((s, r) => s + r.simIclIt[l], 0) / even.length;
  let j = 1;
  for (let l = 1; l <= 32; l++) if (mean(l) < mean(j)) j = l;
  const f7 = find(run, 'fig7');
  assert.ok(j > 8 && j < 24, `minimum at ${j}`);
  assert.equal(f7.tests[0].pValue, wilcoxon(odd.map((r) => r.simIclIt[1] - r.simIclIt[j]), { alternative: 'greater' }).pValue);
  assert.equal(f7.tests[1].pValue, wilcoxon(odd.map((r) => r.simIclIt[32] - r.simIclIt[j]), { alternative: 'greater' }).pValue);
});

test('rules: directional, high, equivalence, not-significant and U shape decide as docs/METHODS.md states, inconclusive in between', () => {
  const t = (p: number, pHolm: number): TestSummary => ({ ...signedRankTest('t', 'h', [1, 2, 3], 'greater', null), pValue: p, pHolm });
  assert.equal(directional([t(0.001, 0.01)], [t(0.99, 1)], 10).verdict, 'replicates');
  assert.equal(directional([t(0.04, 0.2)], [t(0.004, 1)], 10).verdict, 'does-not-replicate', 'opposite p 0.004 < 0.05/10');
  assert.equal(directional([t(0.04, 0.2)], [t(0.006, 1)], 10).verdict, 'inconclusive', 'opposite p 0.006 ≥ 0.05/10');
  assert.equal(directional([t(0.001, 0.01), t(0.3, 0.6)], [], 10).verdict, 'inconclusive', 'all claimed tests must reject');
  assert.equal(directional([notRun('t', 'h', 'wilcoxon', 'greater', null, 'not run: 1 pair')], [], 10).verdict, 'inconclusive');
  const iv = (lower: number, upper: number, bound: { threshold?: number; margin?: number }, confidence = 0.95) => ({ quantity: 'q', n: 30, median: (lower + upper) / 2, lower, upper, confidence, threshold: bound.threshold ?? null, margin: bound.margin ?? null });
  assert.equal(high([iv(0.75, 0.9, { threshold: 0.7 }), iv(0.71, 0.8, { threshold: 0.7 })]).verdict, 'replicates');
  assert.equal(high([iv(0.75, 0.9, { threshold: 0.7 }), iv(0.5, 0.69, { threshold: 0.7 })]).verdict, 'does-not-replicate');
  assert.equal(high([iv(0.65, 0.9, { threshold: 0.7 })]).verdict, 'inconclusive');
  assert.equal(high([null]).verdict, 'inconclusive');
  const m = { margin: 0.05 };
  assert.equal(equivalent(iv(-0.01, 0.04, m, 0.9), iv(-0.02, 0.06, m)).verdict, 'replicates', 'a drop within the margin');
  assert.equal(equivalent(iv(0.06, 0.3, m, 0.9), iv(0.055, 0.31, m)).verdict, 'does-not-replicate');
  assert.equal(equivalent(iv(0.01, 0.08, m, 0.9), iv(0, 0.09, m)).verdict, 'inconclusive');
  // not significant: the paper's own test rejecting contradicts the claim, even inside the margin
  assert.equal(notSignificant(t(0.01, 0.2), iv(-0.01, 0.04, m, 0.9), iv(-0.02, 0.06, m)).verdict, 'does-not-replicate');
  assert.equal(notSignificant(t(0.3, 1), iv(-0.01, 0.04, m, 0.9), iv(-0.02, 0.06, m)).verdict, 'replicates');
  assert.equal(notSignificant(t(0.3, 1), iv(0.01, 0.08, m, 0.9), iv(0, 0.09, m)).verdict, 'inconclusive', 'not significant, but too wide to call equivalent');
  assert.equal(uShape(false, 'hidden state 1', [], [t(0.001, 1)], 10).verdict, 'does-not-replicate', 'the end below the lowest interior state, p 0.001 < 0.05/10');
  assert.equal(uShape(false, 'hidden state 1', [], [t(0.02, 1)], 10).verdict, 'inconclusive', 'a minimum at an end without a significant test');
  assert.equal(uShape(false, 'hidden state 1', [], [], 10).verdict, 'inconclusive');
  assert.equal(uShape(true, 'hidden state 9', [t(1e-4, 1e-3), t(1e-4, 1e-3)], [], 10).verdict, 'replicates');
});

test('too few repeats or a flat curve: inconclusive, never a verdict the data cannot carry', () => {
  const records = patternRecords({ pattern: 'paper', repeats: 4 });
  const run = runOf(records);
  // 2 odd repeats cannot make the U-shape tests reject; 4 pairs cannot reach Holm p < 0.05 among ~20 tests
  assert.equal(find(run, 'fig7').verdict, 'inconclusive');
  assert.equal(find(run, 'fn6.anchorIt').verdict, 'inconclusive');
  // the same s(ICL,IT) at every k: neither trend
  const flat = [0, 1, 2, 3, 4, 5].flatMap((r) => [1, 2, 5, 10].map((k) => makeRecord({ experiment: 'shots', condition: `k=${k}`, repeat: r, simIclIt: [0.5 + 0.01 * ((r * 7 + k) % 5)], extra: { shots: k } })));
  assert.equal(find(runOf(flat), 'fig5').verdict, 'inconclusive');
});

test('with states: the robustness re-checks apply each rule under each measure; n/a where the measure does not fit; Holm per family', () => {
  const s = syntheticRun({ seed: 1, repeats: 10 });
  const run = summarize([{ label: 's', meta: {}, records: s.records, states: s.states }]).runs[0];
  const f = find(run, 'fig5');
  for (const m of ['update', 'centred', 'massiveOut', 'null'] as const) assert.ok(VERDICTS.includes(f.robust[m].status), `${m}: ${f.robust[m].status}`);
  const hi = find(run, 'fig3a.iclIt');
  assert.deepEqual([hi.robust.update.status, hi.robust.centred.status, hi.robust.null.status], ['n/a', 'n/a', 'n/a']);
  assert.ok(VERDICTS.includes(hi.robust.massiveOut.status));
  assert.equal(find(run, 'fn6.anchorIt').robust.update.status, 'n/a');
  assert.equal(find(run, 'fig6').robust.centred.status, 'n/a');
  const family = [...new Set(run.findings.flatMap((x) => x.tests))].filter((t) => t.pValue !== null);
  const adjusted = holmAdjust(family.map((t) => t.pValue));
  family.forEach((t, i) => assert.equal(t.pHolm, adjusted[i], t.id));
  assert.equal(run.multipleTesting.families.findings, family.length);
  for (const x of run.findings) for (const t of x.opposite) assert.equal(t.pHolm, null, 'opposite tests stay outside the Holm families');
});

test('without states: the state measures say why they did not run; absent presets are not run', () => {
  const { records } = syntheticRun({ seed: 2, repeats: 6, experiments: ['convergence'] });
  const run = summarize([{ label: 'x', meta: {}, records }]).runs[0];
  const f = find(run, 'fig3a.anchorIcl');
  assert.equal(f.ran, true);
  for (const m of ['centred', 'massiveOut'] as const) assert.deepEqual([f.robust[m].status, f.robust[m].note], ['not run', 'no stored hidden states']);
  const sl = find(run, 'fig8b');
  assert.deepEqual([sl.ran, sl.verdict], [false, 'inconclusive']);
  assert.match(sl.note!, /no sl records/);
});

test('a two-model folder split into one run per model (as iclit report does) keeps the model order: Fig. 3a on the first run, Fig. 8a on the second', () => {
  const records = patternRecords({ pattern: 'paper', repeats: 12, models: ['z-7b', 'a-13b'] });
  // the store returns records ordered by model name; the manifest's order says which model ran first
  const sorted = [...records].sort((x, y) => x.model.localeCompare(y.model));
  const runs = runsByModel([{ label: 'both', meta: {}, records: sorted, models: ['z-7b', 'a-13b'] }]);
  assert.deepEqual(runs.map((r) => r.label), ['z-7b', 'a-13b']);
  const s = summarize(runs);
  const ids = (i: number) => s.runs[i].findings.map((f) => f.id);
  assert.ok(ids(0).includes('fig3a.iclIt') && !ids(0).includes('fig8a'));
  assert.ok(ids(1).includes('fig8a') && !ids(1).includes('fig3a.iclIt'));
  assert.equal(s.runs[1].findings.find((f) => f.id === 'fig8a')!.model, 'a-13b');
});
