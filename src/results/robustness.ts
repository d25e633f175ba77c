// Robustness measures over records and their stored hidden states: centred, standardised and massive-dimension-free cosines, SimAOU, the permutation null, CKA (biased and debiased).
import { recordCondition, type RepeatRecord } from '../experiments/record.js';
import type { SituationStates } from '../experiments/backend.js';
import { IclitError } from '../util/errors.js';
import { groupBy } from '../util/group.js';
import {
  MASSIVE_RATIO,
  centredCosine,
  cosine,
  cosineExcluding,
  debiasedLinearCka,
  dimensionMoments,
  linearCka,
  massiveDimensions,
  mismatchedCosineMeans,
  normalisedUpdateCosine,
  standardisedCosine,
  updateCosine,
} from '../stats/index.js';

/** How robustness gets a record's states (e.g. `(r) => readRecordStates(dir, r)`): undefined where the record has none (not stored, or an empty unit). */
export type StatesOf = (r: RepeatRecord) => SituationStates | undefined;

export interface RobustnessOptions {
  /** A dimension is massive when its mean |value| ≥ ratio × the median per-dimension mean |value|. Default 100. */
  massiveRatio?: number;
}

/** The three similarities of one variant, per entry of `record.layers` (NaN where the states lack that layer). */
export interface TripleSims {
  anchorIcl: number[];
  anchorIt: number[];
  iclIt: number[];
}

/** What the stored states say about one record, aligned with `record.layers`. */
export interface RecordRobustness {
  /** After subtracting the mean state of the layer (over every state of the record's model and experiment). */
  centred: TripleSims;
  /** With the layer's massive dimensions left out. */
  massiveOut: TripleSims;
  /**
   * After standardising each dimension (Timkey & van Schijndel 2021) by its mean and standard deviation over every
   * state (anchor, ICL, IT of every record) of the record's model, experiment and condition at that layer.
   */
  standardised: TripleSims;
  /** Dai et al.'s exact SimAOU: the update cosine with each state L2-normalised first. */
  simAou: number[];
  /** Mean over the other records r′ of the same condition of cos(ICL_r, IT_r′); NaN with fewer than 2 records. */
  nullIclIt: number[];
  /** The record's own four similarities recomputed from the states (a check on what was stored). */
  recomputed: TripleSims & { update: number[] };
}

export interface LayerGroupRobustness {
  layer: number;
  /** States (anchor, ICL, IT of every record) the mean and the massive dimensions were taken over. */
  nStates: number;
  /** Massive dimensions of this layer, ascending. */
  massiveDims: number[];
}

/** Per (model, experiment, control): what was centred on and left out. */
export interface GroupRobustness {
  model: string;
  experiment: string;
  /** The control condition (`--controls`) the group holds, null for the real conditions: a control (e.g. an untrained model) is never centred on, or searched for massive dimensions with, the real states. */
  control: string | null;
  nRecords: number;
  nWithStates: number;
  massiveRatio: number;
  layers: LayerGroupRobustness[];
  /** Largest |value in the record − value recomputed from its states| over s(anchor,ICL), s(anchor,IT), s(ICL,IT), update. */
  maxDeviation: number;
}

/** Per (model, experiment, condition) and layer: linear CKA (biased, and debiased: Murphy et al. 2024) between the ICL and the IT states across repeats. */
export interface ConditionRobustness {
  model: string;
  experiment: string;
  condition: string;
  layers: { layer: number; n: number; cka: number; ckaDebiased: number }[];
}

export interface Robustness {
  /** The measures of one of the records given (by identity); undefined when it had no states. */
  of(r: RepeatRecord): RecordRobustness | undefined;
  groups: GroupRobustness[];
  conditions: ConditionRobustness[];
}

const keyOf = (...parts: string[]): string => parts.join('\u0000');

/** The states, checked: one vector per layer for each situation, all of one layer the same length. */
function checked(r: RepeatRecord, s: SituationStates): SituationStates {
  const where = `record ${r.experiment}/${r.model}/${r.condition}/repeat ${r.repeat}: states`;
  const n = s.layers.length;
  for (const k of ['anchor', 'icl', 'it'] as const) {
    if (s[k].length !== n) throw new IclitError(`${where} hold ${s[k].length} ${k} vectors for ${n} layers`);
    s[k].forEach((v, i) => {
      if (v.length !== s.anchor[i].length) throw new IclitError(`${where}: ${k} at layer ${s.layers[i]} has ${v.length} values, anchor has ${s.anchor[i].length}`);
    });
  }
  return s;
}

