// Export columns of record.patching: patching_icl_to_it_L, patching_it_to_icl_L (the cross curves), patching_icl_L and patching_it_L (the own-output checks) per patch point L (none when no record was patched).
import type { RepeatRecord } from '../experiments/record.js';
import type { Cell, ExportColumn } from './export.js';
import { perLayerCells } from './layer-cells.js';

/** Each curve of record.patching and its column prefix. */
const CURVES = [
  ['iclToIt', 'icl_to_it'],
  ['itToIcl', 'it_to_icl'],
  ['icl', 'icl'],
  ['it', 'it'],
] as const;

/** The patching columns of `records` (every patch point any record has, ascending) and how to fill a row's cells (null where a record has no value, e.g. no cross curves in an older record). */
export function patchingColumns(records: readonly RepeatRecord[]): { columns: ExportColumn[]; fill(row: Record<string, Cell>, r: RepeatRecord): void } {
  const points = [...new Set(records.flatMap((r) => r.patching?.layers ?? []))].sort((a, b) => a - b);
  const columns = CURVES.flatMap(([, name]) => points.map((l): ExportColumn => ({ name: `patching_${name}_${l}`, type: 'DOUBLE' })));
  return {
    columns,
    fill(row, r) {
      for (const [k, name] of CURVES) perLayerCells(row, `patching_${name}`, r.patching?.[k], r.patching?.layers ?? [], points);
    },
  };
}
