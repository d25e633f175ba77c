// record.patching in the results folder: stored and read back (NaN kept), checked (old records without the cross curves too), and its export columns (one per curve and patch point).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportRecords, exportTable } from './export.js';
import { sampleRecord } from './testing.js';
import { decodeRecord, encodeJson, encodeRecord } from './codec.js';

test('patching_icl_to_it_L / patching_it_to_icl_L / patching_icl_L / patching_it_L per patch point any record has; null for a record without patching (or, in the cross columns, an older record without the cross curves); NaN survives JSONL; no columns without patching', () => {
  const patched = { ...sampleRecord({ repeat: 0 }), patching: { layers: [0, 1, 2], iclToIt: [0, 0.2, 0.5], itToIcl: [0, NaN, 0.25], icl: [0, 0.4, NaN], it: [0.1, 0.3, 0.9] } };
  const plain = sampleRecord({ repeat: 1 });
  const older = { ...sampleRecord({ repeat: 2 }), patching: { layers: [0, 1], icl: [0, 0.6], it: [0, 0.7] } };
  const t = exportTable([patched, plain, older]);
  const names = t.columns.map((c) => c.name).filter((n) => n.startsWith('patching_'));
  assert.deepEqual(names, [
    ...['icl_to_it', 'it_to_icl', 'icl', 'it'].flatMap((k) => [0, 1, 2].map((l) => `patching_${k}_${l}`)),
  ]);
  assert.equal(t.rows[0].patching_icl_to_it_2, 0.5);
  assert.ok(Number.isNaN(t.rows[0].patching_it_to_icl_1 as number));
  assert.equal(t.rows[0].patching_it_to_icl_2, 0.25);
  assert.equal(t.rows[2].patching_icl_to_it_1, null, 'an older record: no cross curves');
  assert.equal(t.rows[2].patching_icl_1, 0.6);
  assert.equal(t.rows[2].patching_it_2, null, 'a patch point the record lacks');
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

test('record.patching round-trips the results codec (NaN kept), with the cross curves or (an older record) without; a curve of the wrong length is refused naming the field', () => {
  const r = { ...sampleRecord({ repeat: 0 }), patching: { layers: [0, 1], iclToIt: [0, 0.3], itToIcl: [NaN, 0.1], icl: [0, NaN], it: [0.2, 0.9] } };
  assert.deepEqual(decodeRecord(encodeRecord(r)).patching, r.patching);
  const older = { ...r, patching: { layers: [0, 1], icl: [0, NaN], it: [0.2, 0.9] } };
  assert.deepEqual(decodeRecord(encodeRecord(older)).patching, older.patching);
  assert.equal('iclToIt' in decodeRecord(encodeRecord(older)).patching!, false);
  assert.throws(() => encodeRecord({ ...r, patching: { ...r.patching, it: [1] } }), /patching\.it must be 2 numbers/);
  assert.throws(() => encodeRecord({ ...r, patching: { ...r.patching, iclToIt: [1] } }), /patching\.iclToIt must be 2 numbers/);
  assert.throws(() => decodeRecord(encodeJson({ ...r, patching: { ...r.patching, itToIcl: [0, 'x'] } })), /patching\.itToIcl must be 2 numbers/);
  assert.throws(() => decodeRecord(encodeJson({ ...r, patching: { ...r.patching, itToIcl: null } })), /patching\.itToIcl must be 2 numbers/);
  assert.throws(() => encodeRecord({ ...r, patching: { layers: [-1], icl: [0], it: [0] } }), /patching must be/);
});