type Moments = ReturnType<typeof dimensionMoments>;

interface LayerAccumulator {
  sum: Float64Array;
  sumAbs: Float64Array;
  count: number;
}

/**
 * The robustness measures of PLAN.md for `records` (any mix of models, experiments and conditions), reading states
 * through `statesOf`, which is called at most twice per record (once for the means and massive dimensions of its
 * model and experiment, once for its own measures) so that only one condition's states are held at a time.
 */
export function computeRobustness(records: readonly RepeatRecord[], statesOf: StatesOf, opts: RobustnessOptions = {}): Robustness {
  const ratio = opts.massiveRatio ?? MASSIVE_RATIO;
  if (!(ratio > 0) || !Number.isFinite(ratio)) throw new IclitError(`massive-dimension ratio is ${ratio}; expected a positive number`);
  const byRecord = new Map<RepeatRecord, RecordRobustness>();
  const groups: GroupRobustness[] = [];
  const conditions: ConditionRobustness[] = [];
  for (const recs of groupBy(records, (r) => keyOf(r.model, r.experiment, recordCondition(r).control ?? '')).values()) {
    // 1. Mean state and mean |value| per layer over every stored state of this model and experiment.
    const acc = new Map<number, LayerAccumulator>();
    let nWithStates = 0;
    for (const r of recs) {
      const s = statesOf(r);
      if (!s) continue;
      nWithStates++;
      checked(r, s).layers.forEach((layer, i) => {
        const c = s.anchor[i].length;
        let a = acc.get(layer);
        if (!a) acc.set(layer, (a = { sum: new Float64Array(c), sumAbs: new Float64Array(c), count: 0 }));
        if (a.sum.length !== c) throw new IclitError(`record ${r.experiment}/${r.model}/${r.condition}/repeat ${r.repeat}: states at layer ${layer} have ${c} dimensions, other records ${a.sum.length}`);
        for (const v of [s.anchor[i], s.icl[i], s.it[i]]) {
          for (let d = 0; d < c; d++) {
            a.sum[d] += v[d];
            a.sumAbs[d] += Math.abs(v[d]);
          }
          a.count++;
        }
      });
    }
    const layerInfo = new Map<number, { mean: Float64Array; massive: number[]; nStates: number }>();
    for (const [layer, a] of [...acc].sort((x, y) => x[0] - y[0])) {
      const mean = a.sum.map((v) => v / a.count);
      layerInfo.set(layer, { mean, massive: massiveDimensions(a.sumAbs.map((v) => v / a.count), ratio), nStates: a.count });
    }
    // 2. Per condition: each record's measures, the permutation null and CKA across its repeats.
    let maxDeviation = 0;
    for (const [, cond] of groupBy(recs, (r) => r.condition)) {
      const held: { r: RepeatRecord; s: SituationStates }[] = [];
      for (const r of cond) {
        const s = statesOf(r);
        if (s) held.push({ r, s: checked(r, s) });
      }
      if (held.length === 0) continue;
      const ckaLayers: ConditionRobustness['layers'] = [];
      const nullAt = new Map<RepeatRecord, Map<number, number>>(held.map((h) => [h.r, new Map()]));
      const moments = new Map<number, Moments>();
      for (const layer of [...new Set(held.flatMap((h) => h.s.layers))].sort((a, b) => a - b)) {
        const rows = held.filter((h) => h.s.layers.includes(layer));
        const icl = rows.map((h) => h.s.icl[h.s.layers.indexOf(layer)]);
        const it = rows.map((h) => h.s.it[h.s.layers.indexOf(layer)]);
        mismatchedCosineMeans(icl, it).forEach((v, i) => nullAt.get(rows[i].r)!.set(layer, v));
        ckaLayers.push({ layer, n: rows.length, cka: linearCka(icl, it), ckaDebiased: debiasedLinearCka(icl, it) });
        moments.set(layer, dimensionMoments([...rows.map((h) => h.s.anchor[h.s.layers.indexOf(layer)]), ...icl, ...it]));
      }
      conditions.push({ model: cond[0].model, experiment: cond[0].experiment, condition: cond[0].condition, layers: ckaLayers });
      for (const { r, s } of held) {
        const m = measures(r, s, layerInfo, nullAt.get(r)!, moments);
        byRecord.set(r, m);
        maxDeviation = Math.max(maxDeviation, deviation(r, m.recomputed));
      }
    }
    groups.push({
      model: recs[0].model,
      experiment: recs[0].experiment,
      control: recordCondition(recs[0]).control,
      nRecords: recs.length,
      nWithStates,
      massiveRatio: ratio,
      layers: [...layerInfo].map(([layer, info]) => ({ layer, nStates: info.nStates, massiveDims: info.massive })),
      maxDeviation,
    });
  }
  return { of: (r) => byRecord.get(r), groups, conditions };
}

