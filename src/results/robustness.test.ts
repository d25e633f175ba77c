// Tests for computeRobustness: every measure recomputed here in float64 from hand-built states (centring, massive dims, null, CKA, update).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRobustness } from './robustness.js';
import type { SituationStates } from '../experiments/backend.js';
import { sampleRecord } from './testing.js';
import type { RepeatRecord } from '../experiments/record.js';
import { linearCka } from '../stats/index.js';
import { seededRandom } from '../util/random.js';
import { IclitError } from '../util/errors.js';

const C = 6;
const LAYERS = [3, 8];

function cos64(a: ArrayLike<number>, b: ArrayLike<number>, skip: number[] = []): number {
  let d = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    if (skip.includes(i)) continue;
    d += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return d / Math.sqrt(aa * bb);
}
const minus = (a: ArrayLike<number>, b: ArrayLike<number>): number[] => Array.from(a, (v, i) => v - b[i]);

/** Random states; at layer 8 dimension 2 carries a huge shared value in every state (a planted massive dimension). */
function statesFor(seed: number, offset = 0): SituationStates {
  const rng = seededRandom(seed);
  const vec = (layer: number) => Float32Array.from({ length: C }, (_, d) => rng() - 0.5 + offset + (layer === 8 && d === 2 ? 5000 : 0));
  return { layers: LAYERS, anchor: LAYERS.map(vec), icl: LAYERS.map(vec), it: LAYERS.map(vec) };
}

/** A record whose stored similarities are computed here from its states (float64), like the runner does. */
function recordWith(s: SituationStates, over: Partial<RepeatRecord>): RepeatRecord {
  return sampleRecord({
    layers: LAYERS,
    simAnchorIcl: LAYERS.map((_, i) => cos64(s.anchor[i], s.icl[i])),
    simAnchorIt: LAYERS.map((_, i) => cos64(s.anchor[i], s.it[i])),
    simIclIt: LAYERS.map((_, i) => cos64(s.icl[i], s.it[i])),
    simUpdate: LAYERS.map((_, i) => cos64(minus(s.icl[i], s.anchor[i]), minus(s.it[i], s.anchor[i]))),
    ...over,
  });
}

function study(): { records: RepeatRecord[]; states: Map<RepeatRecord, SituationStates> } {
  const states = new Map<RepeatRecord, SituationStates>();
  const records: RepeatRecord[] = [];
  for (const condition of ['a', 'b'])
    for (let repeat = 0; repeat < 4; repeat++) {
      const s = statesFor(100 * repeat + condition.charCodeAt(0));
      const r = recordWith(s, { condition, repeat });
      states.set(r, s);
      records.push(r);
    }
  // a record without states (e.g. an empty similarity bin)
  records.push(sampleRecord({ condition: 'a', repeat: 9, layers: LAYERS, simAnchorIcl: [NaN, NaN], simAnchorIt: [NaN, NaN], simIclIt: [NaN, NaN], simUpdate: [NaN, NaN] }));
  return { records, states };
}

test('centred and massive-dimension-free cosines equal a direct float64 computation; the planted dimension is found', () => {
  const { records, states } = study();
  const rob = computeRobustness(records, (r) => states.get(r));
  assert.equal(rob.groups.length, 1);
  const g = rob.groups[0];
  assert.deepEqual([g.nRecords, g.nWithStates], [9, 8]);
  assert.deepEqual(g.layers.map((l) => [l.layer, l.nStates, l.massiveDims]), [[3, 24, []], [8, 24, [2]]]);
  LAYERS.forEach((layer, i) => {
    const all = [...states.values()].flatMap((s) => [s.anchor[i], s.icl[i], s.it[i]]);
    const mean = Array.from({ length: C }, (_, d) => all.reduce((acc, v) => acc + v[d], 0) / all.length);
    const skip = layer === 8 ? [2] : [];
    for (const [r, s] of states) {
      const m = rob.of(r)!;
      const [a, c, t] = [s.anchor[i], s.icl[i], s.it[i]];
      const near = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) < 1e-12, `${r.condition}/${r.repeat} layer ${layer} ${what}: ${x} vs ${y}`);
      near(m.centred.anchorIcl[i], cos64(minus(a, mean), minus(c, mean)), 'centred anchor-ICL');
      near(m.centred.anchorIt[i], cos64(minus(a, mean), minus(t, mean)), 'centred anchor-IT');
      near(m.centred.iclIt[i], cos64(minus(c, mean), minus(t, mean)), 'centred ICL-IT');
      near(m.massiveOut.iclIt[i], cos64(c, t, skip), 'massive-out ICL-IT');
      near(m.massiveOut.anchorIcl[i], cos64(a, c, skip), 'massive-out anchor-ICL');
      if (layer === 8) assert.ok(r.simIclIt[i] > 0.999 && m.massiveOut.iclIt[i] < 0.99, 'the planted dim dominates the raw cosine only');
    }
  });
  assert.equal(rob.of(records[8]), undefined);
});

