// One way to spread a per-layer array of a record into export cells: `<prefix>_<layer>` per column layer, and `<prefix>_last`.
import type { Cell } from './export.js';

/**
 * Writes `${prefix}_${l}` for every l of `columns` into `row`: the value of `values` at l's index in `recordLayers`,
 * null where the record did not measure l or has no such values (an older record, a measure it lacks); with `last`,
 * also `${prefix}_last`, the value at the record's last measured layer.
 */
export function perLayerCells(row: Record<string, Cell>, prefix: string, values: readonly number[] | undefined, recordLayers: readonly number[], columns: readonly number[], last = false): void {
  const at = new Map(recordLayers.map((l, i) => [l, i]));
  for (const l of columns) {
    const i = at.get(l);
    row[`${prefix}_${l}`] = i === undefined || values === undefined ? null : values[i];
  }
  if (last) row[`${prefix}_last`] = values === undefined || recordLayers.length === 0 ? null : values[recordLayers.length - 1];
}
