// Tests for runsByModel: per-preset folders of one model merge (meta stays attributable), two-model folders split, overlaps stay apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRecord } from './synthetic.js';
import { distinctLabels, mergeMeta, runsByModel } from './runs.js';
import type { ReportRun } from './types.js';
import type { SituationStates } from '../experiments/backend.js';

const rec = (experiment: string, model: string, repeat = 0) => makeRecord({ experiment, condition: 'c', repeat, model });

test('runsByModel merges a model’s per-preset folders and keeps differing meta attributable', () => {
  const runs: ReportRun[] = [
    { label: 'llama', meta: { results: '/r/acc', configHash: 'h1', seed: 0 }, records: [rec('accuracy', 'llama')] },
    { label: 'llama', meta: { results: '/r/layers', configHash: 'h2', seed: 0 }, records: [rec('layers', 'llama'), rec('layers', 'llama', 1)] },
  ];
  const out = runsByModel(runs);
  assert.equal(out.length, 1);
  assert.equal(out[0].label, 'llama');
  assert.equal(out[0].records.length, 3);
  assert.equal(out[0].meta.seed, 0);
  assert.equal(out[0].meta.configHash, 'accuracy: h1; layers: h2');
  assert.equal(out[0].meta.results, 'accuracy: /r/acc; layers: /r/layers');
});

test('runsByModel splits a two-model folder and keeps overlapping folders apart with distinct labels', () => {
  const two: ReportRun = { label: 'res', meta: { results: '/r/both' }, records: [rec('convergence', 'a'), rec('convergence', 'b'), rec('convergence', 'a', 1)] };
  const out = runsByModel([two]);
  assert.deepEqual(out.map((r) => [r.label, r.records.length, r.meta.model]), [['a', 2, 'a'], ['b', 1, 'b']]);
  const again: ReportRun = { label: 'a', meta: { results: '/r/seed2' }, records: [rec('convergence', 'a')] };
  const out2 = runsByModel([two, again]);
  assert.deepEqual(out2.map((r) => r.label), ['a (both)', 'b', 'a (seed2)']);
  assert.deepEqual(distinctLabels([{ label: 'x', meta: {}, records: [] }, { label: 'x', meta: {}, records: [] }]).map((r) => r.label), ['x', 'x #2']);
  assert.deepEqual(mergeMeta([{ meta: { a: 1 }, experiments: ['e'] }, { meta: { b: 2 }, experiments: ['f'] }]), { a: 'e: 1', b: 'f: 2' });
});

test('runsByModel keeps each record\'s states reader: split runs share it, merged runs read each record through its own folder', () => {
  const stateOf = (tag: number): SituationStates => ({ layers: [16], anchor: [Float32Array.of(tag)], icl: [Float32Array.of(tag)], it: [Float32Array.of(tag)] });
  const acc = [rec('accuracy', 'llama'), rec('accuracy', 'other')];
  const layers = [rec('layers', 'llama')];
  const runs: ReportRun[] = [
    { label: 'res-acc', meta: { results: '/r/acc' }, records: acc, states: (r) => (acc.includes(r) ? stateOf(1) : undefined) },
    { label: 'llama', meta: { results: '/r/layers' }, records: layers, states: (r) => (layers.includes(r) ? stateOf(2) : undefined) },
  ];
  const out = runsByModel(runs);
  assert.deepEqual(out.map((r) => r.label), ['llama', 'other']);
  const llama = out[0];
  assert.equal(llama.states?.(acc[0])?.anchor[0][0], 1);
  assert.equal(llama.states?.(layers[0])?.anchor[0][0], 2);
  assert.equal(out[1].states?.(acc[1])?.anchor[0][0], 1);
  assert.equal(runsByModel([{ label: 'x', meta: {}, records: [rec('convergence', 'x')] }])[0].states, undefined);
});
