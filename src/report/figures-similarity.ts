// Figure panels of the similarities: boxes per condition, means over similarity bins, s(ICL,IT) over shots, lines over layers.
import { dist } from './numbers.js';
import { groupBy } from '../util/group.js';
import { PAIRS, PAIR_LABEL, expectedConditions, isEmptyUnit, lastLayerOf, layersOf, orderConditions, valueAt } from './groups.js';
import { recordCondition } from '../experiments/record.js';
import { SCHEMA, SIM_AXIS, bandWidth, baseConfig, byRun, figure, nRange, recordsOf, runPrefix, safeId, type Figure, type VegaLiteSpec } from './figure-spec.js';
import type { ReportRun } from './types.js';

const PAIR_ORDER = PAIRS.map((k) => PAIR_LABEL[k]);
const PAIR_COLOR = { field: 'pair', type: 'nominal', title: 'similarity', sort: PAIR_ORDER, legend: { orient: 'top', direction: 'horizontal' } };

/** Box plots of the three similarities per condition at each condition's last measured layer. */
export function similarityBoxes(runs: readonly ReportRun[], experiment: string): Figure {
  const title = 'the three similarities per condition';
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
      let nan = 0;
      for (const k of PAIRS)
        for (const r of g) {
          const v = valueAt(r, k, layer);
          if (Number.isFinite(v)) rows.push({ run: run.label, condition: c, pair: PAIR_LABEL[k], value: v });
          else nan++;
        }
      if (g.length === 1) notes.push(`${runPrefix(runs, run)}${c}: a single repeat (no spread)`);
      if (nan > 0) notes.push(`${runPrefix(runs, run)}${c}: ${nan} NaN/missing similarity value(s) left out`);
    }
  }
  const layerText = layersUsed.size ? `hidden state ${[...layersUsed].sort((a, b) => a - b).join(', ')}` : 'no layer';
  const caption = `Cosine similarities s(anchor,ICL), s(anchor,IT) and s(ICL,IT) per condition at the last measured layer (${layerText}); box = IQR, line = median, whiskers = min–max; ${nRange(ns)} repeats per condition.`;
  const base = { id: safeId(`${experiment}-boxes`), experiment, kinds: ['boxes' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no finite similarity values for ${experiment}`);
  const conditionOrder = [...new Set(rows.map((r) => r.condition))];
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: `${layerText}; ${nRange(ns)} repeats per condition` },
    height: 240,
    mark: { type: 'boxplot', extent: 'min-max', size: 12 },
    encoding: {
      x: { field: 'condition', type: 'nominal', sort: conditionOrder, title: 'condition', axis: { labelAngle: 0 } },
      xOffset: { field: 'pair', type: 'nominal', sort: PAIR_ORDER },
      y: { field: 'value', type: 'quantitative', title: SIM_AXIS, scale: { zero: false } },
      color: PAIR_COLOR,
    },
  };
  // A computed width: a step width with xOffset multiplies by the offset categories and gets very wide.
  return figure(base, byRun(spec, rows, runs, `finite similarities for ${experiment}`, (mine) => bandWidth([...new Set(mine.map((r) => r.condition))])), null);
}

/** Mean similarities over the demonstration–inference similarity bins. */
export function binLines(runs: readonly ReportRun[], experiment = 'demo-similarity'): Figure {
  const title = 'mean similarities over demonstration–inference similarity bins';
  const rows: { run: string; bin: number; pair: string; mean: number; n: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment).filter((r) => recordCondition(r).bin !== null && recordCondition(r).control === null); // a control copies bin 0: not pooled in
    const byBin = groupBy(recs, (r) => String(recordCondition(r).bin));
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
  const caption = `Mean cosine similarity at the last measured layer per bin of demonstration–inference similarity (0 = least similar), one panel per similarity as the paper's Fig. 4: (a) s(anchor,IT), (b) s(anchor,ICL), (c) s(ICL,IT); ${nRange(ns)} repeats per bin.`;
  const base = { id: safeId(`${experiment}-bins`), experiment, kinds: ['bins' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no records with a demonstration-similarity bin in ${experiment}`);
  const FIG4: Record<string, string> = { [PAIR_LABEL.simAnchorIt]: `4a: ${PAIR_LABEL.simAnchorIt}`, [PAIR_LABEL.simAnchorIcl]: `4b: ${PAIR_LABEL.simAnchorIcl}`, [PAIR_LABEL.simIclIt]: `4c: ${PAIR_LABEL.simIclIt}` };
  const panelRows = rows.map((r) => ({ ...r, panel: FIG4[r.pair] }));
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: `${nRange(ns)} repeats per bin; last measured layer` },
    facet: { column: { field: 'panel', type: 'nominal', sort: Object.values(FIG4), title: null, header: { labelFontSize: 12 } } },
    spec: {
      width: 170,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'bin', type: 'quantitative', title: 'similarity bin (0 = least similar)', axis: { tickMinStep: 1 } },
        y: { field: 'mean', type: 'quantitative', title: `mean ${SIM_AXIS}`, scale: { zero: false } },
        color: PAIR_COLOR,
        tooltip: [{ field: 'bin' }, { field: 'pair' }, { field: 'mean', format: '.3f' }, { field: 'n' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return figure(base, byRun(spec, panelRows, runs, 'records with a bin'), null);
}

/** Mean s(ICL,IT) with its IQR over the number of demonstrations k, one line per run. */
export function shotsLine(runs: readonly ReportRun[], experiment = 'shots'): Figure {
  const title = 's(ICL,IT) over the number of demonstrations';
  const rows: { run: string; shots: number; mean: number; q1: number; q3: number; n: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment).filter((r) => recordCondition(r).shots !== null && recordCondition(r).control === null); // a control copies k=1: not pooled in
    const byShots = groupBy(recs, (r) => String(recordCondition(r).shots));
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
  const base = { id: safeId(`${experiment}-shots`), experiment, kinds: ['shots' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no records with a shot count in ${experiment}`);
  rows.sort((a, b) => a.shots - b.shots);
  const order = [...new Set(rows.map((r) => r.shots))].sort((a, b) => a - b);
  const x = { field: 'shots', type: 'ordinal', sort: order, title: 'demonstrations k', axis: { labelAngle: 0 } };
  const color = { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'top', direction: 'horizontal' } };
  const spec: VegaLiteSpec = {
    $schema: SCHEMA,
    title: { text: title, subtitle: `${nRange(ns)} repeats per k; mean with IQR` },
    data: { values: rows },
    width: Math.max(160, 60 * order.length),
    height: 220,
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' }, color } },
      {
        mark: { type: 'line', point: { size: 60 } },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: `s(ICL,IT), ${SIM_AXIS}`, scale: { zero: false } },
          color,
          tooltip: [{ field: 'run' }, { field: 'shots' }, { field: 'mean', format: '.3f' }, { field: 'q1', format: '.3f' }, { field: 'q3', format: '.3f' }, { field: 'n' }],
        },
      },
    ],
    config: baseConfig(),
  };
  return figure(base, spec, null);
}

