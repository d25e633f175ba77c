// One typed builder per figure: runs → a Vega-Lite spec (or a "no data: …" placeholder spec), with title, caption and notes.
import type { RepeatRecord } from '../experiments/record.js';
import { dist } from './numbers.js';
import {
  PAIRS,
  PAIR_LABEL,
  PRESET_ORDER,
  expectedConditions,
  groupBy,
  hasSimilarity,
  isEmptyUnit,
  labelsOf,
  lastLayerOf,
  layersOf,
  numberFrom,
  orderConditions,
  orderExperiments,
  valueAt,
} from './groups.js';
import { summarizeAccuracy, summarizeExperiment } from './summary.js';
import type { ReportRun } from './types.js';

/** A Vega-Lite spec as plain JSON (compiled by vega-lite in render.ts). */
export type VegaLiteSpec = { [key: string]: unknown };

export type FigureKind = 'boxes' | 'bins' | 'shots' | 'layers' | 'accuracy' | 'token-loss';

export interface Figure {
  /** File-safe name: figures/<id>.svg|png. */
  id: string;
  experiment: string;
  kind: FigureKind;
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

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const SIM_AXIS = 'cosine similarity (unitless, −1…1)';

/** Shared look: fonts resvg can find, white background, readable sizes. */
export function baseConfig(): VegaLiteSpec {
  return {
    font: FONT,
    background: 'white',
    title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' },
    axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titleLimit: 0 },
    header: { labelFontSize: 12, titleFontSize: 12 },
  };
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

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
    width: 520,
    height: 60,
    data: { values: [{ message }] },
    mark: { type: 'text', fontSize: 14, align: 'center', baseline: 'middle', color: '#8a1c1c' },
    encoding: { text: { field: 'message', type: 'nominal' } },
    config: { ...baseConfig(), view: { stroke: '#cccccc' } },
  };
}

function figure(base: Omit<Figure, 'spec' | 'noData'>, spec: VegaLiteSpec | null, noData: string | null): Figure {
  if (spec === null || noData !== null) {
    const message = noData ?? 'no data';
    return { ...base, noData: message, spec: noDataSpec(base.title, message) };
  }
  return { ...base, noData: null, spec };
}

/**
 * One view per run, side by side (hconcat, shared y and colour scales), each with its own data so that its x scale
 * holds only its own categories; a run without rows gets a "no data" panel. A single run gives a single view.
 */
function byRun<T extends { run: string }>(spec: VegaLiteSpec, rows: T[], runs: readonly ReportRun[], what: string): VegaLiteSpec {
  const { title, config, ...inner } = spec;
  if (runs.length <= 1) return { $schema: SCHEMA, title, data: { values: rows }, ...inner, config: config ?? baseConfig() };
  const panels = runs.map((run) => {
    const mine = rows.filter((r) => r.run === run.label);
    if (mine.length === 0) {
      const { config: _c, $schema: _s, ...empty } = noDataSpec(run.label, `no data: ${run.label} has no ${what}`);
      // Same height as the data panels: the shared y scale takes its range from the first panel.
      return { ...empty, width: 260, height: typeof inner.height === 'number' ? inner.height : 240 };
    }
    return { title: { text: run.label, anchor: 'middle', fontSize: 12 }, data: { values: mine }, ...inner };
  });
  return { $schema: SCHEMA, title, hconcat: panels, resolve: { scale: { y: 'shared', color: 'shared' } }, config: config ?? baseConfig() };
}

function recordsOf(run: ReportRun, experiment: string): RepeatRecord[] {
  return run.records.filter((r) => r.experiment === experiment);
}

function nRange(ns: number[]): string {
  if (ns.length === 0) return 'n=0';
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? `n=${lo}` : `n=${lo}–${hi}`;
}

function runPrefix(runs: readonly ReportRun[], run: ReportRun): string {
  return runs.length > 1 ? `${run.label}: ` : '';
}

