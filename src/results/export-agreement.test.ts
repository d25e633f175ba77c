// The agreement export columns: outputs, Rec2FTP flips and per-layer attention in CSV / JSONL / Parquet, null where a record has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetReadObjects, parquetSchema, parquetMetadata } from 'hyparquet';
import type { RepeatRecord } from '../experiments/record.js';
import { exportRecords, exportTable } from './export.js';
import { sampleRecord } from './testing.js';

const outputs: NonNullable<RepeatRecord['outputs']> = {
  klIclIt: 0.25, jsIclIt: 0.0625, klIclAnchor: 0.5, klItAnchor: 0.125,
  top1IclIt: true, top1AnchorIcl: false, top1AnchorIt: true,
  labelMass: { anchor: 0.3, icl: 0.7, it: 0.6 },
};
const attention: NonNullable<RepeatRecord['attention']> = {
  anchorIcl: [NaN, 0.9, 0.8], anchorIt: [NaN, 0.95, 0.85], iclIt: [NaN, 0.7, 0.6], change: [NaN, 0.2, -0.1], demoShare: [NaN, 0.4, 0.55],
};

function records(): RepeatRecord[] {
  return [
    sampleRecord({ outputs, attention, accuracy: { zeroShot: 0.5, icl: 0.75, it: 1, n: 4, flips: { it: 2, icl: 1, both: 1 } } }),
    // layers [0, 2, 6]: another layer set, no agreement measured (an empty bin, or a record from before them)
    sampleRecord({ repeat: 1, layers: [0, 2, 6], accuracy: undefined }),
  ];
}

test('agreement columns: flips, the seven output measures, label mass and att_*_L / _last per layer; values from the record, null where absent', () => {
  const t = exportTable(records());
  const names = t.columns.map((c) => c.name);
  const expected = [
    'accuracy_flips_it', 'accuracy_flips_icl', 'accuracy_flips_both',
    'out_kl_icl_it', 'out_js_icl_it', 'out_kl_icl_anchor', 'out_kl_it_anchor', 'out_top1_icl_it', 'out_top1_anchor_icl', 'out_top1_anchor_it',
    'out_label_mass_anchor', 'out_label_mass_icl', 'out_label_mass_it',
  ];
  for (const n of expected) assert.ok(names.includes(n), n);
  for (const p of ['att_anchor_icl', 'att_anchor_it', 'att_icl_it', 'att_change', 'att_demo_share']) for (const l of ['0', '2', '4', '6', 'last']) assert.ok(names.includes(`${p}_${l}`), `${p}_${l}`);
  assert.equal(t.columns.find((c) => c.name === 'out_top1_icl_it')!.type, 'BOOLEAN');
  assert.equal(t.columns.find((c) => c.name === 'accuracy_flips_it')!.type, 'INT32');
  const [a, b] = t.rows;
  assert.deepEqual([a.accuracy_flips_it, a.accuracy_flips_icl, a.accuracy_flips_both], [2, 1, 1]);
  assert.deepEqual([a.out_kl_icl_it, a.out_js_icl_it, a.out_kl_icl_anchor, a.out_kl_it_anchor], [0.25, 0.0625, 0.5, 0.125]);
  assert.deepEqual([a.out_top1_icl_it, a.out_top1_anchor_icl, a.out_top1_anchor_it], [true, false, true]);
  assert.deepEqual([a.out_label_mass_anchor, a.out_label_mass_icl, a.out_label_mass_it], [0.3, 0.7, 0.6]);
  // sample records measure layers [0, 2, 4]
  assert.ok(Number.isNaN(a.att_anchor_icl_0 as number));
  assert.deepEqual([a.att_anchor_icl_2, a.att_anchor_it_4, a.att_icl_it_2, a.att_change_4, a.att_demo_share_2, a.att_demo_share_6], [0.9, 0.85, 0.7, -0.1, 0.4, null]);
  assert.deepEqual([a.att_icl_it_last, a.att_demo_share_last], [0.6, 0.55]);
  for (const n of [...expected, 'att_anchor_icl_2', 'att_change_last']) assert.equal(b[n], null, `${n} null without the measure`);
});

test('agreement columns survive CSV, JSONL and Parquet: booleans as booleans, NaN kept', async () => {
  const csv = exportRecords(records(), 'csv').split('\r\n');
  const header = csv[0].split(',');
  const first = csv[1];
  assert.ok(header.includes('out_top1_anchor_icl'));
  assert.match(first, /,true,false,true,/);
  const jsonl = JSON.parse(exportRecords(records(), 'jsonl').split('\n')[0]) as Record<string, unknown>;
  assert.equal(jsonl.out_top1_icl_it, true);
  assert.equal(jsonl.att_anchor_icl_0, 'NaN');
  const buf = exportRecords(records(), 'parquet');
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const schema = parquetSchema(parquetMetadata(file));
  assert.equal(schema.children.find((c) => c.element.name === 'out_top1_icl_it')!.element.type, 'BOOLEAN');
  const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
  assert.equal(rows[0].out_top1_anchor_icl, false);
  assert.equal(rows[0].accuracy_flips_both, 1);
  assert.ok(Number.isNaN(rows[0].att_change_0 as number));
  assert.equal(rows[0].att_demo_share_4, 0.55);
  assert.equal(rows[1].out_kl_icl_it, null);
});