/** One record's measures at each of its layers. */
function measures(
  r: RepeatRecord,
  s: SituationStates,
  info: Map<number, { mean: Float64Array; massive: number[] }>,
  nullAt: Map<number, number>,
  moments: Map<number, Moments>,
): RecordRobustness {
  const triple = (): TripleSims => ({ anchorIcl: [], anchorIt: [], iclIt: [] });
  const out: RecordRobustness = { centred: triple(), massiveOut: triple(), standardised: triple(), simAou: [], nullIclIt: [], recomputed: { ...triple(), update: [] } };
  for (const layer of r.layers) {
    const i = s.layers.indexOf(layer);
    const li = info.get(layer);
    const mo = moments.get(layer);
    if (i < 0 || !li || !mo) {
      for (const t of [out.centred, out.massiveOut, out.standardised, out.recomputed]) for (const k of ['anchorIcl', 'anchorIt', 'iclIt'] as const) t[k].push(NaN);
      out.recomputed.update.push(NaN);
      out.simAou.push(NaN);
      out.nullIclIt.push(NaN);
      continue;
    }
    const [a, c, t] = [s.anchor[i], s.icl[i], s.it[i]];
    out.centred.anchorIcl.push(centredCosine(a, c, li.mean));
    out.centred.anchorIt.push(centredCosine(a, t, li.mean));
    out.centred.iclIt.push(centredCosine(c, t, li.mean));
    out.massiveOut.anchorIcl.push(cosineExcluding(a, c, li.massive));
    out.massiveOut.anchorIt.push(cosineExcluding(a, t, li.massive));
    out.massiveOut.iclIt.push(cosineExcluding(c, t, li.massive));
    out.standardised.anchorIcl.push(standardisedCosine(a, c, mo));
    out.standardised.anchorIt.push(standardisedCosine(a, t, mo));
    out.standardised.iclIt.push(standardisedCosine(c, t, mo));
    out.simAou.push(normalisedUpdateCosine(a, c, t));
    out.recomputed.anchorIcl.push(cosine(a, c));
    out.recomputed.anchorIt.push(cosine(a, t));
    out.recomputed.iclIt.push(cosine(c, t));
    out.recomputed.update.push(updateCosine(a, c, t));
    out.nullIclIt.push(nullAt.get(layer) ?? NaN);
  }
  return out;
}

/** Largest |record − recomputed| over the four similarities; two NaNs agree, NaN against a number counts as Infinity. */
function deviation(r: RepeatRecord, m: RecordRobustness['recomputed']): number {
  let worst = 0;
  const pairs: [number[] | undefined, number[]][] = [
    [r.simAnchorIcl, m.anchorIcl],
    [r.simAnchorIt, m.anchorIt],
    [r.simIclIt, m.iclIt],
    [r.simUpdate, m.update],
  ];
  for (const [stored, again] of pairs) {
    if (!stored) continue; // a schema-1 record has no simUpdate
    again.forEach((v, i) => {
      const w = stored[i];
      if (Number.isNaN(v) && Number.isNaN(w)) return;
      const d = Math.abs(v - w);
      worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
    });
  }
  return worst;
}
