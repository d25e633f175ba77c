// Export columns of the output and attention agreement measures (record.outputs, record.attention, accuracy.flips).
import type { RepeatRecord } from '../experiments/record.js';
import type { Cell, ExportColumn } from './export.js';
import { perLayerCells } from './layer-cells.js';

type Outputs = NonNullable<RepeatRecord['outputs']>;
type Attention = NonNullable<RepeatRecord['attention']>;

const OUTPUT_NUMBERS = [
  ['out_kl_icl_it', 'klIclIt'],
  ['out_js_icl_it', 'jsIclIt'],
  ['out_kl_icl_anchor', 'klIclAnchor'],
  ['out_kl_it_anchor', 'klItAnchor'],
] as const satisfies readonly (readonly [string, keyof Outputs])[];
const OUTPUT_FLAGS = [
  ['out_top1_icl_it', 'top1IclIt'],
  ['out_top1_anchor_icl', 'top1AnchorIcl'],
  ['out_top1_anchor_it', 'top1AnchorIt'],
] as const satisfies readonly (readonly [string, keyof Outputs])[];
const LABEL_MASS = [
  ['out_label_mass_anchor', 'anchor'],
  ['out_label_mass_icl', 'icl'],
  ['out_label_mass_it', 'it'],
] as const;
const FLIPS = [
  ['accuracy_flips_it', 'it'],
  ['accuracy_flips_icl', 'icl'],
  ['accuracy_flips_both', 'both'],
] as const;
/** Attention column prefixes, one column per layer (`_L`) and `_last`, as the similarity columns. */
export const ATTENTION_COLUMNS = [
  ['att_anchor_icl', 'anchorIcl'],
  ['att_anchor_it', 'anchorIt'],
  ['att_icl_it', 'iclIt'],
  ['att_change', 'change'],
  ['att_demo_share', 'demoShare'],
] as const satisfies readonly (readonly [string, keyof Attention])[];

/**
 * The columns, in this order: accuracy_flips_{it,icl,both}, out_kl_icl_it, out_js_icl_it, out_kl_icl_anchor,
 * out_kl_it_anchor, out_top1_{icl_it,anchor_icl,anchor_it}, out_label_mass_{anchor,icl,it}, then per attention
 * measure (att_anchor_icl, att_anchor_it, att_icl_it, att_change, att_demo_share) one column per layer of `layers`
 * and `_last` (the record's last measured layer).
 */
export function agreementColumns(layers: readonly number[]): ExportColumn[] {
  return [
    ...FLIPS.map(([name]): ExportColumn => ({ name, type: 'INT32' })),
    ...OUTPUT_NUMBERS.map(([name]): ExportColumn => ({ name, type: 'DOUBLE' })),
    ...OUTPUT_FLAGS.map(([name]): ExportColumn => ({ name, type: 'BOOLEAN' })),
    ...LABEL_MASS.map(([name]): ExportColumn => ({ name, type: 'DOUBLE' })),
    ...ATTENTION_COLUMNS.flatMap(([prefix]): ExportColumn[] => [...layers.map((l): ExportColumn => ({ name: `${prefix}_${l}`, type: 'DOUBLE' })), { name: `${prefix}_last`, type: 'DOUBLE' }]),
  ];
}

/** One record's cells of agreementColumns(layers): null where the record has no such measure or layer. */
export function agreementCells(r: RepeatRecord, layers: readonly number[]): Record<string, Cell> {
  const row: Record<string, Cell> = {};
  for (const [name, k] of FLIPS) row[name] = r.accuracy?.flips?.[k] ?? null;
  for (const [name, k] of OUTPUT_NUMBERS) row[name] = r.outputs?.[k] ?? null;
  for (const [name, k] of OUTPUT_FLAGS) row[name] = r.outputs?.[k] ?? null;
  for (const [name, k] of LABEL_MASS) row[name] = r.outputs?.labelMass?.[k] ?? null;
  for (const [prefix, k] of ATTENTION_COLUMNS) perLayerCells(row, prefix, r.attention?.[k], r.layers, layers, true);
  return row;
}