test('the permutation null equals a brute-force loop within each condition, and CKA is taken over that condition', () => {
  const { records, states } = study();
  const rob = computeRobustness(records, (r) => states.get(r));
  for (const condition of ['a', 'b']) {
    const mine = records.filter((r) => r.condition === condition && states.has(r));
    LAYERS.forEach((layer, i) => {
      for (const r of mine) {
        const others = mine.filter((q) => q !== r);
        const want = others.reduce((s, q) => s + cos64(states.get(r)!.icl[i], states.get(q)!.it[i]), 0) / others.length;
        assert.ok(Math.abs(rob.of(r)!.nullIclIt[i] - want) < 1e-12, `${condition}/${r.repeat}/${layer}`);
      }
      const cka = rob.conditions.find((c) => c.condition === condition)!.layers[i];
      assert.deepEqual([cka.layer, cka.n], [layer, 4]);
      const want = linearCka(mine.map((r) => states.get(r)!.icl[i]), mine.map((r) => states.get(r)!.it[i]));
      assert.equal(cka.cka, want);
    });
  }
});

test('simUpdate and the raw similarities recomputed from the states equal the record\'s; a tampered record shows up in maxDeviation', () => {
  const { records, states } = study();
  const rob = computeRobustness(records, (r) => states.get(r));
  for (const [r] of states) {
    const m = rob.of(r)!;
    r.simUpdate.forEach((v, i) => assert.ok(Math.abs(m.recomputed.update[i] - v) < 1e-12, `update ${r.condition}/${r.repeat}`));
  }
  assert.ok(rob.groups[0].maxDeviation < 1e-12, `${rob.groups[0].maxDeviation}`);
  const bad = records[2];
  bad.simUpdate = [bad.simUpdate[0], bad.simUpdate[1] + 0.01];
  assert.ok(Math.abs(computeRobustness(records, (r) => states.get(r)).groups[0].maxDeviation - 0.01) < 1e-9);
});

test('models and experiments are separate groups (own means); states are read at most twice per record', () => {
  const states = new Map<RepeatRecord, SituationStates>();
  const records: RepeatRecord[] = [];
  for (const [model, offset] of [['m1', 0], ['m2', 30]] as const)
    for (let repeat = 0; repeat < 3; repeat++) {
      const s = statesFor(7 + repeat, offset);
      const r = recordWith(s, { model, repeat, condition: 'c' });
      states.set(r, s);
      records.push(r);
    }
  const calls = new Map<RepeatRecord, number>();
  const rob = computeRobustness(records, (r) => {
    calls.set(r, (calls.get(r) ?? 0) + 1);
    return states.get(r);
  });
  assert.deepEqual(rob.groups.map((g) => g.model), ['m1', 'm2']);
  // the same draws shifted by a constant: centring within each model gives the same centred cosines
  for (let k = 0; k < 3; k++) {
    const a = rob.of(records[k])!.centred.iclIt;
    const b = rob.of(records[k + 3])!.centred.iclIt;
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-4, `${v} vs ${b[i]}`));
  }
  assert.ok([...calls.values()].every((n) => n <= 2));
  // a layer the states do not hold is NaN in every measure
  const r = recordWith(statesFor(1), { condition: 'x', layers: [3, 8, 12], simAnchorIcl: [0, 0, 0], simAnchorIt: [0, 0, 0], simIclIt: [0, 0, 0], simUpdate: [0, 0, 0] });
  const one = computeRobustness([r], () => statesFor(1)).of(r)!;
  assert.ok(Number.isNaN(one.centred.iclIt[2]) && Number.isNaN(one.nullIclIt[0]) && Number.isFinite(one.centred.iclIt[0]));
});

test('inconsistent states are refused with one line naming the record', () => {
  const r = sampleRecord({ layers: LAYERS });
  const s = statesFor(3);
  assert.throws(() => computeRobustness([r], () => ({ ...s, it: [s.it[0]] })), /correct-labels\/repeat 0: states hold 1 it vectors for 2 layers/);
  const r2 = sampleRecord({ layers: LAYERS, repeat: 1 });
  const short = { ...statesFor(4), anchor: [new Float32Array(3), new Float32Array(3)], icl: [new Float32Array(3), new Float32Array(3)], it: [new Float32Array(3), new Float32Array(3)] };
  assert.throws(() => computeRobustness([r, r2], (x) => (x === r ? s : short)), (e: unknown) => e instanceof IclitError && /states at layer 3 have 3 dimensions, other records 6/.test(e.message));
  assert.throws(() => computeRobustness([r], () => s, { massiveRatio: 0 }), IclitError);
});
