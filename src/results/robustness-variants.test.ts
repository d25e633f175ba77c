// Tests for the metric variants' wiring: SimAOU, standardised cosines and debiased CKA in computeRobustness and the export columns, each against an independent float64 computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRobustness } from './robustness.js';
import { exportTable } from './export.js';
import type { SituationStates } from '../experiments/backend.js';
import type { RepeatRecord } from '../experiments/record.js';
import { sampleRecord } from './testing.js';
import { debiasedLinearCka } from '../stats/index.js';
import { seededRandom } from '../util/random.js';

const C = 7;
const LAYERS = [2, 5];

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
function cos64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i] * b[i];
  return d / (norm(a) * norm(b));
}

/** Two conditions × 6 repeats of random states on different scales per condition (so per-condition moments matter), one record without states. */
function study(): { records: RepeatRecord[]; states: Map<RepeatRecord, SituationStates> } {
  const rng = seededRandom(11);
  const states = new Map<RepeatRecord, SituationStates>();
  const records: RepeatRecord[] = [];
  for (const [condition, scale] of [['a', 1], ['b', 40]] as const)
    for (let repeat = 0; repeat < 6; repeat++) {
      const vec = () => Float32Array.from({ length: C }, (_, d) => scale * (rng() - 0.5) + (d === 1 ? 30 : 0));
      const s: SituationStates = { layers: LAYERS, anchor: LAYERS.map(vec), icl: LAYERS.map(vec), it: LAYERS.map(vec) };
      const r = sampleRecord({ condition, repeat, layers: LAYERS, simAnchorIcl: [0, 0], simAnchorIt: [0, 0], simIclIt: [0, 0], simUpdate: [0, 0], states: `states/${condition}/${repeat}` });
      states.set(r, s);
      records.push(r);
    }
  records.push(sampleRecord({ condition: 'a', repeat: 9, layers: LAYERS, simAnchorIcl: [NaN, NaN], simAnchorIt: [NaN, NaN], simIclIt: [NaN, NaN], simUpdate: [NaN, NaN] }));
  return { records, states };
}

/** SimAOU written out: normalise each state, subtract the normalised anchor, cosine. */
function simAou64(a: ArrayLike<number>, c: ArrayLike<number>, t: ArrayLike<number>): number {
  const [na, nc, nt] = [norm(a), norm(c), norm(t)];
  return cos64(Array.from(c, (x, i) => x / nc - a[i] / na), Array.from(t, (x, i) => x / nt - a[i] / na));
}

/** Mean and population sd per dimension over `vs`, then the cosine of the z-scores. */
function standardised64(x: ArrayLike<number>, y: ArrayLike<number>, vs: ArrayLike<number>[]): number {
  const z = (v: ArrayLike<number>) =>
    Array.from(v, (val, d) => {
      const m = vs.reduce((s, u) => s + u[d], 0) / vs.length;
      const sd = Math.sqrt(vs.reduce((s, u) => s + (u[d] - m) ** 2, 0) / vs.length);
      return (val - m) / sd;
    });
  return cos64(z(x), z(y));
}

test('SimAOU and standardised cosines (moments over every state of the record\'s condition at the layer) equal a direct float64 computation', () => {
  const { records, states } = study();
  const rob = computeRobustness(records, (r) => states.get(r));
  for (const condition of ['a', 'b']) {
    const mine = [...states].filter(([r]) => r.condition === condition);
    LAYERS.forEach((layer, i) => {
      const all = mine.flatMap(([, s]) => [s.anchor[i], s.icl[i], s.it[i]]);
      for (const [r, s] of mine) {
        const m = rob.of(r)!;
        const [a, c, t] = [s.anchor[i], s.icl[i], s.it[i]];
        const near = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) < 1e-12, `${condition}/${r.repeat} layer ${layer} ${what}: ${x} vs ${y}`);
        near(m.simAou[i], simAou64(a, c, t), 'SimAOU');
        near(m.standardised.anchorIcl[i], standardised64(a, c, all), 'standardised anchor-ICL');
        near(m.standardised.anchorIt[i], standardised64(a, t, all), 'standardised anchor-IT');
        near(m.standardised.iclIt[i], standardised64(c, t, all), 'standardised ICL-IT');
      }
    });
  }
  const none = rob.of(records[12])!;
  assert.equal(none, undefined);
});

