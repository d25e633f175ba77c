// Tests for summarize(): values recomputed independently from export rows (iclit export jsonl), brute-force exact Wilcoxon, NaN/partial data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportRecords } from '../results/index.js';
import type { RepeatRecord } from '../experiments/record.js';
import { summarize } from './summary.js';
import { makeRecord, syntheticRecords } from './synthetic.js';
import { seededRandom } from '../util/random.js';
import { toJson } from './write.js';
import type { ReportRun } from './types.js';
import { bruteForceSignedRankP } from '../stats/reference-testing.js';

/** NumPy's default (linear) percentile, written out independently of src/stats. */
function npPercentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * (s[Math.min(lo + 1, s.length - 1)] - s[lo]);
}

function runOf(records: RepeatRecord[], label = 'run-a'): ReportRun {
  return { label, meta: { model: 'models/tiny', data: 'sst2.tsv', seed: 7 }, records };
}

test('summarize matches values recomputed from jsonl export rows (medians, means, IQR, exact Wilcoxon)', () => {
  const records = syntheticRecords({ seed: 3, repeats: 12, experiments: ['convergence', 'shots'] });
  const rows = exportRecords(records, 'jsonl')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string | null>);
  const summary = summarize([runOf(records)]);
  const run = summary.runs[0];
  assert.deepEqual(run.experiments.map((e) => e.experiment), ['convergence', 'shots']);
  let checked = 0;
  for (const ex of run.experiments) {
    for (const c of ex.conditions) {
      const mine = rows.filter((r) => r.experiment === ex.experiment && r.condition === c.condition);
      assert.equal(c.n, mine.length);
      for (const [key, col] of [
        ['simAnchorIcl', 'sim_anchor_icl_last'],
        ['simAnchorIt', 'sim_anchor_it_last'],
        ['simIclIt', 'sim_icl_it_last'],
      ] as const) {
        const v = mine.map((r) => Number(r[col]));
        const d = c.last[key];
        const mean = v.reduce((s, x) => s + x, 0) / v.length;
        assert.ok(Math.abs(d.mean! - mean) < 1e-12, `${c.condition} ${key} mean`);
        assert.ok(Math.abs(d.median! - npPercentile(v, 0.5)) < 1e-12, `${c.condition} ${key} median`);
        assert.ok(Math.abs(d.iqr! - (npPercentile(v, 0.75) - npPercentile(v, 0.25))) < 1e-12, `${c.condition} ${key} IQR`);
      }
      const iclIt = mine.map((r) => Number(r.sim_icl_it_last));
      const aIcl = mine.map((r) => Number(r.sim_anchor_icl_last));
      const aIt = mine.map((r) => Number(r.sim_anchor_it_last));
      const t1 = c.tests.find((t) => t.id === 'iclIt>anchorIcl')!;
      const t2 = c.tests.find((t) => t.id === 'iclIt>anchorIt')!;
      assert.equal(t1.alternative, 'greater');
      assert.equal(t1.method, 'exact');
      assert.ok(Math.abs(t1.pValue! - bruteForceSignedRankP(iclIt.map((x, i) => x - aIcl[i]))) < 1e-12, `${c.condition} p1`);
      assert.ok(Math.abs(t2.pValue! - bruteForceSignedRankP(iclIt.map((x, i) => x - aIt[i]))) < 1e-12, `${c.condition} p2`);
      assert.equal(t1.layer, c.lastLayer);
      checked++;
    }
  }
  assert.equal(checked, 5);
});

test('summarize: hand-computed quartiles, per-layer values and a mixed-sign exact p', () => {
  const sims = [
    [0.1, 0.5, 0.3],
    [0.2, 0.6, 0.1],
    [0.3, 0.7, 0.6],
    [0.4, 0.8, 0.8],
  ];
  const recs = sims.map(([a, b, c], i) =>
    makeRecord({ experiment: 'convergence', condition: 'default', repeat: i, layers: [0, 4], simAnchorIcl: [1, a], simAnchorIt: [1, b], simIclIt: [1, c] }),
  );
  const c = summarize([runOf(recs)]).runs[0].experiments[0].conditions[0];
  assert.equal(c.lastLayer, 4);
  assert.deepEqual(c.layers.map((l) => l.layer), [0, 4]);
  assert.equal(c.layers[0].simIclIt.median, 1);
  // 0.1 0.2 0.3 0.4 → mean .25, median .25, q1 .175, q3 .325
  assert.ok(Math.abs(c.last.simAnchorIcl.q1! - 0.175) < 1e-12);
  assert.ok(Math.abs(c.last.simAnchorIcl.q3! - 0.325) < 1e-12);
  assert.ok(Math.abs(c.last.simAnchorIcl.iqr! - 0.15) < 1e-12);
  assert.ok(Math.abs(c.last.simAnchorIcl.mean! - 0.25) < 1e-12);
  // differences ICL,IT − anchor,ICL = 0.2, −0.1, 0.3, 0.4 → ranks 2,1,3,4; W+ = 9; P(W+ ≥ 9) = 2/16
  const t = c.tests.find((x) => x.id === 'iclIt>anchorIcl')!;
  assert.equal(t.statistic, 9);
  assert.ok(Math.abs(t.pValue! - 2 / 16) < 1e-12, `p = ${t.pValue}`);
});

