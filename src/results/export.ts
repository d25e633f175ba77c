// Flat tables of RepeatRecords (one row per repeat × condition) and their CSV, Parquet and JSONL encodings.
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { VARIANT_COLUMNS } from './variant-columns.js';
import type { RepeatRecord } from '../experiments/record.js';
import { IclitError } from '../util/errors.js';
import { agreementCells, agreementColumns } from './export-agreement.js';
import { computeRobustness, type RecordRobustness, type StatesOf } from './robustness.js';
import { patchingColumns } from './export-patching.js';
import { perLayerCells } from './layer-cells.js';

export type ExportFormat = 'csv' | 'parquet' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'parquet', 'jsonl'];

/** A cell: null where the record has no value (e.g. no accuracy measured, a layer it did not measure). */
export type Cell = number | string | boolean | null;

export interface ExportColumn {
  name: string;
  /** Parquet type: 'DOUBLE' (may hold NaN), 'INT32', 'INT64', 'BOOLEAN' or 'STRING'. */
  type: 'DOUBLE' | 'INT32' | 'INT64' | 'BOOLEAN' | 'STRING';
}

export interface ExportTable {
  columns: ExportColumn[];
  rows: Record<string, Cell>[];
}

/** What exportTable needs beyond the records: where their hidden states are (robustness columns stay null without). */
export interface ExportOptions {
  statesOf?: StatesOf;
  /** Massive-dimension threshold (see computeRobustness); default 100. */
  massiveRatio?: number;
}

const SIMS = [
  ['sim_anchor_icl', 'simAnchorIcl'],
  ['sim_anchor_it', 'simAnchorIt'],
  ['sim_icl_it', 'simIclIt'],
  ['sim_update', 'simUpdate'],
] as const;
const TRIPLE = [
  ['anchor_icl', 'anchorIcl'],
  ['anchor_it', 'anchorIt'],
  ['icl_it', 'iclIt'],
] as const;
/** Robustness column prefixes and how to read each from a record's measures (computeRobustness). */
type RobustColumn = readonly [prefix: string, read: (m: RecordRobustness) => number[]];
const ROBUST: readonly RobustColumn[] = [
  ...TRIPLE.map(([name, k]): RobustColumn => [`centred_${name}`, (m) => m.centred[k]]),
  ...TRIPLE.map(([name, k]): RobustColumn => [`massive_out_${name}`, (m) => m.massiveOut[k]]),
  ['null_icl_it', (m) => m.nullIclIt],
  ...VARIANT_COLUMNS,
];

/**
 * The flat table, columns in this order:
 *   experiment, condition, model, repeat, seed,
 *   accuracy_zero_shot, accuracy_icl, accuracy_it, accuracy_n, loss_decrease_instruction, loss_decrease_example, tune_loss,
 *   sim_anchor_icl_L…, sim_anchor_it_L…, sim_icl_it_L…, sim_update_L…   (L = every hidden-state index any record
 *   measured, ascending), then the same four as *_last (each record's last measured layer);
 *   centred_{anchor_icl,anchor_it,icl_it}_L… and _last, massive_out_{…}_L… and _last, null_icl_it_L… and _last,
 *   standardised_{…}_L… and _last, sim_aou_L… and _last (variant-columns.ts)
 *   (from the stored states through `opts.statesOf`; null where a record has no states),
 *   the output and attention agreement columns (export-agreement.ts: accuracy_flips_*, out_*, att_*_L… and _last),
 *   patching_icl_to_it_L…, patching_it_to_icl_L…, patching_icl_L…, patching_it_L… (L = every patch point any record's
 *   `patching` has; no columns without one; null where an older record has no cross curves),
 *   layers (JSON array), prompt_anchor, prompt_icl, prompt_tuning (JSON array of strings: the tuning prompts keep
 *   their newlines, so no separator could be safe), tokens_anchor, tokens_icl, tokens_tuning (JSON array),
 *   millis, config_hash, states, adapter, extra_<key>… (every key any record's `extra` has, sorted).
 */
