// A record's patching values read by patch point: what the patching figure, summary.json and the report's tables share.
import type { RepeatRecord } from '../experiments/record.js';

/** A record's value of `curve` at patch point `layer` (NaN where it has none). */
export function patchingAt(r: RepeatRecord, curve: 'icl' | 'it', layer: number): number {
  const i = r.patching?.layers.indexOf(layer) ?? -1;
  return i < 0 ? NaN : r.patching![curve][i];
}

/** The patch points any of `records` has, ascending. */
export function patchPointsOf(records: readonly RepeatRecord[]): number[] {
  return [...new Set(records.flatMap((r) => r.patching?.layers ?? []))].sort((a, b) => a - b);
}