test('summarize: NaN similarities are left out and counted; too few pairs → test not run with a note', () => {
  const recs = [
    makeRecord({ experiment: 'convergence', condition: 'default', repeat: 0, simIclIt: [NaN] }),
    makeRecord({ experiment: 'convergence', condition: 'default', repeat: 1 }),
    makeRecord({ experiment: 'convergence', condition: 'default', repeat: 2, simAnchorIcl: [0.4] }),
    makeRecord({ experiment: 'convergence', condition: 'one', repeat: 0 }),
  ];
  const ex = summarize([runOf(recs)]).runs[0].experiments[0];
  const c = ex.conditions.find((x) => x.condition === 'default')!;
  assert.equal(c.n, 3);
  assert.equal(c.last.simIclIt.n, 2);
  assert.equal(c.last.simIclIt.nanCount, 1);
  assert.equal(c.last.simAnchorIcl.n, 3);
  const t = c.tests.find((x) => x.id === 'iclIt>anchorIcl')!;
  assert.equal(t.n, 2);
  assert.match(t.note ?? '', /1 pair\(s\) with NaN left out/);
  const one = ex.conditions.find((x) => x.condition === 'one')!;
  assert.equal(one.n, 1);
  assert.equal(one.tests[0].pValue, null);
  assert.match(one.tests[0].note ?? '', /not run: 1 finite pair/);
  // every difference zero → not run
  const same = [0, 1, 2].map((i) => makeRecord({ experiment: 'x', condition: 'c', repeat: i, simAnchorIcl: [0.5], simAnchorIt: [0.5], simIclIt: [0.5] }));
  const t0 = summarize([runOf(same)]).runs[0].experiments[0].conditions[0].tests[0];
  assert.equal(t0.pValue, null);
  assert.match(t0.note ?? '', /every paired difference is zero/);
  // all NaN: distribution has nulls, JSON has no NaN
  const allNan = [makeRecord({ experiment: 'x', condition: 'c', repeat: 0, simAnchorIcl: [NaN], simAnchorIt: [NaN], simIclIt: [NaN] })];
  const s = summarize([runOf(allNan)]);
  assert.equal(s.runs[0].experiments[0].conditions[0].last.simIclIt.median, null);
  assert.doesNotMatch(toJson(s), /:\s*-?(NaN|Infinity)/);
  assert.equal((JSON.parse(toJson(s)) as typeof s).runs[0].experiments[0].conditions[0].last.simIclIt.nanCount, 1);
});

test('summarize: missing preset conditions are listed; empty runs give empty summaries', () => {
  const recs = [makeRecord({ experiment: 'shots', condition: 'k=1', repeat: 0, extra: { shots: 1 } }), makeRecord({ experiment: 'shots', condition: 'k=5', repeat: 0, extra: { shots: 5 } })];
  const ex = summarize([runOf(recs)]).runs[0].experiments[0];
  assert.deepEqual(ex.conditions.map((c) => c.condition), ['k=1', 'k=5']);
  assert.deepEqual(ex.missingConditions, ['k=2', 'k=10']);
  const empty = summarize([runOf([])]);
  assert.equal(empty.runs[0].nRecords, 0);
  assert.deepEqual(empty.runs[0].experiments, []);
  assert.deepEqual(summarize([]).runs, []);
});

