// Pure helpers that slice RepeatRecords: presets' expected conditions, ordering, values at a layer, pairing by repeat (a record's condition settings: recordCondition).
import { recordCondition, type RepeatRecord } from '../experiments/record.js';
import { PRESET_NAMES, STUDY_DEFAULTS, findPreset } from '../experiments/conditions.js';
import { PAPER_ORDER } from '../experiments/paper-order.js';
import type { PairKey } from './types.js';

export const PAIRS: readonly PairKey[] = ['simAnchorIcl', 'simAnchorIt', 'simIclIt'];

/** How figures and tables name each similarity. */
export const PAIR_LABEL: Record<PairKey, string> = {
  simAnchorIcl: 's(anchor,ICL)',
  simAnchorIt: 's(anchor,IT)',
  simIclIt: 's(ICL,IT)',
};

/**
 * Conditions the study's preset `experiment` defines with its default options (src/experiments/conditions.ts), so
 * the report can say which are missing; demo-similarity gets as many bins as the records show (at least the
 * default). [] for names that are not presets (e.g. a YAML config's own experiment).
 */
export function expectedConditions(experiment: string, records: readonly RepeatRecord[] = []): string[] {
  if (!PRESET_NAMES.includes(experiment)) return [];
  let bins: number = STUDY_DEFAULTS.bins;
  for (const r of records) {
    const b = recordCondition(r).bin;
    if (b !== null && Number.isInteger(b) && b + 1 > bins) bins = b + 1;
  }
  return findPreset(experiment)
    .conditions({ shots: STUDY_DEFAULTS.shots, epochs: STUDY_DEFAULTS.epochs, bins })
    .map((c) => c.name);
}

/** Compares names with embedded numbers numerically ('k=2' < 'k=10', 'bin=9' < 'bin=10'). */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Sections in the order of the paper's figures (PAPER_ORDER), then anything else naturally sorted. */
export function orderExperiments(names: Iterable<string>): string[] {
  const set = [...new Set(names)];
  const known = PAPER_ORDER.filter((p) => set.includes(p));
  const other = set.filter((p) => !PAPER_ORDER.includes(p)).sort(naturalCompare);
  return [...known, ...other];
}

/** A preset's conditions in its own order, then any others naturally sorted. */
export function orderConditions(experiment: string, names: Iterable<string>, records: readonly RepeatRecord[] = []): string[] {
  const set = [...new Set(names)];
  const expected = expectedConditions(experiment, records).filter((c) => set.includes(c));
  const other = set.filter((c) => !expected.includes(c)).sort(naturalCompare);
  return [...expected, ...other];
}

/** The highest hidden-state index any of the records measured, or null when none measured a layer. */
export function lastLayerOf(records: readonly RepeatRecord[]): number | null {
  let last: number | null = null;
  for (const r of records) for (const l of r.layers) if (last === null || l > last) last = l;
  return last;
}

/** Every measured layer, ascending. */
export function layersOf(records: readonly RepeatRecord[]): number[] {
  const s = new Set<number>();
  for (const r of records) for (const l of r.layers) s.add(l);
  return [...s].sort((a, b) => a - b);
}

/** The similarity at hidden-state `layer`, NaN where the record did not measure it. */
export function valueAt(r: RepeatRecord, key: PairKey, layer: number): number {
  const i = r.layers.indexOf(layer);
  if (i < 0) return NaN;
  const v = r[key][i];
  return typeof v === 'number' ? v : NaN;
}

/** Records the runner marked empty (no demonstration candidates, e.g. an empty similarity bin): similarities are NaN. */
export function isEmptyUnit(r: RepeatRecord): boolean {
  return r.extra?.empty === true;
}

/** Records of a control condition (`--controls`): compared in "Is ICL implicit IT here?", kept out of the paper's pooled quantities. */
export function isControl(r: RepeatRecord): boolean {
  return recordCondition(r).control !== null;
}

/** Records that carry at least one finite similarity. */
export function hasSimilarity(r: RepeatRecord): boolean {
  return PAIRS.some((k) => r[k].some((v) => Number.isFinite(v)));
}

/** Mean value per repeat index (several records of one repeat, e.g. several conditions of one label setting, are averaged). */
export function byRepeat(records: readonly RepeatRecord[], value: (r: RepeatRecord) => number | undefined): Map<number, number> {
  const sums = new Map<number, { s: number; n: number }>();
  for (const r of records) {
    const v = value(r);
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const acc = sums.get(r.repeat) ?? { s: 0, n: 0 };
    acc.s += v;
    acc.n += 1;
    sums.set(r.repeat, acc);
  }
  return new Map([...sums].map(([k, { s, n }]) => [k, s / n]));
}

/** a[k] − b[k] for every repeat k both have, by ascending repeat. */
export function pairedDifferences(a: Map<number, number>, b: Map<number, number>): number[] {
  return [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y).map((k) => a.get(k)! - b.get(k)!);
}