// ---------- 1. box plots of the three similarities per condition ----------

export function similarityBoxes(runs: readonly ReportRun[], experiment: string): Figure {
  const title = `${experiment}: cosine similarities per condition (last measured layer)`;
  const rows: { run: string; condition: string; pair: string; value: number }[] = [];
  const notes: string[] = [];
  const layersUsed = new Set<number>();
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment);
    const byCond = groupBy(recs, (r) => r.condition);
    const missing = expectedConditions(experiment, recs).filter((c) => !byCond.has(c));
    if (recs.length > 0 && missing.length) notes.push(`${runPrefix(runs, run)}missing condition(s): ${missing.join(', ')}`);
    for (const c of orderConditions(experiment, byCond.keys(), recs)) {
      const g = byCond.get(c) ?? [];
      const empties = g.filter(isEmptyUnit).length;
      if (empties > 0) notes.push(`${runPrefix(runs, run)}${c}: ${empties} repeat(s) had no demonstration candidates (similarities NaN)`);
      const layer = lastLayerOf(g);
      if (layer === null) continue;
      layersUsed.add(layer);
      ns.push(g.length);
      const label = `${c} (n=${g.length})`;
      let nan = 0;
      for (const k of PAIRS)
        for (const r of g) {
          const v = valueAt(r, k, layer);
          if (Number.isFinite(v)) rows.push({ run: run.label, condition: label, pair: PAIR_LABEL[k], value: v });
          else nan++;
        }
      if (g.length === 1) notes.push(`${runPrefix(runs, run)}${c}: a single repeat (no spread)`);
      if (nan > 0) notes.push(`${runPrefix(runs, run)}${c}: ${nan} NaN/missing similarity value(s) left out`);
    }
  }
  const layerText = layersUsed.size ? `hidden state ${[...layersUsed].sort((a, b) => a - b).join(', ')}` : 'no layer';
  const caption = `Box = IQR, line = median, whiskers = min–max; ${layerText}; ${nRange(ns)} repeats per condition (n in each axis label).`;
  const base = { id: safeId(`${experiment}-boxes`), experiment, kind: 'boxes' as const, title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no finite similarity values for ${experiment}`);
  const conditionOrder = [...new Set(rows.map((r) => r.condition))];
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: `${layerText}; ${nRange(ns)} repeats per condition` },
    // A fixed width: a step width with xOffset multiplies by the offset categories and gets very wide.
    width: Math.max(180, 90 * Math.max(...runs.map((run) => new Set(rows.filter((r) => r.run === run.label).map((r) => r.condition)).size))),
    height: 280,
    mark: { type: 'boxplot', extent: 'min-max', size: 16 },
    encoding: {
      x: { field: 'condition', type: 'nominal', sort: conditionOrder, title: 'condition (n = repeats)', axis: { labelAngle: -30 } },
      xOffset: { field: 'pair', type: 'nominal', sort: PAIRS.map((k) => PAIR_LABEL[k]) },
      y: { field: 'value', type: 'quantitative', title: SIM_AXIS, scale: { zero: false } },
      color: { field: 'pair', type: 'nominal', title: 'similarity', sort: PAIRS.map((k) => PAIR_LABEL[k]) },
    },
  };
  return figure(base, byRun(spec, rows, runs, `finite similarities for ${experiment}`), null);
}

// ---------- 2. means over the demonstration-similarity bins ----------

export function binLines(runs: readonly ReportRun[], experiment = 'demo-similarity'): Figure {
  const title = `${experiment}: mean similarities over demonstration-similarity bins`;
  const rows: { run: string; bin: number; pair: string; mean: number; n: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment).filter((r) => numberFrom(r, 'bin', 'bin') !== null);
    const byBin = groupBy(recs, (r) => String(numberFrom(r, 'bin', 'bin')));
    const present = [...byBin.keys()].map(Number);
    const nBins = Math.max(10, ...present.map((b) => b + 1));
    const missing = Array.from({ length: nBins }, (_, i) => i).filter((b) => !present.includes(b));
    if (missing.length && present.length > 0) notes.push(`${runPrefix(runs, run)}no records for bin(s) ${missing.join(', ')}`);
    for (const [bin, g] of byBin) {
      const layer = lastLayerOf(g);
      if (layer === null) continue;
      ns.push(g.length);
      for (const k of PAIRS) {
        const d = dist(g.map((r) => valueAt(r, k, layer)));
        if (d.mean !== null) rows.push({ run: run.label, bin: Number(bin), pair: PAIR_LABEL[k], mean: d.mean, n: d.n });
        if (d.nanCount > 0) notes.push(`${runPrefix(runs, run)}bin ${bin}, ${PAIR_LABEL[k]}: ${d.nanCount} NaN value(s) left out`);
      }
    }
  }
  const caption = `Mean cosine similarity at the last measured layer per bin of demonstration–query similarity (0 = least similar); ${nRange(ns)} repeats per bin.`;
  const base = { id: safeId(`${experiment}-bins`), experiment, kind: 'bins' as const, title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no records with a demonstration-similarity bin in ${experiment}`);
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: `${nRange(ns)} repeats per bin; last measured layer` },
    width: 360,
    height: 260,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'bin', type: 'quantitative', title: 'demonstration-similarity bin (0 = least similar)', axis: { tickMinStep: 1 } },
      y: { field: 'mean', type: 'quantitative', title: `mean ${SIM_AXIS}`, scale: { zero: false } },
      color: { field: 'pair', type: 'nominal', title: 'similarity', sort: PAIRS.map((k) => PAIR_LABEL[k]) },
      tooltip: [{ field: 'bin' }, { field: 'pair' }, { field: 'mean', format: '.3f' }, { field: 'n' }],
    },
  };
  return figure(base, byRun(spec, rows, runs, 'records with a bin'), null);
}

