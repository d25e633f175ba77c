// Figure panel of the patching preset: share of the anchor→ICL / anchor→IT output gap closed per patch point, mean with a 95% CI over repeats.
import { meanTInterval } from '../stats/index.js';
import { groupBy } from '../util/group.js';
import { orderConditions } from './groups.js';
import { SCHEMA, baseConfig, figure, nRange, recordsOf, runPrefix, safeId, type Figure, type VegaLiteSpec } from './figure-spec.js';
import type { ReportRun } from './types.js';
import { patchPointsOf, patchingAt } from './patching-values.js';

/** The two curves: which run's state is patched in, and whose output the gap is measured toward. */
export const PATCH_CURVES = [
  ['icl', 'ICL state → ICL output'],
  ['it', 'IT state → IT output'],
] as const;

const CURVE_ORDER = PATCH_CURVES.map(([, label]) => label);
const CURVE_COLOR = { field: 'curve', type: 'nominal', title: 'patched in', sort: CURVE_ORDER, legend: { orient: 'top', direction: 'horizontal' } };

/** Gap closed per patch point, mean over repeats with its 95% Student-t interval as a band; one panel per run and condition, in the report's condition order. */
export function patchingLines(runs: readonly ReportRun[], experiment = 'patching'): Figure {
  const title = 'output gap closed by patching the last-token state, per layer';
  const rows: { panel: string; layer: number; curve: string; mean: number; lower: number | null; upper: number | null; n: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  let panels = 0;
  for (const run of runs) {
    const byCond = groupBy(recordsOf(run, experiment).filter((r) => r.patching !== undefined), (r) => r.condition);
    for (const c of orderConditions(experiment, byCond.keys())) {
      const g = byCond.get(c) ?? [];
      const points = patchPointsOf(g);
      if (points.length === 0) continue;
      panels++;
      ns.push(g.length);
      const panel = runs.length > 1 ? `${run.label} · ${c} (n=${g.length})` : `${c} (n=${g.length})`;
      if (g.length === 1) notes.push(`${runPrefix(runs, run)}${c}: a single repeat (no interval)`);
      let nan = 0;
      for (const layer of points)
        for (const [k, label] of PATCH_CURVES) {
          const values = g.map((r) => patchingAt(r, k, layer));
          const ci = meanTInterval(values);
          nan += values.length - ci.n;
          if (ci.n > 0) rows.push({ panel, layer, curve: label, mean: ci.mean, lower: Number.isFinite(ci.lower) ? ci.lower : null, upper: Number.isFinite(ci.upper) ? ci.upper : null, n: ci.n });
        }
      if (nan > 0) notes.push(`${runPrefix(runs, run)}${c}: ${nan} NaN value(s) left out (no gap: the run's output already equals the anchor's)`);
    }
  }
  const caption =
    `Share of the way from the anchor's next-token distribution to the ICL (IT) run's closed when the anchor run's last-token state at a layer is replaced by the ICL (IT) run's there (1 − JS(patched, target) / JS(anchor, target); 1 = the target output, 0 = unchanged), ` +
    `mean over repeats with its 95% Student-t interval as a band; ${nRange(ns)} repeats.`;
  const base = { id: safeId(`${experiment}-patching`), experiment, kinds: ['patching' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no records with patching values in ${experiment}`);
  const x = { field: 'layer', type: 'quantitative', title: 'patched hidden-state index (0 = embeddings)', axis: { tickMinStep: 1 } };
  const inner: VegaLiteSpec = {
    width: 300,
    height: 220,
    layer: [
      {
        mark: { type: 'line', point: { size: 20 } },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative', title: 'gap closed (share)' },
          color: CURVE_COLOR,
          tooltip: [{ field: 'curve' }, { field: 'layer' }, { field: 'mean', format: '.3f' }, { field: 'lower', format: '.3f' }, { field: 'upper', format: '.3f' }, { field: 'n' }],
        },
      },
      // the band after the line, so the legend takes the line's solid symbol
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' }, color: CURVE_COLOR } },
      { mark: { type: 'rule', strokeDash: [4, 3], color: '#888888' }, encoding: { y: { datum: 1 } } },
    ],
  };
  const header = { text: title, subtitle: `${nRange(ns)} repeats; line = mean, band = 95% CI` };
  const spec: VegaLiteSpec =
    panels <= 1
      ? { $schema: SCHEMA, title: header, data: { values: rows }, ...inner, config: baseConfig() }
      : { $schema: SCHEMA, title: header, data: { values: rows }, facet: { field: 'panel', type: 'nominal', title: null, sort: [...new Set(rows.map((r) => r.panel))] }, columns: 2, spec: inner, config: baseConfig() };
  return figure(base, spec, null);
}
