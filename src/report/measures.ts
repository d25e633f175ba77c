// A record's value under each measure: the raw cosine, the update similarity, SimAOU, centred, standardised, massive dims out, excess over the null.
import type { RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { valueAt } from './groups.js';
import type { PairKey, RobustMeasure } from './types.js';

export type Measure = 'raw' | RobustMeasure;

export const ROBUST_MEASURES: readonly RobustMeasure[] = ['update', 'simAou', 'centred', 'standardised', 'massiveOut', 'null'];

/** Measures of s(ICL,IT) only that carry their own baseline (the anchor is inside them, or the null is subtracted). */
export const OWN_BASELINE: readonly Measure[] = ['update', 'simAou', 'null'];

/** A measure that reshapes the three cosines (computed from the stored states); the other measures are about s(ICL,IT) alone. */
export type PairMeasure = 'raw' | 'centred' | 'standardised' | 'massiveOut';

/** How tables name each measure. */
export const MEASURE_LABEL: Record<Measure, string> = {
  raw: 'raw cosine',
  update: 'update similarity',
  simAou: 'SimAOU (Dai)',
  centred: 'centred',
  standardised: 'standardised',
  massiveOut: 'massive dims out',
  null: 'permutation null',
};

const TRIPLE = { simAnchorIcl: 'anchorIcl', simAnchorIt: 'anchorIt', simIclIt: 'iclIt' } as const;

function indexOf(r: RepeatRecord, layer: number): number {
  return r.layers.indexOf(layer);
}

/** A similarity at hidden-state `layer`: raw from the record, centred, standardised or massive-out from its states; NaN where absent. */
export function pairAt(rob: Robustness | undefined, r: RepeatRecord, key: PairKey, layer: number, measure: PairMeasure): number {
  if (measure === 'raw') return valueAt(r, key, layer);
  const m = rob?.of(r);
  const i = indexOf(r, layer);
  if (!m || i < 0) return NaN;
  return m[measure][TRIPLE[key]][i];
}

/** cos(h_ICL − h_anchor, h_IT − h_anchor) from the record (NaN for a schema-1 record without it). */
export function updateAt(r: RepeatRecord, layer: number): number {
  const i = indexOf(r, layer);
  const v = i < 0 ? undefined : r.simUpdate?.[i];
  return typeof v === 'number' ? v : NaN;
}

/** Dai's SimAOU of the record, from its states (NaN without them). */
export function simAouAt(rob: Robustness | undefined, r: RepeatRecord, layer: number): number {
  const m = rob?.of(r);
  const i = indexOf(r, layer);
  return m && i >= 0 ? m.simAou[i] : NaN;
}

/** The permutation null of the record: mean mismatched s(ICL_r, IT_r′) over its condition (NaN without states). */
export function nullAt(rob: Robustness | undefined, r: RepeatRecord, layer: number): number {
  const m = rob?.of(r);
  const i = indexOf(r, layer);
  return m && i >= 0 ? m.nullIclIt[i] : NaN;
}

/**
 * ICL–IT convergence of a record under a measure: s(ICL,IT) raw, centred, standardised or with massive dims out;
 * the update similarity or SimAOU itself; or s(ICL,IT) minus the permutation null (what is specific to the shared
 * demonstration).
 */
export function convergenceAt(rob: Robustness | undefined, r: RepeatRecord, layer: number, measure: Measure): number {
  if (measure === 'update') return updateAt(r, layer);
  if (measure === 'simAou') return simAouAt(rob, r, layer);
  if (measure === 'null') return valueAt(r, 'simIclIt', layer) - nullAt(rob, r, layer);
  return pairAt(rob, r, 'simIclIt', layer, measure as PairMeasure);
}

/**
 * ICL–IT convergence beyond the anchors: s(ICL,IT) − max(s(anchor,ICL), s(anchor,IT)) under raw, centred,
 * standardised or massive-out cosines; for 'update', 'simAou' and 'null' the convergence value itself (they carry
 * their own baseline).
 */
export function gapAt(rob: Robustness | undefined, r: RepeatRecord, layer: number, measure: Measure): number {
  if (OWN_BASELINE.includes(measure)) return convergenceAt(rob, r, layer, measure);
  const m = measure as PairMeasure;
  const anchor = Math.max(pairAt(rob, r, 'simAnchorIcl', layer, m), pairAt(rob, r, 'simAnchorIt', layer, m));
  return pairAt(rob, r, 'simIclIt', layer, m) - anchor;
}
