// Figure panel of the patching preset: per patch point, the share of the anchor→IT (→ICL) output gap the ICL (IT) state closes (the cross curves) and the own-output checks, mean with a 95% CI over repeats.
import { meanTInterval } from '../stats/index.js';
import { groupBy } from '../util/group.js';
import { orderConditions } from './groups.js';
import { SCHEMA, baseConfig, figure, nRange, recordsOf, runPrefix, safeId, type Figure, type VegaLiteSpec } from './figure-spec.js';
import type { ReportRun } from './types.js';
import { patchPointsOf, patchingAt, type PatchingCurve } from './patching-values.js';

const CROSS = 'the other paradigm’s output';
const OWN = 'its own output (check)';

/** The four curves: record field, which run's state is patched in, and whose output the gap is measured toward (cross = the evidence, own = a check). */
export const PATCH_CURVES: readonly { key: PatchingCurve; donor: string; toward: string; label: string }[] = [
  { key: 'iclToIt', donor: 'ICL state', toward: CROSS, label: 'ICL state → IT output' },
  { key: 'itToIcl', donor: 'IT state', toward: CROSS, label: 'IT state → ICL output' },
  { key: 'icl', donor: 'ICL state', toward: OWN, label: 'ICL state → ICL output' },
  { key: 'it', donor: 'IT state', toward: OWN, label: 'IT state → IT output' },
];

// colour = the state patched in; solid = toward the other paradigm's output (the evidence), dashed and lighter = toward its own (a check)
const DONOR_COLOR = { field: 'donor', type: 'nominal', title: 'patched in', sort: ['ICL state', 'IT state'], legend: { orient: 'top', direction: 'horizontal' } };
const TOWARD_DASH = { field: 'toward', type: 'nominal', title: 'gap toward', scale: { domain: [CROSS, OWN], range: [[1, 0], [5, 3]] }, legend: { orient: 'top', direction: 'horizontal', symbolType: 'stroke', symbolStrokeWidth: 2, encode: { symbols: { update: { stroke: { value: '#555555' } } } } } };
const TOWARD_OPACITY = { field: 'toward', type: 'nominal', scale: { domain: [CROSS, OWN], range: [1, 0.55] }, legend: null };

/** Gap closed per patch point, mean over repeats with its 95% Student-t interval as a band; one panel per run and condition, in the report's condition order. */
export function patchingLines(runs: readonly ReportRun[], experiment = 'patching'): Figure {
  const title = 'output gap closed by patching the last-token state, per layer';
  const rows: { panel: string; layer: number; curve: string; donor: string; toward: string; mean: number; lower: number | null; upper: number | null; n: number }[] = [];
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
      for (const { key, donor, toward, label } of PATCH_CURVES) {
        // records written before the cross curves have none: left out of those curves and noted, not counted as NaN
        const has = g.filter((r) => r.patching![key] !== undefined);
        if (has.length < g.length) notes.push(`${runPrefix(runs, run)}${c}: ${g.length - has.length} record(s) without the ${label} curve (written before it) left out of it`);
        for (const layer of points) {
          const values = has.map((r) => patchingAt(r, key, layer));
          const ci = meanTInterval(values);
          nan += values.length - ci.n;
          if (ci.n > 0) rows.push({ panel, layer, curve: label, donor, toward, mean: ci.mean, lower: Number.isFinite(ci.lower) ? ci.lower : null, upper: Number.isFinite(ci.upper) ? ci.upper : null, n: ci.n });
        }
      }
      if (nan > 0) notes.push(`${runPrefix(runs, run)}${c}: ${nan} NaN value(s) left out (no gap: the anchor's output already equals the target's)`);
    }
  }
  const caption =
    `The anchor run's last-token state at a layer replaced by the ICL (IT) run's there: the share of the way from the anchor's next-token distribution to a target output the patch closes (1 − JS(patched, target) / JS(anchor, target); 1 = the target output, 0 = unchanged). ` +
    `Solid lines (the evidence): toward the other paradigm's output (ICL state → IT output, IT state → ICL output), mean over repeats with its 95% Student-t interval as a band; ` +
    `dashed, lighter lines (checks, near 1 at the top layers by construction): toward the donor's own output, mean only; ${nRange(ns)} repeats.`;
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
          color: DONOR_COLOR,
          strokeDash: TOWARD_DASH,
          opacity: TOWARD_OPACITY,
          tooltip: [{ field: 'curve' }, { field: 'layer' }, { field: 'mean', format: '.3f' }, { field: 'lower', format: '.3f' }, { field: 'upper', format: '.3f' }, { field: 'n' }],
        },
      },
      // bands for the cross curves only (the checks' would hide them); after the line, so the legend takes the line's symbol
      {
        transform: [{ filter: { field: 'toward', equal: CROSS } }],
        mark: { type: 'area', opacity: 0.2 },
        encoding: { x, y: { field: 'lower', type: 'quantitative' }, y2: { field: 'upper' }, color: DONOR_COLOR },
      },
      { mark: { type: 'rule', strokeDash: [4, 3], color: '#888888' }, encoding: { y: { datum: 1 } } },
    ],
  };
  const header = { text: title, subtitle: `${nRange(ns)} repeats; solid = toward the other paradigm's output (band = 95% CI), dashed = toward its own (check)` };
  const spec: VegaLiteSpec =
    panels <= 1
      ? { $schema: SCHEMA, title: header, data: { values: rows }, ...inner, config: baseConfig() }
      : { $schema: SCHEMA, title: header, data: { values: rows }, facet: { field: 'panel', type: 'nominal', title: null, sort: [...new Set(rows.map((r) => r.panel))] }, columns: 2, spec: inner, config: baseConfig() };
  return figure(base, spec, null);
}
