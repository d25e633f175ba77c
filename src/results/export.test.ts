// Tests of the exports: the flat table's columns, RFC 4180 CSV with nasty prompts, Parquet read back with hyparquet, JSONL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { csvField, exportRecords, exportTable, type Cell } from './export.js';
import { SAMPLE_CONFIG_HASH, sampleRecord } from './testing.js';
import { computeRobustness } from './robustness.js';
import type { SituationStates } from '../experiments/backend.js';
import type { RepeatRecord } from '../experiments/record.js';
import { cosine } from '../stats/index.js';
import { seededRandom } from '../util/random.js';

/** An independent RFC 4180 reader (quoted fields, doubled quotes, CRLF records, newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    assert.ok(c !== '\n' && c !== '"', `bare ${JSON.stringify(c)} outside quotes at offset ${i}`);
    field += c; i++;
  }
  assert.equal(field, '', 'CSV must end with CRLF');
  assert.equal(row.length, 0);
  return rows;
}

const nasty = 'He said "hi", then\nleft,\r\nfor good "" ,';

function records() {
  return [
    sampleRecord({ prompts: { anchor: nasty, icl: 'plain', tuning: ['a,b', 'c\n"d"'] }, states: 'states/convergence/correct-labels/repeat-0.safetensors' }),
    sampleRecord({
      condition: 'k=5', repeat: 1, layers: [0, 1, 2, 4, 6], simAnchorIcl: [1, 2, 3, 4, 5], simAnchorIt: [NaN, 0, 0, 0, -1], simIclIt: [0, 0, 0, 0, Infinity],
      simUpdate: [0.5, 0.5, 0.5, 0.5, -0.25], accuracy: undefined, adapter: 'adapters/x', lossDecrease: undefined, tuneLoss: undefined, extra: { shots: 5, labels: 7, note: 'x' },
    }),
  ];
}

test('exportTable: one row per record, sim columns for every measured layer plus *_last, extra_<key>, nulls where absent', () => {
  const t = exportTable(records());
  const names = t.columns.map((c) => c.name);
  assert.deepEqual(names.slice(0, 5), ['experiment', 'condition', 'model', 'repeat', 'seed']);
  for (const l of [0, 1, 2, 4, 6]) for (const p of ['sim_anchor_icl', 'sim_anchor_it', 'sim_icl_it']) assert.ok(names.includes(`${p}_${l}`), `${p}_${l}`);
  assert.ok(!names.includes('sim_anchor_icl_3'));
  for (const n of ['sim_anchor_icl_last', 'sim_anchor_it_last', 'sim_icl_it_last', 'sim_update_last', 'sim_update_6', 'accuracy_zero_shot', 'accuracy_icl', 'accuracy_it', 'accuracy_n',
    'centred_anchor_icl_0', 'centred_icl_it_last', 'massive_out_anchor_it_6', 'massive_out_icl_it_last', 'null_icl_it_2', 'null_icl_it_last', 'config_hash', 'states', 'adapter',
    'loss_decrease_instruction', 'loss_decrease_example', 'tune_loss', 'prompt_anchor', 'prompt_icl', 'prompt_tuning',
    'tokens_anchor', 'tokens_icl', 'tokens_tuning', 'millis', 'extra_shots', 'extra_labels', 'extra_flipped', 'extra_bin', 'extra_note']) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(new Set(names).size, names.length, 'column names are unique');
  const [a, b] = t.rows;
  // record a measured layers [0, 2, 4]
  assert.deepEqual([a.sim_anchor_icl_0, a.sim_anchor_icl_1, a.sim_anchor_icl_2, a.sim_anchor_icl_4, a.sim_anchor_icl_6], [0.5, null, 0.25, NaN, null]);
  assert.deepEqual([a.sim_anchor_icl_last, a.sim_anchor_it_last, a.sim_icl_it_last], [NaN, 1, 0.30000000000000004]);
  assert.deepEqual([b.sim_anchor_icl_last, b.sim_anchor_it_last, b.sim_icl_it_last], [5, -1, Infinity]);
  assert.ok(!names.some((n) => n.startsWith('correct_')), 'accuracy_* replaces the old correct_* columns');
  assert.deepEqual([a.sim_update_0, a.sim_update_2, a.sim_update_4, a.sim_update_last, b.sim_update_last], [NaN, 0.5, -0.25, -0.25, -0.25]);
  assert.deepEqual([a.accuracy_zero_shot, a.accuracy_icl, a.accuracy_it, a.accuracy_n, a.loss_decrease_example, a.tune_loss], [0.5, 0.75, 1, 4, -0.125, 0.693]);
  assert.deepEqual([b.accuracy_zero_shot, b.accuracy_n, b.loss_decrease_instruction, b.tune_loss], [null, null, null, null]);
  // without states every robustness cell is null
  for (const row of t.rows) for (const n of names.filter((x) => /^(centred|massive_out|null)_/.test(x))) assert.equal(row[n], null, n);
  assert.deepEqual([a.config_hash, a.states, b.states, a.adapter, b.adapter], [SAMPLE_CONFIG_HASH, 'states/convergence/correct-labels/repeat-0.safetensors', null, null, 'adapters/x']);
  assert.equal(a.prompt_tuning, JSON.stringify(['a,b', 'c\n"d"']));
  assert.deepEqual(JSON.parse(String(a.tokens_tuning)), [7, 3]);
  assert.deepEqual([a.extra_shots, a.extra_labels, a.extra_flipped, a.extra_bin, a.extra_note], [1, 'positive,negative', false, null, null]);
  assert.deepEqual([b.extra_labels, b.extra_flipped], [7, null]);
  // mixed extra values become a STRING column, all-number ones DOUBLE, all-boolean BOOLEAN
  const type = (n: string) => t.columns.find((c) => c.name === n)?.type;
  assert.deepEqual([type('extra_labels'), type('extra_shots'), type('extra_flipped'), type('seed')], ['STRING', 'DOUBLE', 'BOOLEAN', 'INT64']);
});

test('CSV: RFC 4180 quoting survives commas, quotes and newlines in prompts; NaN and Infinity are spelled out', () => {
  const csv = exportRecords(records(), 'csv');
  assert.ok(csv.includes(`"He said ""hi"", then\nleft,\r\nfor good """" ,"`), 'quotes doubled, field quoted');
  const rows = parseCsv(csv);
  const header = rows[0];
  assert.equal(rows.length, 3);
  for (const r of rows) assert.equal(r.length, header.length);
  const get = (row: number, col: string) => rows[row][header.indexOf(col)];
  assert.equal(get(1, 'prompt_anchor'), nasty);
  assert.deepEqual(JSON.parse(get(1, 'prompt_tuning')), ['a,b', 'c\n"d"']);
  assert.equal(get(1, 'sim_anchor_icl_4'), 'NaN');
  assert.equal(get(1, 'sim_anchor_icl_1'), '', 'unmeasured layer is an empty field');
  assert.equal(get(2, 'sim_icl_it_last'), 'Infinity');
  assert.equal(get(1, 'sim_icl_it_4'), '0.30000000000000004', 'numbers keep full precision');
  assert.equal(get(1, 'extra_labels'), 'positive,negative');
  assert.equal(get(2, 'extra_labels'), '7');
  assert.equal(get(1, 'extra_flipped'), 'false');
  assert.equal(get(2, 'accuracy_icl'), '');
  assert.equal(get(1, 'accuracy_icl'), '0.75');
  assert.equal(get(1, 'seed'), '1000');
  assert.equal(csvField(' x'), '" x"');
  assert.equal(csvField('plain'), 'plain');
  // no records: just the header
  assert.equal(parseCsv(exportRecords([], 'csv')).length, 1);
});

test('Parquet: hyparquet reads back exactly the table rows, NaN and nulls included', async () => {
  const recs = records();
  const buf = exportRecords(recs, 'parquet');
  assert.ok(Buffer.isBuffer(buf));
  assert.equal(buf.subarray(0, 4).toString(), 'PAR1');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const table = exportTable(recs);
  const schema = parquetSchema(parquetMetadata(ab));
  assert.deepEqual(schema.children.map((c) => c.element.name), table.columns.map((c) => c.name));
  const rows = await parquetReadObjects({ file: ab });
  assert.equal(rows.length, table.rows.length);
  for (let i = 0; i < rows.length; i++) {
    const got: Record<string, Cell> = {};
    for (const [k, v] of Object.entries(rows[i])) got[k] = typeof v === 'bigint' ? Number(v) : (v as Cell);
    const want: Record<string, Cell> = {};
    for (const c of table.columns) {
      const v = table.rows[i][c.name];
      want[c.name] = c.type === 'STRING' && v !== null && typeof v !== 'string' ? String(v) : v;
    }
    assert.deepEqual(got, want, `row ${i}`);
  }
  assert.ok(Number.isNaN(rows[0].sim_anchor_icl_4));
  assert.equal(typeof rows[0].seed, 'bigint', 'seed is INT64');
  assert.equal(rows[0].prompt_anchor, nasty);

  const empty = exportRecords([], 'parquet');
  const emptyRows = await parquetReadObjects({ file: empty.buffer.slice(empty.byteOffset, empty.byteOffset + empty.byteLength) as ArrayBuffer });
  assert.equal(emptyRows.length, 0);
});

test('JSONL: one object per line in column order, non-finite numbers as strings', () => {
  const text = exportRecords(records(), 'jsonl');
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 2);
  const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(Object.keys(objs[0]), exportTable(records()).columns.map((c) => c.name));
  assert.equal(objs[0].prompt_anchor, nasty);
  assert.equal(objs[0].sim_anchor_icl_4, 'NaN');
  assert.equal(objs[1].sim_icl_it_last, 'Infinity');
  assert.equal(objs[0].sim_anchor_icl_1, null);
  assert.equal(objs[0].seed, 1000);
  assert.equal(exportRecords([], 'jsonl'), '');
});

test('robustness columns come from the stored states (same values as computeRobustness), null for a record without states', () => {
  const rng = seededRandom(3);
  const vec = () => Float32Array.from({ length: 8 }, () => rng() - 0.5);
  const layers = [1, 4];
  const states = new Map<string, SituationStates>();
  const recs = [0, 1, 2].map((repeat) => sampleRecord({ repeat, layers, simAnchorIcl: [0, 0], simAnchorIt: [0, 0], simIclIt: [0, 0], simUpdate: [0, 0], states: repeat < 2 ? `states/c/repeat-${repeat}.safetensors` : undefined }));
  for (const r of recs.slice(0, 2)) states.set(r.states!, { layers, anchor: layers.map(vec), icl: layers.map(vec), it: layers.map(vec) });
  const statesOf = (r: RepeatRecord) => (r.states ? states.get(r.states) : undefined);
  const t = exportTable(recs, { statesOf });
  const rob = computeRobustness(recs, statesOf);
  for (const [i, r] of recs.slice(0, 2).entries()) {
    const m = rob.of(r)!;
    const row = t.rows[i];
    assert.deepEqual([row.centred_anchor_icl_1, row.centred_anchor_it_4, row.centred_icl_it_last], [m.centred.anchorIcl[0], m.centred.anchorIt[1], m.centred.iclIt[1]]);
    assert.deepEqual([row.massive_out_icl_it_1, row.massive_out_anchor_icl_last], [m.massiveOut.iclIt[0], m.massiveOut.anchorIcl[1]]);
    assert.deepEqual([row.null_icl_it_1, row.null_icl_it_last], [m.nullIclIt[0], m.nullIclIt[1]]);
    assert.ok(Number.isFinite(row.null_icl_it_last as number) && Number.isFinite(row.centred_icl_it_last as number));
  }
  // two records with states: each one's null is the cosine with the other's IT state
  const [s0, s1] = [states.get(recs[0].states!)!, states.get(recs[1].states!)!];
  assert.ok(Math.abs((t.rows[0].null_icl_it_4 as number) - cosine(s0.icl[1], s1.it[1])) < 1e-15);
  for (const n of t.columns.map((c) => c.name).filter((x) => /^(centred|massive_out|null)_/.test(x))) assert.equal(t.rows[2][n], null, n);
  // the same columns in every format
  const jsonl = JSON.parse(exportRecords(recs, 'jsonl', { statesOf }).split('\n')[0]) as Record<string, unknown>;
  assert.equal(jsonl.centred_icl_it_last, t.rows[0].centred_icl_it_last);
});
