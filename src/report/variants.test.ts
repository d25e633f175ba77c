// Tests for the metric variants in summary.json and the report: SimAOU, standardised s(ICL,IT) and debiased CKA of a synthetic states set equal the direct calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debiasedLinearCka, dimensionMoments, median, normalisedUpdateCosine, standardisedCosine } from '../stats/index.js';
import { summarize } from './summary.js';
import { syntheticRun } from './synthetic.js';
import { robustnessTable, findingsTable } from './tables.js';

test('summary.json: SimAOU, standardised s(ICL,IT) (moments over the condition\'s states) and debiased CKA equal the direct calls; null without states', () => {
  const { records, states } = syntheticRun({ seed: 4, repeats: 10, experiments: ['convergence', 'wrong-label'] });
  const summary = summarize([{ label: 'x', meta: {}, records, states }]);
  const ex = summary.runs[0].experiments.find((e) => e.experiment === 'wrong-label')!;
  let checked = 0;
  for (const c of ex.conditions) {
    const mine = records.filter((r) => r.experiment === 'wrong-label' && r.condition === c.condition).map((r) => states(r)!);
    const i = mine[0].layers.indexOf(c.lastLayer!);
    const moments = dimensionMoments(mine.flatMap((s) => [s.anchor[i], s.icl[i], s.it[i]]));
    assert.ok(Math.abs(c.last.simAou!.median! - median(mine.map((s) => normalisedUpdateCosine(s.anchor[i], s.icl[i], s.it[i])))) < 1e-12);
    assert.ok(Math.abs(c.last.standardised!.simIclIt.median! - median(mine.map((s) => standardisedCosine(s.icl[i], s.it[i], moments)))) < 1e-12);
    assert.ok(Math.abs(c.last.standardised!.simAnchorIt.mean! - mine.reduce((a, s) => a + standardisedCosine(s.anchor[i], s.it[i], moments), 0) / mine.length) < 1e-12);
    assert.equal(c.last.ckaDebiased, debiasedLinearCka(mine.map((s) => s.icl[i]), mine.map((s) => s.it[i])));
    checked++;
  }
  assert.equal(checked, 2);
  const without = summarize([{ label: 'x', meta: {}, records }]).runs[0].experiments[0].conditions[0];
  assert.deepEqual([without.last.simAou, without.last.standardised, without.last.ckaDebiased], [null, null, null]);
});

test('the report shows the variants: robustness-table columns hold the summary\'s numbers; the findings are re-checked under SimAOU and standardised states', () => {
  const { records, states } = syntheticRun({ seed: 4, repeats: 10, experiments: ['convergence'] });
  const summary = summarize([{ label: 'x', meta: {}, records, states }]);
  const t = robustnessTable(summary, 'convergence');
  const c = summary.runs[0].experiments[0].conditions[0];
  const col = (name: string) => t.rows[0][t.head.indexOf(name)];
  assert.ok(col('SimAOU (Dai)').startsWith(c.last.simAou!.median!.toFixed(3)));
  assert.ok(col('standardised s(ICL,IT)').startsWith(c.last.standardised!.simIclIt.median!.toFixed(3)));
  assert.equal(col('debiased CKA(ICL, IT)'), c.last.ckaDebiased!.toFixed(3));
  const run = summary.runs[0];
  const f = run.findings.find((x) => x.id === 'fig3a.anchorIt')!;
  assert.equal(f.robust.standardised.status === 'not run', false, 'standardised re-check ran');
  assert.equal(f.robust.simAou.status, 'n/a', 'SimAOU measures s(ICL,IT) only');
  const hi = run.findings.find((x) => x.id === 'fig3a.iclIt')!;
  assert.equal(hi.robust.standardised.status, 'n/a', 'not on the raw cosine scale');
  assert.ok(run.multipleTesting.families.robustness.standardised > 0);
  const ft = findingsTable(summary);
  assert.ok(ft.head.includes('SimAOU (Dai)') && ft.head.includes('standardised'));
});