test('summarize: accuracy right > wrong is paired by repeat (one-tailed) and loss decrease is tested two-sided', () => {
  const rand = seededRandom(11);
  const recs: RepeatRecord[] = [];
  const right = [1, 1, 1, 0, 1, 1, 1, 1];
  const wrong = [0, 1, 0, 0, 0, 1, 0, 0];
  // Stored in shuffled order so that pairing by position would be wrong.
  const order = right.map((_, i) => i).sort(() => rand() - 0.5);
  for (const i of order) {
    recs.push(makeRecord({ experiment: 'accuracy', condition: 'right-labels', repeat: i, extra: { labels: 'right' }, accuracy: { zeroShot: 1, icl: right[i], it: 1, n: 1 } }));
    recs.push(makeRecord({ experiment: 'accuracy', condition: 'wrong-labels', repeat: 7 - i, extra: { labels: 'wrong' }, accuracy: { zeroShot: 1, icl: wrong[7 - i], it: 1, n: 1 } }));
  }
  const acc = summarize([runOf(recs)]).runs[0].experiments[0].accuracy!;
  assert.deepEqual(acc.byLabels.map((g) => g.labels), ['right', 'wrong']);
  assert.equal(acc.byLabels[0].icl.mean, 7 / 8);
  assert.equal(acc.byLabels[1].icl.mean, 2 / 8);
  const icl = acc.tests.find((t) => t.id === 'accuracy.icl:right>wrong')!;
  // paired differences: 1,0,1,0,1,0,1,1 → five +1 (tied ranks), three zeros dropped: W+ = 15, normal approximation
  // with tie correction: z = (15 − 7.5) / sqrt((5·6·11 − 0.5·5·24) / 24) = 7.5 / sqrt(11.25) = 2.2360680
  assert.equal(icl.statistic, 15);
  assert.equal(icl.method, 'approx');
  assert.ok(Math.abs(icl.pValue! - 0.012673659338734126) < 1e-9, `p = ${icl.pValue}`); // SciPy: norm.sf(sqrt(5))
  const it = acc.tests.find((t) => t.id === 'accuracy.it:right>wrong')!;
  assert.equal(it.pValue, null); // all equal
  // only one label setting → test not run, says which is missing
  const onlyRight = summarize([runOf(recs.filter((r) => r.extra.labels === 'right'))]).runs[0].experiments[0].accuracy!;
  assert.match(onlyRight.tests[0].note ?? '', /no records with wrong labels/);
  // loss decrease
  const loss = [0, 1, 2, 3, 4].map((i) => makeRecord({ experiment: 'token-loss', condition: 'default', repeat: i, lossDecrease: { instruction: 0.1 * i, example: 0.5 + 0.2 * i } }));
  const ex = summarize([runOf(loss)]).runs[0].experiments[0];
  assert.equal(ex.tests[0].alternative, 'two-sided');
  assert.equal(ex.tests[0].pValue, 0.0625); // all five differences negative: exact two-sided 2/32
  assert.ok(Math.abs(ex.conditions[0].lossDecrease!.example.mean! - 0.9) < 1e-12);
});

test('summarize is pure: same input → same output, input not mutated', () => {
  const runs = [runOf(syntheticRecords({ seed: 5, repeats: 4 }), 'a'), runOf(syntheticRecords({ seed: 6, repeats: 3 }), 'b')];
  const before = JSON.stringify(runs);
  const s1 = summarize(runs);
  const s2 = summarize(runs);
  assert.deepEqual(s1, s2);
  assert.equal(JSON.stringify(runs), before);
  assert.deepEqual(s1.runs.map((r) => r.label), ['a', 'b']);
  assert.equal(s1.runs[1].nRecords, runs[1].records.length);
});

test('summarize: a control condition of the accuracy preset keeps its own accuracy in its condition summary (only the right/wrong groups leave it out)', () => {
  const records = [0, 1, 2].flatMap((repeat) => [
    makeRecord({ experiment: 'accuracy', condition: 'right-labels', repeat, extra: { labels: 'right' }, accuracy: { zeroShot: 0.5, icl: 0.7, it: 0.8, n: 10 } }),
    makeRecord({ experiment: 'accuracy', condition: 'control:shuffled-labels', repeat, extra: { labels: 'shuffled', control: 'shuffled-labels' }, accuracy: { zeroShot: 0.5, icl: 0.6, it: 0.55 + repeat / 100, n: 10 } }),
  ]);
  const exp = summarize([runOf(records)]).runs[0].experiments[0];
  const control = exp.conditions.find((c) => c.condition === 'control:shuffled-labels')!;
  assert.ok(control.accuracy, 'the control condition has its accuracy');
  assert.equal(control.accuracy.it.median, 0.56);
  assert.equal(control.accuracy.icl.mean, 0.6);
});
