// Export columns of record.patching: patching_icl_L and patching_it_L per patch point L (none when no record was patched).
import type { RepeatRecord } from '../experiments/record.js';
import type { Cell, ExportColumn } from './export.js';

/** The patching columns of `records` (every patch point any record has, ascending) and how to fill a row's cells (null where a record has no value). */
export function patchingColumns(records: readonly RepeatRecord[]): { columns: ExportColumn[]; fill(row: Record<string, Cell>, r: RepeatRecord): void } {
  const points = [...new Set(records.flatMap((r) => r.patching?.layers ?? []))].sort((a, b) => a - b);
  const curves = ['icl', 'it'] as const;
  const columns = curves.flatMap((k) => points.map((l): ExportColumn => ({ name: `patching_${k}_${l}`, type: 'DOUBLE' })));
  return {
    columns,
    fill(row, r) {
      const at = new Map((r.patching?.layers ?? []).map((l, i) => [l, i]));
      for (const k of curves)
        for (const l of points) {
          const i = at.get(l);
          row[`patching_${k}_${l}`] = i === undefined ? null : r.patching![k][i];
        }
    },
  };
}