test('debiased CKA per condition and layer equals the direct call on that condition\'s ICL and IT states; biased CKA is kept beside it', () => {
  const { records, states } = study();
  const rob = computeRobustness(records, (r) => states.get(r));
  for (const condition of ['a', 'b']) {
    const mine = [...states].filter(([r]) => r.condition === condition).map(([, s]) => s);
    const c = rob.conditions.find((x) => x.condition === condition)!;
    LAYERS.forEach((layer, i) => {
      const l = c.layers[i];
      assert.equal(l.layer, layer);
      assert.equal(l.ckaDebiased, debiasedLinearCka(mine.map((s) => s.icl[i]), mine.map((s) => s.it[i])));
      assert.ok(Number.isFinite(l.cka) && Number.isFinite(l.ckaDebiased));
      // unrelated random sets: the biased estimate sits well above the debiased one (Murphy et al.'s point)
      assert.ok(l.cka > l.ckaDebiased, `${condition}/${layer}: ${l.cka} vs ${l.ckaDebiased}`);
    });
  }
});

test('export columns standardised_* and sim_aou_* carry computeRobustness\'s values; null without states', () => {
  const { records, states } = study();
  const statesOf = (r: RepeatRecord) => states.get(r);
  const t = exportTable(records, { statesOf });
  const rob = computeRobustness(records, statesOf);
  records.slice(0, 12).forEach((r, k) => {
    const m = rob.of(r)!;
    const row = t.rows[k];
    assert.deepEqual([row.sim_aou_2, row.sim_aou_5, row.sim_aou_last], [m.simAou[0], m.simAou[1], m.simAou[1]]);
    assert.deepEqual([row.standardised_anchor_icl_2, row.standardised_anchor_it_5, row.standardised_icl_it_last], [m.standardised.anchorIcl[0], m.standardised.anchorIt[1], m.standardised.iclIt[1]]);
  });
  for (const n of t.columns.map((c) => c.name).filter((x) => /^(standardised|sim_aou)_/.test(x))) assert.equal(t.rows[12][n], null, n);
});

test('a control condition is its own group: the real conditions\' mean, massive dimensions and standardised values do not change when control states join', () => {
  const { records, states } = study();
  const real = records.filter((r) => states.has(r));
  const alone = computeRobustness(real, (r) => states.get(r));
  const rng = seededRandom(5);
  const vec = () => Float32Array.from({ length: C }, () => 1e4 * (rng() - 0.5));
  const controls = [0, 1, 2].map((repeat) => {
    const r = sampleRecord({ condition: 'control:untrained', repeat, layers: LAYERS, simAnchorIcl: [0, 0], simAnchorIt: [0, 0], simIclIt: [0, 0], simUpdate: [0, 0], extra: { control: 'untrained' } });
    states.set(r, { layers: LAYERS, anchor: LAYERS.map(vec), icl: LAYERS.map(vec), it: LAYERS.map(vec) });
    return r;
  });
  const both = computeRobustness([...real, ...controls], (r) => states.get(r));
  for (const r of real) assert.deepEqual(both.of(r)!.centred, alone.of(r)!.centred);
  assert.deepEqual(both.groups.map((g) => [g.control, g.nRecords]), [[null, 12], ['untrained', 3]]);
  assert.deepEqual(both.groups[0].layers, alone.groups[0].layers);
  // the control is centred on its own mean
  const s0 = states.get(controls[0])!;
  const mean = Array.from({ length: C }, (_, d) => controls.reduce((acc, r) => acc + states.get(r)!.anchor[1][d] + states.get(r)!.icl[1][d] + states.get(r)!.it[1][d], 0) / 9);
  const minus = (v: ArrayLike<number>) => Array.from(v, (x, d) => x - mean[d]);
  assert.ok(Math.abs(both.of(controls[0])!.centred.iclIt[1] - cos64(minus(s0.icl[1]), minus(s0.it[1]))) < 1e-12);
});