export function exportTable(records: RepeatRecord[], opts: ExportOptions = {}): ExportTable {
  const layerSet = new Set<number>();
  const extraKeys = new Set<string>();
  for (const r of records) {
    for (const l of r.layers) layerSet.add(l);
    for (const k of Object.keys(r.extra ?? {})) extraKeys.add(k);
  }
  const layers = [...layerSet].sort((a, b) => a - b);
  const extras = [...extraKeys].sort();
  const robustness = opts.statesOf ? computeRobustness(records, opts.statesOf, { massiveRatio: opts.massiveRatio }) : undefined;

  const columns: ExportColumn[] = [
    { name: 'experiment', type: 'STRING' },
    { name: 'condition', type: 'STRING' },
    { name: 'model', type: 'STRING' },
    { name: 'repeat', type: 'INT32' },
    { name: 'seed', type: 'INT64' },
    { name: 'accuracy_zero_shot', type: 'DOUBLE' },
    { name: 'accuracy_icl', type: 'DOUBLE' },
    { name: 'accuracy_it', type: 'DOUBLE' },
    { name: 'accuracy_n', type: 'INT32' },
    { name: 'loss_decrease_instruction', type: 'DOUBLE' },
    { name: 'loss_decrease_example', type: 'DOUBLE' },
    { name: 'tune_loss', type: 'DOUBLE' },
  ];
  for (const [prefix] of SIMS) for (const l of layers) columns.push({ name: `${prefix}_${l}`, type: 'DOUBLE' });
  for (const [prefix] of SIMS) columns.push({ name: `${prefix}_last`, type: 'DOUBLE' });
  for (const [prefix] of ROBUST) {
    for (const l of layers) columns.push({ name: `${prefix}_${l}`, type: 'DOUBLE' });
    columns.push({ name: `${prefix}_last`, type: 'DOUBLE' });
  }
  columns.push(...agreementColumns(layers));
  const patching = patchingColumns(records);
  columns.push(...patching.columns);
  columns.push(
    { name: 'layers', type: 'STRING' },
    { name: 'prompt_anchor', type: 'STRING' },
    { name: 'prompt_icl', type: 'STRING' },
    { name: 'prompt_tuning', type: 'STRING' },
    { name: 'tokens_anchor', type: 'INT32' },
    { name: 'tokens_icl', type: 'INT32' },
    { name: 'tokens_tuning', type: 'STRING' },
    { name: 'millis', type: 'DOUBLE' },
    { name: 'config_hash', type: 'STRING' },
    { name: 'states', type: 'STRING' },
    { name: 'adapter', type: 'STRING' },
  );
  for (const k of extras) columns.push({ name: `extra_${k}`, type: extraType(records, k) });

  const rows = records.map((r) => {
    const row: Record<string, Cell> = {
      experiment: r.experiment,
      condition: r.condition,
      model: r.model,
      repeat: r.repeat,
      seed: r.seed,
      accuracy_zero_shot: r.accuracy?.zeroShot ?? null,
      accuracy_icl: r.accuracy?.icl ?? null,
      accuracy_it: r.accuracy?.it ?? null,
      accuracy_n: r.accuracy?.n ?? null,
      loss_decrease_instruction: r.lossDecrease?.instruction ?? null,
      loss_decrease_example: r.lossDecrease?.example ?? null,
      tune_loss: r.tuneLoss ?? null,
    };
    // A schema-1 record has no simUpdate: its cells stay null.
    for (const [prefix, field] of SIMS) perLayerCells(row, prefix, r[field], r.layers, layers);
    for (const [prefix, field] of SIMS) perLayerCells(row, prefix, r[field], r.layers, [], true);
    const m = robustness?.of(r);
    for (const [prefix, read] of ROBUST) perLayerCells(row, prefix, m ? read(m) : undefined, r.layers, layers, true);
    Object.assign(row, agreementCells(r, layers));
    patching.fill(row, r);
    row.layers = JSON.stringify(r.layers);
    row.prompt_anchor = r.prompts.anchor;
    row.prompt_icl = r.prompts.icl;
    row.prompt_tuning = JSON.stringify(r.prompts.tuning);
    row.tokens_anchor = r.tokenCounts.anchor;
    row.tokens_icl = r.tokenCounts.icl;
    row.tokens_tuning = JSON.stringify(r.tokenCounts.tuning);
    row.millis = r.millis;
    row.config_hash = r.configHash ?? null;
    row.states = r.states ?? null;
    row.adapter = r.adapter ?? null;
    for (const k of extras) {
      const v = r.extra?.[k];
      row[`extra_${k}`] = v === undefined ? null : v;
    }
    return row;
  });
  return { columns, rows };
}

