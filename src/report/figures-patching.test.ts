// The patching panel: per layer the mean of each curve (cross curves solid with bands, own-output checks dashed) over repeats with its Student-t interval, drawn in the patching preset's figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RepeatRecord } from '../experiments/record.js';
import { presetFigure, panelsFor } from './figures.js';
import { patchingLines } from './figures-patching.js';
import { renderSvg } from './render.js';
import { makeRecord } from './synthetic.js';
import type { ReportRun } from './types.js';

const run = (records: RepeatRecord[], label = 'tiny'): ReportRun => ({ label, meta: { model: label }, records });

// own curves (icl, it) and, halved / shifted, the cross curves (iclToIt, itToIcl)
const recs = [
  [0.0, 0.5, 0.9, 0.1, 0.3, 0.6],
  [0.0, 0.7, 1.0, 0.0, 0.2, 0.8],
  [0.0, 0.6, NaN, 0.2, 0.4, 0.7],
].map(([i0, i1, i2, t0, t1, t2], repeat) =>
  makeRecord({
    experiment: 'patching',
    condition: 'right-labels',
    repeat,
    layers: [0, 1, 2, 3],
    patching: { layers: [0, 1, 2], iclToIt: [i0 / 2, i1 / 2, i2 / 2], itToIcl: [t0, t1 - 0.1, t2 - 0.1], icl: [i0, i1, i2], it: [t0, t1, t2] },
  }),
);

type Row = { layer: number; curve: string; donor: string; toward: string; mean: number; lower: number | null; upper: number | null; n: number };
const rowsOf = (f: { spec: { data?: unknown } }) => (f.spec.data as { values: Row[] }).values;

test('patchingLines: mean and 95% t interval per curve (cross and own) and patch point (hand-computed), NaNs left out and noted; it renders', async () => {
  const f = patchingLines([run(recs)]);
  assert.equal(f.noData, null);
  const rows = rowsOf(f);
  assert.equal(rows.length, 12);
  const at = (layer: number, curve: string) => rows.find((r) => r.layer === layer && r.curve === curve)!;
  // ICL own at layer 1: 0.5, 0.7, 0.6 → mean 0.6, s = 0.1, half = t(0.975, 2) · 0.1 / √3 = 4.302652729749464 · 0.0577350…
  const half = (4.302652729749464 * 0.1) / Math.sqrt(3);
  const l1 = at(1, 'ICL state → ICL output');
  assert.ok(Math.abs(l1.mean - 0.6) < 1e-12 && Math.abs(l1.lower! - (0.6 - half)) < 1e-9 && Math.abs(l1.upper! - (0.6 + half)) < 1e-9);
  // the cross curves: ICL → IT at layer 1: 0.25, 0.35, 0.3 (half the spread); IT → ICL at layer 2: 0.5, 0.7, 0.6
  const c1 = at(1, 'ICL state → IT output');
  assert.ok(Math.abs(c1.mean - 0.3) < 1e-12 && Math.abs(c1.upper! - (0.3 + half / 2)) < 1e-9);
  assert.ok(Math.abs(at(2, 'IT state → ICL output').mean - 0.6) < 1e-12);
  assert.deepEqual([c1.donor, c1.toward], ['ICL state', 'the other paradigm’s output']);
  assert.deepEqual([l1.donor, l1.toward], ['ICL state', 'its own output (check)']);
  assert.equal(at(2, 'ICL state → ICL output').n, 2, 'the NaN repeat is left out');
  assert.equal(at(2, 'ICL state → IT output').n, 2);
  assert.ok(Math.abs(at(2, 'IT state → IT output').mean - 0.7) < 1e-12);
  assert.ok(f.notes.some((n) => /2 NaN value/.test(n)));
  // the checks are dashed, the bands only the cross curves'
  const layers = f.spec.layer as { mark: { type: string }; transform?: unknown; encoding: { strokeDash?: unknown } }[];
  assert.ok(layers[0].encoding.strokeDash !== undefined);
  assert.deepEqual(layers[1].transform, [{ filter: { field: 'toward', equal: 'the other paradigm’s output' } }]);
  assert.match(await renderSvg(f.spec, f.id), /^<svg/);
});

test('patchingLines: records written before the cross curves draw the own curves only, with a note', async () => {
  const older = recs.map((r) => ({ ...r, patching: { layers: r.patching!.layers, icl: r.patching!.icl, it: r.patching!.it } }));
  const f = patchingLines([run(older)]);
  assert.deepEqual([...new Set(rowsOf(f).map((r) => r.curve))], ['ICL state → ICL output', 'IT state → IT output']);
  assert.ok(f.notes.some((n) => /3 record\(s\) without the ICL state → IT output curve/.test(n)));
  assert.ok(f.notes.some((n) => /1 NaN value/.test(n)), 'missing cross curves are not counted as NaN');
  assert.match(await renderSvg(f.spec, f.id), /^<svg/);
});

test('the patching preset\'s figure has the patching panel first; a run without patching values says so', async () => {
  assert.deepEqual(panelsFor([run(recs)], 'patching').map((p) => p.kinds[0]), ['patching', 'boxes']);
  const fig = presetFigure([run(recs)], 'patching');
  assert.match(await renderSvg(fig.spec, fig.id), /^<svg/);
  // several conditions: one panel each, the real condition before its controls (not alphabetical)
  const control = recs.map((r) => ({ ...r, condition: 'control:untrained', extra: { control: 'untrained' } }));
  const both = patchingLines([run([...recs, ...control])]);
  assert.deepEqual((both.spec.facet as { sort: string[] }).sort, ['right-labels (n=3)', 'control:untrained (n=3)']);
  assert.match(await renderSvg(both.spec, both.id), /^<svg/);
  const none = patchingLines([run([makeRecord({ experiment: 'patching', condition: 'right-labels', repeat: 0 })])]);
  assert.match(none.noData ?? '', /no records with patching values/);
});