// ---------- 3. s(ICL,IT) over the number of shots ----------

export function shotsLine(runs: readonly ReportRun[], experiment = 'shots'): Figure {
  const title = `${experiment}: s(ICL,IT) over the number of demonstrations`;
  const rows: { run: string; shots: number; mean: number; q1: number; q3: number; n: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment).filter((r) => numberFrom(r, 'shots', 'k') !== null);
    const byShots = groupBy(recs, (r) => String(numberFrom(r, 'shots', 'k')));
    const missing = [1, 2, 5, 10].filter((k) => !byShots.has(String(k)));
    if (missing.length && byShots.size > 0) notes.push(`${runPrefix(runs, run)}no records for k = ${missing.join(', ')}`);
    for (const [k, g] of byShots) {
      const layer = lastLayerOf(g);
      if (layer === null) continue;
      const d = dist(g.map((r) => valueAt(r, 'simIclIt', layer)));
      ns.push(d.n);
      if (d.nanCount > 0) notes.push(`${runPrefix(runs, run)}k=${k}: ${d.nanCount} NaN value(s) left out`);
      if (d.mean !== null) rows.push({ run: run.label, shots: Number(k), mean: d.mean, q1: d.q1!, q3: d.q3!, n: d.n });
    }
  }
  const caption = `Mean s(ICL,IT) at the last measured layer (points) with the IQR (bars) per number of demonstrations k; ${nRange(ns)} repeats per k.`;
  const base = { id: safeId(`${experiment}-shots`), experiment, kind: 'shots' as const, title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no records with a shot count in ${experiment}`);
  rows.sort((a, b) => a.shots - b.shots);
  const order = [...new Set(rows.map((r) => r.shots))].sort((a, b) => a - b);
  const x = { field: 'shots', type: 'ordinal', sort: order, title: 'demonstrations k (shots)', axis: { labelAngle: 0 } };
  const color = { field: 'run', type: 'nominal', title: 'run' };
  const spec: VegaLiteSpec = {
    $schema: SCHEMA,
    title: { text: title, subtitle: `${nRange(ns)} repeats per k; mean with IQR` },
    data: { values: rows },
    width: 320,
    height: 260,
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' }, color } },
      {
        mark: { type: 'line', point: { size: 60 } },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: `s(ICL,IT): ${SIM_AXIS}`, scale: { zero: false } },
          color,
          tooltip: [{ field: 'run' }, { field: 'shots' }, { field: 'mean', format: '.3f' }, { field: 'q1', format: '.3f' }, { field: 'q3', format: '.3f' }, { field: 'n' }],
        },
      },
    ],
    config: baseConfig(),
  };
  return figure(base, spec, null);
}

// ---------- 4. the three similarities over layers ----------

export function layerLines(runs: readonly ReportRun[], experiment = 'layers'): Figure {
  const title = `${experiment}: cosine similarities over layers`;
  const rows: { panel: string; layer: number; pair: string; mean: number; q1: number; q3: number; n: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  let panels = 0;
  for (const run of runs) {
    const byCond = groupBy(recordsOf(run, experiment), (r) => r.condition);
    for (const c of orderConditions(experiment, byCond.keys())) {
      const g = byCond.get(c) ?? [];
      const layers = layersOf(g);
      if (layers.length === 0) continue;
      panels++;
      ns.push(g.length);
      const panel = runs.length > 1 ? `${run.label} · ${c} (n=${g.length})` : `${c} (n=${g.length})`;
      if (layers.length === 1) notes.push(`${runPrefix(runs, run)}${c}: only hidden state ${layers[0]} measured`);
      if (g.length === 1) notes.push(`${runPrefix(runs, run)}${c}: a single repeat (IQR band has no width)`);
      let nan = 0;
      for (const layer of layers)
        for (const k of PAIRS) {
          const d = dist(g.map((r) => valueAt(r, k, layer)));
          nan += d.nanCount;
          if (d.mean !== null) rows.push({ panel, layer, pair: PAIR_LABEL[k], mean: d.mean, q1: d.q1!, q3: d.q3!, n: d.n });
        }
      if (nan > 0) notes.push(`${runPrefix(runs, run)}${c}: ${nan} NaN/missing value(s) left out`);
    }
  }
  const caption = `Mean cosine similarity per hidden-state index (0 = embeddings) with the IQR as a band; ${nRange(ns)} repeats.`;
  const base = { id: safeId(`${experiment}-layers`), experiment, kind: 'layers' as const, title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no finite per-layer similarities in ${experiment}`);
  const x = { field: 'layer', type: 'quantitative', title: 'hidden-state index (0 = embeddings)', axis: { tickMinStep: 1 } };
  const color = { field: 'pair', type: 'nominal', title: 'similarity', sort: PAIRS.map((k) => PAIR_LABEL[k]) };
  const inner: VegaLiteSpec = {
    width: 320,
    height: 240,
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' }, color } },
      {
        mark: { type: 'line', point: { size: 20 } },
        encoding: { x, y: { field: 'mean', type: 'quantitative', title: `mean ${SIM_AXIS}`, scale: { zero: false } }, color },
      },
    ],
  };
  const header = { text: title, subtitle: `${nRange(ns)} repeats; line = mean, band = IQR` };
  const spec: VegaLiteSpec =
    panels <= 1
      ? { $schema: SCHEMA, title: header, data: { values: rows }, ...inner, config: baseConfig() }
      : {
          $schema: SCHEMA,
          title: header,
          data: { values: rows },
          facet: { field: 'panel', type: 'nominal', title: null },
          columns: 2,
          spec: inner,
          config: baseConfig(),
        };
  return figure(base, spec, null);
}

