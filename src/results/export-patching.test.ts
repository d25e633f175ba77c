// record.patching in the results folder: stored and read back (NaN kept), checked, and its export columns (one per curve and patch point).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportRecords, exportTable } from './export.js';
import { sampleRecord } from './testing.js';
import { decodeRecord, encodeRecord } from './codec.js';

test('patching_icl_L / patching_it_L per patch point any record has; null for a record without patching; NaN survives JSONL; no columns without patching', () => {
  const patched = { ...sampleRecord({ repeat: 0 }), patching: { layers: [0, 1, 2], icl: [0, 0.4, NaN], it: [0.1, 0.3, 0.9] } };
  const plain = sampleRecord({ repeat: 1 });
  const t = exportTable([patched, plain]);
  const names = t.columns.map((c) => c.name).filter((n) => n.startsWith('patching_'));
  assert.deepEqual(names, ['patching_icl_0', 'patching_icl_1', 'patching_icl_2', 'patching_it_0', 'patching_it_1', 'patching_it_2']);
  assert.ok(t.columns.filter((c) => c.name.startsWith('patching_')).every((c) => c.type === 'DOUBLE'));
  assert.equal(t.rows[0].patching_icl_1, 0.4);
  assert.ok(Number.isNaN(t.rows[0].patching_icl_2 as number));
  assert.equal(t.rows[0].patching_it_2, 0.9);
  assert.equal(t.rows[1].patching_it_0, null);
  const jsonl = exportRecords([patched, plain], 'jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(jsonl[0].patching_icl_2, 'NaN');
  assert.equal(jsonl[1].patching_icl_0, null);
  assert.equal(exportTable([plain]).columns.some((c) => c.name.startsWith('patching_')), false);
});

test('record.patching round-trips the results codec (NaN kept); a curve of the wrong length is refused naming the field', () => {
  const r = { ...sampleRecord({ repeat: 0 }), patching: { layers: [0, 1], icl: [0, NaN], it: [0.2, 0.9] } };
  assert.deepEqual(decodeRecord(encodeRecord(r)).patching, r.patching);
  assert.throws(() => encodeRecord({ ...r, patching: { ...r.patching, it: [1] } }), /patching\.it must be 2 numbers/);
  assert.throws(() => encodeRecord({ ...r, patching: { layers: [-1], icl: [0], it: [0] } }), /patching must be/);
});
