// The patching panel: per layer the mean of each curve over repeats with its Student-t interval, drawn in the patching preset's figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RepeatRecord } from '../experiments/record.js';
import { presetFigure, panelsFor } from './figures.js';
import { patchingLines } from './figures-patching.js';
import { renderSvg } from './render.js';
import { makeRecord } from './synthetic.js';
import type { ReportRun } from './types.js';

const run = (records: RepeatRecord[], label = 'tiny'): ReportRun => ({ label, meta: { model: label }, records });

const recs = [
  [0.0, 0.5, 0.9, 0.1, 0.3, 0.6],
  [0.0, 0.7, 1.0, 0.0, 0.2, 0.8],
  [0.0, 0.6, NaN, 0.2, 0.4, 0.7],
].map(([i0, i1, i2, t0, t1, t2], repeat) =>
  makeRecord({ experiment: 'patching', condition: 'right-labels', repeat, layers: [0, 1, 2, 3], patching: { layers: [0, 1, 2], icl: [i0, i1, i2], it: [t0, t1, t2] } }),
);

test('patchingLines: mean and 95% t interval per curve and patch point (hand-computed), NaNs left out and noted; it renders', async () => {
  const f = patchingLines([run(recs)]);
  assert.equal(f.noData, null);
  const rows = (f.spec.data as { values: { layer: number; curve: string; mean: number; lower: number | null; upper: number | null; n: number }[] }).values;
  assert.equal(rows.length, 6);
  const at = (layer: number, curve: string) => rows.find((r) => r.layer === layer && r.curve.startsWith(curve))!;
  // ICL at layer 1: 0.5, 0.7, 0.6 → mean 0.6, s = 0.1, half = t(0.975, 2) · 0.1 / √3 = 4.302652729749464 · 0.0577350…
  const half = (4.302652729749464 * 0.1) / Math.sqrt(3);
  const l1 = at(1, 'ICL');
  assert.ok(Math.abs(l1.mean - 0.6) < 1e-12 && Math.abs(l1.lower! - (0.6 - half)) < 1e-9 && Math.abs(l1.upper! - (0.6 + half)) < 1e-9);
  assert.equal(at(2, 'ICL').n, 2, 'the NaN repeat is left out');
  assert.ok(Math.abs(at(2, 'IT').mean - 0.7) < 1e-12);
  assert.ok(f.notes.some((n) => /1 NaN value/.test(n)));
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