// ---------- 5. accuracy with right vs wrong labels ----------

const SITUATION_LABEL = { zeroShot: 'zero-shot', icl: 'ICL', it: 'IT' } as const;

export function accuracyBars(runs: readonly ReportRun[], experiment = 'accuracy'): Figure {
  const rows: { run: string; situation: string; labels: string; accuracy: number; n: number }[] = [];
  const notes: string[] = [];
  const pLines: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const acc = summarizeAccuracy(recordsOf(run, experiment));
    if (!acc) continue;
    for (const g of acc.byLabels) {
      ns.push(g.n);
      for (const s of ['zeroShot', 'icl', 'it'] as const) {
        const d = g[s];
        if (d.mean !== null) rows.push({ run: run.label, situation: SITUATION_LABEL[s], labels: `${g.labels} labels`, accuracy: 100 * d.mean, n: d.n });
      }
    }
    const labelsSeen = acc.byLabels.map((g) => g.labels);
    for (const want of ['right', 'wrong']) if (!labelsSeen.includes(want)) notes.push(`${runPrefix(runs, run)}no records with ${want} labels`);
    pLines.push(
      `${runPrefix(runs, run)}right > wrong (one-tailed Wilcoxon, paired by repeat): ` +
        acc.tests.map((t) => `${t.id.includes('.icl') ? 'ICL' : 'IT'} p=${formatP(t.pValue)} (n=${t.n})`).join(', '),
    );
    for (const t of acc.tests) if (t.note) notes.push(`${runPrefix(runs, run)}${t.hypothesis}: ${t.note}`);
  }
  const title = `${experiment}: accuracy with right vs wrong demonstration labels`;
  const caption = `Share of repeats whose label-word prediction was correct (%), by situation and label setting; ${nRange(ns)} repeats per setting. ${pLines.join(' ')}`;
  const base = { id: safeId(`${experiment}-accuracy`), experiment, kind: 'accuracy' as const, title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no accuracy values (records without \`correct\`) in ${experiment}`);
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: [`${nRange(ns)} repeats per label setting`, ...pLines] },
    width: 300,
    height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'situation', type: 'nominal', sort: ['zero-shot', 'ICL', 'IT'], title: 'situation', axis: { labelAngle: 0 } },
      xOffset: { field: 'labels', type: 'nominal' },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
      color: { field: 'labels', type: 'nominal', title: 'demonstration labels' },
      tooltip: [{ field: 'situation' }, { field: 'labels' }, { field: 'accuracy', format: '.1f' }, { field: 'n' }],
    },
  };
  return figure(base, byRun(spec, rows, runs, 'accuracy values'), null);
}