/** DOUBLE when every value of extra[key] is a number, BOOLEAN when every one is a boolean, else STRING. */
function extraType(records: RepeatRecord[], key: string): ExportColumn['type'] {
  const kinds = new Set<string>();
  for (const r of records) {
    const v = r.extra?.[key];
    if (v !== undefined && v !== null) kinds.add(typeof v);
  }
  if (kinds.size === 1 && kinds.has('number')) return 'DOUBLE';
  if (kinds.size === 1 && kinds.has('boolean')) return 'BOOLEAN';
  return 'STRING';
}

/** A cell converted to what its column type holds (mixed extra values become strings). */
function typedCell(v: Cell, type: ExportColumn['type']): Cell | bigint {
  if (v === null) return null;
  if (type === 'STRING' && typeof v !== 'string') return numberText(v);
  if (type === 'INT64' && typeof v === 'number') return BigInt(v);
  return v;
}

/** Number text that round-trips (shortest form) with NaN, Infinity, -Infinity spelled out. */
function numberText(v: number | boolean): string {
  if (typeof v === 'boolean') return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return String(v);
}

// ---------- CSV (RFC 4180) ----------

/** A CSV field: quoted when it holds a comma, quote, CR or LF or starts/ends with a space; quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 CSV: a header row, CRLF line ends, fields quoted where needed (prompts hold commas, quotes and
 * newlines). Empty field = no value; NaN, Infinity and -Infinity are written as such (pandas reads them).
 */
export function toCsv(table: ExportTable): string {
  const lines = [table.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of table.rows) {
    lines.push(table.columns.map((c) => {
      const v = row[c.name];
      if (v === null || v === undefined) return '';
      return csvField(typeof v === 'string' ? v : numberText(v));
    }).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

// ---------- JSONL ----------

/**
 * One JSON object per row and line, keys in column order. JSON has no NaN: NaN, Infinity and -Infinity are
 * written as the strings "NaN", "Infinity", "-Infinity" (pandas: `pd.to_numeric`; Python: `float(s)`).
 */
export function toJsonl(table: ExportTable): string {
  let out = '';
  for (const row of table.rows) {
    const o: Record<string, Cell> = {};
    for (const c of table.columns) {
      const v = row[c.name];
      o[c.name] = typeof v === 'number' && !Number.isFinite(v) ? numberText(v) : v;
    }
    out += JSON.stringify(o) + '\n';
  }
  return out;
}

// ---------- Parquet ----------

/** Parquet (snappy) with one typed, nullable column per table column; NaN stays a DOUBLE NaN. */
export function toParquet(table: ExportTable): Buffer {
  const columnData: ColumnSource[] = table.columns.map((c) => ({
    name: c.name,
    type: c.type,
    nullable: true,
    data: table.rows.map((row) => typedCell(row[c.name] ?? null, c.type)),
  }));
  try {
    return Buffer.from(parquetWriteBuffer({ columnData, createdBy: 'iclit' }));
  } catch (e) {
    throw new IclitError(`cannot write Parquet: ${(e as Error).message}`);
  }
}

/** The records as CSV or JSONL text, or Parquet bytes (robustness columns from `opts.statesOf`, null without). */
export function exportRecords(records: RepeatRecord[], format: 'csv' | 'jsonl', opts?: ExportOptions): string;
export function exportRecords(records: RepeatRecord[], format: 'parquet', opts?: ExportOptions): Buffer;
export function exportRecords(records: RepeatRecord[], format: ExportFormat, opts?: ExportOptions): Buffer | string;
export function exportRecords(records: RepeatRecord[], format: ExportFormat, opts: ExportOptions = {}): Buffer | string {
  const table = exportTable(records, opts);
  switch (format) {
    case 'csv': return toCsv(table);
    case 'jsonl': return toJsonl(table);
    case 'parquet': return toParquet(table);
    default: throw new IclitError(`unknown export format '${String(format)}' (csv, parquet or jsonl)`);
  }
}
