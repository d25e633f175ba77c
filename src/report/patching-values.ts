// A record's patching values read by patch point: what the patching figure, summary.json and the report's tables share.
import type { RepeatRecord } from '../experiments/record.js';

/** The curves of record.patching: the cross curves (iclToIt, itToIcl: the evidence) and the own-output checks (icl, it). */
export type PatchingCurve = 'iclToIt' | 'itToIcl' | 'icl' | 'it';

/** The cross curves, which records written before them lack. */
export const CROSS_CURVES = ['iclToIt', 'itToIcl'] as const;

/** A record's value of `curve` at patch point `layer` (NaN where it has none, e.g. no cross curves in an older record). */
export function patchingAt(r: RepeatRecord, curve: PatchingCurve, layer: number): number {
  const i = r.patching?.layers.indexOf(layer) ?? -1;
  const values = r.patching?.[curve];
  return i < 0 || values === undefined ? NaN : values[i];
}

/** The patch points any of `records` has, ascending. */
export function patchPointsOf(records: readonly RepeatRecord[]): number[] {
  return [...new Set(records.flatMap((r) => r.patching?.layers ?? []))].sort((a, b) => a - b);
}