// ---------- 6. per-token loss decrease, instruction vs example tokens ----------

export function tokenLossBoxes(runs: readonly ReportRun[], experiment = 'token-loss'): Figure {
  const rows: { run: string; part: string; value: number }[] = [];
  const notes: string[] = [];
  const pLines: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment).filter((r) => r.lossDecrease !== undefined);
    if (recs.length === 0) continue;
    const ex = summarizeExperiment(experiment, recs);
    ns.push(recs.length);
    let nan = 0;
    for (const part of ['instruction', 'example'] as const) {
      for (const r of recs) {
        const v = r.lossDecrease![part];
        if (Number.isFinite(v)) rows.push({ run: run.label, part: `${part} tokens (n=${recs.length})`, value: v });
        else nan++;
      }
    }
    if (nan > 0) notes.push(`${runPrefix(runs, run)}${nan} NaN loss value(s) left out`);
    const t = ex.tests.find((x) => x.id.startsWith('lossDecrease'));
    if (t) {
      pLines.push(`${runPrefix(runs, run)}instruction vs example (two-sided Wilcoxon): p=${formatP(t.pValue)} (n=${t.n})`);
      if (t.note) notes.push(`${runPrefix(runs, run)}${t.note}`);
    }
  }
  const title = `${experiment}: per-token loss decrease after instruction tuning`;
  const caption = `Mean per-token loss decrease (base − tuned, nats per token) on instruction vs example tokens; box = IQR, whiskers = min–max; ${nRange(ns)} repeats. ${pLines.join(' ')}`;
  const base = { id: safeId(`${experiment}-token-loss`), experiment, kind: 'token-loss' as const, title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no per-token loss values (records without \`lossDecrease\`) in ${experiment}`);
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: pLines },
    width: 260,
    height: 240,
    mark: { type: 'boxplot', extent: 'min-max', size: 30 },
    encoding: {
      x: { field: 'part', type: 'nominal', title: 'prompt part (n = repeats)', sort: 'descending', axis: { labelAngle: -20 } },
      y: { field: 'value', type: 'quantitative', title: 'loss decrease, base − tuned (nats/token)' },
      color: { field: 'part', type: 'nominal', legend: null },
    },
  };
  return figure(base, byRun(spec, rows, runs, 'per-token loss values'), null);
}