/** Mean similarities per hidden-state index with the IQR as a band, one panel per run and condition. */
export function layerLines(runs: readonly ReportRun[], experiment = 'layers'): Figure {
  const title = 'the three similarities over layers';
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
  const base = { id: safeId(`${experiment}-layers`), experiment, kinds: ['layers' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no finite per-layer similarities in ${experiment}`);
  const x = { field: 'layer', type: 'quantitative', title: 'hidden-state index (0 = embeddings)', axis: { tickMinStep: 1 } };
  const inner: VegaLiteSpec = {
    width: 300,
    height: 220,
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' }, color: PAIR_COLOR } },
      {
        mark: { type: 'line', point: { size: 20 } },
        encoding: { x, y: { field: 'mean', type: 'quantitative', title: `mean ${SIM_AXIS}`, scale: { zero: false } }, color: PAIR_COLOR },
      },
    ],
  };
  const header = { text: title, subtitle: `${nRange(ns)} repeats; line = mean, band = IQR` };
  const spec: VegaLiteSpec =
    panels <= 1
      ? { $schema: SCHEMA, title: header, data: { values: rows }, ...inner, config: baseConfig() }
      : { $schema: SCHEMA, title: header, data: { values: rows }, facet: { field: 'panel', type: 'nominal', title: null }, columns: 2, spec: inner, config: baseConfig() };
  return figure(base, spec, null);
}
