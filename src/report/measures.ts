// A record's value under each measure: the raw cosine, the update similarity, centred, massive dims out, excess over the null.
import type { RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { valueAt } from './groups.js';
import type { PairKey, RobustMeasure } from './types.js';

export type Measure = 'raw' | RobustMeasure;

export const ROBUST_MEASURES: readonly RobustMeasure[] = ['update', 'centred', 'massiveOut', 'null'];

/** How tables name each measure. */
export const MEASURE_LABEL: Record<Measure, string> = {
  raw: 'raw cosine',
  update: 'update similarity',
  centred: 'centred',
  massiveOut: 'massive dims out',
  null: 'permutation null',
};

const TRIPLE = { simAnchorIcl: 'anchorIcl', simAnchorIt: 'anchorIt', simIclIt: 'iclIt' } as const;

function indexOf(r: RepeatRecord, layer: number): number {
  return r.layers.indexOf(layer);
}

/** A similarity at hidden-state `layer`: raw from the record, centred or massive-out from its states; NaN where absent. */
export function pairAt(rob: Robustness | undefined, r: RepeatRecord, key: PairKey, layer: number, measure: 'raw' | 'centred' | 'massiveOut'): number {
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

/** The permutation null of the record: mean mismatched s(ICL_r, IT_r′) over its condition (NaN without states). */
export function nullAt(rob: Robustness | undefined, r: RepeatRecord, layer: number): number {
  const m = rob?.of(r);
  const i = indexOf(r, layer);
  return m && i >= 0 ? m.nullIclIt[i] : NaN;
}

/**
 * ICL–IT convergence of a record under a measure: s(ICL,IT) raw, centred or with massive dims out; the update
 * similarity itself; or s(ICL,IT) minus the permutation null (what is specific to the shared demonstration).
 */
export function convergenceAt(rob: Robustness | undefined, r: RepeatRecord, layer: number, measure: Measure): number {
  if (measure === 'update') return updateAt(r, layer);
  if (measure === 'null') return valueAt(r, 'simIclIt', layer) - nullAt(rob, r, layer);
  return pairAt(rob, r, 'simIclIt', layer, measure);
}

/**
 * ICL–IT convergence beyond the anchors: s(ICL,IT) − max(s(anchor,ICL), s(anchor,IT)) under raw, centred or
 * massive-out cosines; for 'update' and 'null' the convergence value itself (they carry their own baseline).
 */
export function gapAt(rob: Robustness | undefined, r: RepeatRecord, layer: number, measure: Measure): number {
  if (measure === 'update' || measure === 'null') return convergenceAt(rob, r, layer, measure);
  const anchor = Math.max(pairAt(rob, r, 'simAnchorIcl', layer, measure), pairAt(rob, r, 'simAnchorIt', layer, measure));
  return pairAt(rob, r, 'simIclIt', layer, measure) - anchor;
}