// ---------- which figures a set of runs gets ----------

/** Experiments present in any run, in report order. */
export function experimentsOf(runs: readonly ReportRun[]): string[] {
  return orderExperiments(runs.flatMap((r) => r.records.map((x) => x.experiment)));
}

/**
 * Every figure for one experiment: the box plots (when it has similarities, or always for a preset without a figure
 * of its own), plus the preset's own figure by name. An experiment that is not one of the study's presets also gets
 * the figures its records carry data for (bins, several shot counts, several layers, accuracy, loss values). Every
 * record of every preset carries shots, labels and (by default) all layers, so those alone do not add figures.
 */
export function figuresFor(runs: readonly ReportRun[], experiment: string): Figure[] {
  const recs = runs.flatMap((r) => recordsOf(r, experiment));
  const own = OWN_FIGURE[experiment];
  const custom = !(experiment in OWN_FIGURE) && !PRESET_ORDER.includes(experiment);
  const out: Figure[] = [];
  if (recs.some(hasSimilarity) || own === undefined) out.push(similarityBoxes(runs, experiment));
  const wants = (kind: FigureKind, hasData: boolean) => own === kind || (custom && hasData);
  if (wants('bins', recs.some((r) => typeof r.extra?.bin === 'number'))) out.push(binLines(runs, experiment));
  if (wants('shots', new Set(recs.map((r) => numberFrom(r, 'shots', 'k'))).size > 1)) out.push(shotsLine(runs, experiment));
  if (wants('layers', recs.some((r) => r.layers.length > 1))) out.push(layerLines(runs, experiment));
  if (wants('accuracy', recs.some((r) => r.accuracy !== undefined && labelsOf(r) !== null))) out.push(accuracyBars(runs, experiment));
  if (wants('token-loss', recs.some((r) => r.lossDecrease !== undefined))) out.push(tokenLossBoxes(runs, experiment));
  // A preset that measured accuracy or loss values anyway (e.g. a config asking for them) gets those figures too.
  if (!custom && own !== 'accuracy' && recs.some((r) => r.accuracy !== undefined && labelsOf(r) !== null)) out.push(accuracyBars(runs, experiment));
  if (!custom && own !== 'token-loss' && recs.some((r) => r.lossDecrease !== undefined)) out.push(tokenLossBoxes(runs, experiment));
  return out;
}

/** The study presets' own figure (besides the box plots). */
const OWN_FIGURE: Record<string, FigureKind | undefined> = {
  'demo-similarity': 'bins',
  shots: 'shots',
  layers: 'layers',
  accuracy: 'accuracy',
  'token-loss': 'token-loss',
};

/** All figures of a report, grouped by experiment in report order. */
export function allFigures(runs: readonly ReportRun[]): { experiment: string; figures: Figure[] }[] {
  return experimentsOf(runs).map((experiment) => ({ experiment, figures: figuresFor(runs, experiment) }));
}

