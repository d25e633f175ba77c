// What every figure shares: the Figure type, the look (fonts, sizes), "no data" panels and runs side by side.
import type { RepeatRecord } from '../experiments/record.js';
import { measureText } from './fonts.js';
import type { ReportRun } from './types.js';

/** A Vega-Lite spec as plain JSON (compiled by vega-lite in render.ts). */
export type VegaLiteSpec = { [key: string]: unknown };

export type FigureKind = 'boxes' | 'bins' | 'shots' | 'layers' | 'accuracy' | 'token-loss' | 'patching';

export interface Figure {
  /** File-safe name: figures/<id>.svg|png. */
  id: string;
  experiment: string;
  /** The panels drawn, in order ((a), (b), …); one kind for a single-panel figure. */
  kinds: FigureKind[];
  /** One-line title (plain text). */
  title: string;
  /** What is drawn, with units and n. */
  caption: string;
  /** Partial-data remarks: missing conditions, NaN values left out, a single repeat… */
  notes: string[];
  /** Set when nothing could be drawn; the spec then shows this message in place. */
  noData: string | null;
  spec: VegaLiteSpec;
}

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
export const SIM_AXIS = 'cosine similarity';
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Shared look: fonts resvg can find, white background, readable sizes, axis titles close to their axes. */
export function baseConfig(): VegaLiteSpec {
  return {
    font: FONT,
    background: 'white',
    padding: 4,
    title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start', offset: 6 },
    axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 200, titlePadding: 6 },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 200, titleLimit: 0 },
    header: { labelFontSize: 12, titleFontSize: 12 },
    concat: { spacing: 24 },
    view: { stroke: '#dddddd' },
  };
}

export function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'figure';
}

export function formatP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return 'n/a';
  return p < 0.001 ? p.toExponential(2) : p.toFixed(3);
}

/** A spec that renders `message` as text, so an empty figure says why instead of drawing nothing. */
export function noDataSpec(title: string, message: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: { text: title },
    // The view fits the message (measured in the drawing font), so no canvas is left empty beside it.
    width: Math.max(160, Math.ceil(measureText(message, 13)) + 4),
    height: 60,
    data: { values: [{ message }] },
    mark: { type: 'text', fontSize: 13, align: 'center', baseline: 'middle', color: '#8a1c1c' },
    encoding: { text: { field: 'message', type: 'nominal' } },
    config: { ...baseConfig(), view: { stroke: '#cccccc' } },
  };
}

/** A Figure with `spec`, or a "no data" one showing `noData` in place when there is nothing to draw. */
export function figure(base: Omit<Figure, 'spec' | 'noData'>, spec: VegaLiteSpec | null, noData: string | null): Figure {
  if (spec === null || noData !== null) {
    const message = noData ?? 'no data';
    return { ...base, noData: message, spec: noDataSpec(base.title, message) };
  }
  return { ...base, noData: null, spec };
}

/**
 * One view per run, side by side (hconcat, shared y and colour scales), each with its own data so that its x scale
 * holds only its own categories; a run without rows gets a "no data" panel as tall as the data panels. A single
 * run gives a single view. `width` may depend on the run's rows.
 */
export function byRun<T extends { run: string }>(
  spec: VegaLiteSpec,
  rows: T[],
  runs: readonly ReportRun[],
  what: string,
  width?: (mine: T[]) => number,
): VegaLiteSpec {
  const { title, config, ...inner } = spec;
  if (runs.length <= 1) return { $schema: SCHEMA, title, data: { values: rows }, ...inner, ...(width ? { width: width(rows) } : {}), config: config ?? baseConfig() };
  const panels = runs.map((run) => {
    const mine = rows.filter((r) => r.run === run.label);
    if (mine.length === 0) {
      const { config: _c, $schema: _s, ...empty } = noDataSpec(run.label, `no data: ${run.label} has no ${what}`);
      return { ...empty, height: typeof inner.height === 'number' ? inner.height : 240 };
    }
    return { title: { text: run.label, anchor: 'middle', fontSize: 12 }, data: { values: mine }, ...inner, ...(width ? { width: width(mine) } : {}) };
  });
  return { $schema: SCHEMA, title, hconcat: panels, resolve: { scale: { y: 'shared', color: 'shared' } }, config: config ?? baseConfig() };
}

export function recordsOf(run: ReportRun, experiment: string): RepeatRecord[] {
  return run.records.filter((r) => r.experiment === experiment);
}

export function nRange(ns: number[]): string {
  if (ns.length === 0) return 'n=0';
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? `n=${lo}` : `n=${lo}–${hi}`;
}

export function runPrefix(runs: readonly ReportRun[], run: ReportRun): string {
  return runs.length > 1 ? `${run.label}: ` : '';
}

/** Width of a band axis that fits each category's label horizontally (no rotated labels pushing the axis title away). */
export function bandWidth(labels: readonly string[], minStep = 48): number {
  return labels.reduce((w, l) => w + Math.max(minStep, Math.ceil(measureText(l, 11)) + 14), 0);
}
