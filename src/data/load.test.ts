// Tests for the data readers: every format and task on small files written here, malformed rows, real fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { IclitError } from '../util/errors.js';
import { missingShared, sharedPath, tempDir } from '../util/testing.js';
import { detectFormat, loadDataset, readSst2, readWmt16, rowPlace } from './load.js';

const dir = tempDir(test, 'iclit-data-');
function write(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
/** Asserts an IclitError whose message matches every pattern. */
async function rejects(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IclitError, `expected IclitError, got ${String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

test('SST-2 TSV: header, trailing space before the tab trimmed, labels 0/1', async () => {
  const p = write('a.tsv', 'sentence\tlabel\nit \'s a charming journey . \t1\nunflinchingly bleak \t0\n');
  const ds = await loadDataset(p);
  assert.equal(ds.task, 'sentiment');
  assert.equal(ds.format, 'tsv');
  assert.deepEqual(ds.examples, [
    { text: "it 's a charming journey .", label: 1 },
    { text: 'unflinchingly bleak', label: 0 },
  ]);
  // columns in another order, CRLF endings
  const q = write('b.tsv', 'label\tsentence\r\n0\tbad \r\n');
  assert.deepEqual(await readSst2(q), [{ text: 'bad', label: 0 }]);
});

test('SST-2 TSV: malformed rows name file and line', async () => {
  await rejects(readSst2(write('bad1.tsv', 'sentence\tlabel\ngood \t1\nbad \t2\n')), /bad1\.tsv:3:/, /label "2"/);
  await rejects(readSst2(write('bad2.tsv', 'sentence\tlabel\ngood \t1\nno tab here\n')), /bad2\.tsv:3:/, /1 tab-separated fields/);
  await rejects(readSst2(write('bad3.tsv', 'sentence\tlabel\ngood \t1\n\nok \t0\n')), /bad3\.tsv:3:/, /blank line/);
  await rejects(readSst2(write('bad4.tsv', 'text\tlab\nx\t1\n')), /bad4\.tsv:1:/, /"sentence" and "label"/);
  await rejects(readSst2(write('bad5.tsv', 'sentence\tlabel\n \t1\n')), /bad5\.tsv:2:/, /empty/);
});

test('SST-2 JSONL: sentence or text keys; bad rows name the line', async () => {
  const p = write('s.jsonl', '{"sentence": "great film ", "label": 1}\n{"text": "dull", "label": 0}\n\n');
  const ds = await loadDataset(p, 'sentiment');
  assert.deepEqual(ds.examples, [{ text: 'great film', label: 1 }, { text: 'dull', label: 0 }]);
  await rejects(readSst2(write('s2.jsonl', '{"sentence": "a", "label": 1}\n{"sentence": "b", "label": "1"}\n')), /s2\.jsonl:2:/, /label "1"/);
  await rejects(readSst2(write('s3.jsonl', '{"sentence": "a", "label": 1}\n{"sentence": "b", \n')), /s3\.jsonl:2:/, /not valid JSON/);
  await rejects(readSst2(write('s4.jsonl', '{"sentence": "a", "label": 1}\n{"sentence": "b"}\n')), /s4\.jsonl:2:/, /missing "label"/);
  // a JSON array is accepted too
  assert.deepEqual(await readSst2(write('s5.json', '[{"text": "x", "label": 0}]')), [{ text: 'x', label: 0 }]);
});

test('WMT text pair: found from either file or the prefix; counts must match', async () => {
  write('news.en', 'Hello .\nTwo\n');
  write('news.cs', 'Ahoj .\nDva\n');
  const expected = [{ source: 'Hello .', target: 'Ahoj .' }, { source: 'Two', target: 'Dva' }];
  for (const p of ['news.en', 'news.cs', 'news', 'news.']) {
    const ds = await loadDataset(join(dir, p));
    assert.equal(ds.task, 'translation', p);
    assert.equal(ds.format, 'text-pair');
    assert.deepEqual(ds.examples, expected, p);
  }
  write('short.en', 'a\nb\nc\n');
  write('short.cs', 'a\nb\n');
  await rejects(readWmt16(join(dir, 'short.en')), /short\.en has 3 lines but .*short\.cs has 2/);
  write('lonely.en', 'a\n');
  await rejects(readWmt16(join(dir, 'lonely.en')), /lonely\.cs is missing/);
  write('gap.en', 'a\n\nc\n');
  write('gap.cs', 'a\nb\nc\n');
  await rejects(readWmt16(join(dir, 'gap')), /gap\.en:2:/, /blank line/);
  await rejects(loadDataset(join(dir, 'nothing-here')), /data file .*nothing-here does not exist \(nor a pair .*nothing-here\.en \+ .*nothing-here\.cs\)$/);
  await rejects(readSst2(write('header-only.tsv', 'sentence\tlabel\n')), /header-only\.tsv: no rows/);
});

test('WMT JSONL: flat and Hugging Face "translation" records', async () => {
  const p = write('t.jsonl', '{"en": "Hi", "cs": "Ahoj"}\n{"translation": {"cs": "Svět", "en": "World"}}\n');
  const ds = await loadDataset(p);
  assert.equal(ds.task, 'translation');
  assert.deepEqual(ds.examples, [{ source: 'Hi', target: 'Ahoj' }, { source: 'World', target: 'Svět' }]);
  await rejects(readWmt16(write('t2.jsonl', '{"en": "Hi", "cs": "Ahoj"}\n{"en": "x", "de": "y"}\n')), /t2\.jsonl:2:/, /expected "en" and "cs"/);
  await rejects(readWmt16(write('t3.jsonl', '{"en": "Hi", "cs": ""}\n')), /t3\.jsonl:1:/, /"cs" is empty/);
});

test('task mismatch and unknown content are clear errors', async () => {
  await rejects(loadDataset(write('m.jsonl', '{"en": "Hi", "cs": "Ahoj"}\n'), 'sentiment'), /holds translation data/, /sentiment data was asked for/);
  await rejects(loadDataset(write('m.tsv', 'sentence\tlabel\nx\t1\n'), 'translation'), /holds sentiment data/);
  await rejects(loadDataset(write('m2.jsonl', '{"foo": 1}\n')), /fit neither task/);
  await rejects(loadDataset(write('m.txt', 'just some words\n')), /cannot tell the format/);
  // content sniffing when the extension says nothing
  assert.equal(detectFormat(write('sniff.txt', '{"text": "a", "label": 1}\n')), 'jsonl');
  assert.equal(detectFormat(write('sniff2.txt', 'sentence\tlabel\na\t1\n')), 'tsv');
});

test('Parquet: HF glue/sst2 columns (sentence, label int64, idx) and wmt16 translation struct', async () => {
  const sst = join(dir, 'sst2-train.parquet');
  parquetWriteFile({
    filename: sst,
    columnData: [
      { name: 'sentence', data: ['hide new secretions ', 'a gorgeous film'], type: 'STRING' },
      { name: 'label', data: [0n, 1n], type: 'INT64' },
      { name: 'idx', data: [0, 1], type: 'INT32' },
    ],
  });
  const ds = await loadDataset(sst);
  assert.equal(ds.task, 'sentiment');
  assert.equal(ds.format, 'parquet');
  assert.deepEqual(ds.examples, [{ text: 'hide new secretions', label: 0 }, { text: 'a gorgeous film', label: 1 }]);

  const wmt = join(dir, 'wmt16-test.bin'); // no extension: detected by the PAR1 magic
  parquetWriteFile({
    filename: wmt,
    columnData: [{ name: 'translation', data: [{ cs: 'Ahoj', en: 'Hi' }, { cs: 'Svět', en: 'World' }] }],
    schema: [
      { name: 'root', num_children: 1 },
      { name: 'translation', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'cs', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'en', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
  });
  assert.deepEqual(await readWmt16(wmt), [{ source: 'Hi', target: 'Ahoj' }, { source: 'World', target: 'Svět' }]);

  const test1 = join(dir, 'sst2-test.parquet');
  parquetWriteFile({
    filename: test1,
    columnData: [
      { name: 'sentence', data: ['a', 'b'], type: 'STRING' },
      { name: 'label', data: [1n, -1n], type: 'INT64' },
    ],
  });
  await rejects(readSst2(test1), /sst2-test\.parquet row 2:/, /label -1/, /no labels/);
  await rejects(readWmt16(sst), /holds sentiment data/);
  await rejects(readSst2(write('fake.parquet', 'not parquet at all')), /fake\.parquet: not a readable Parquet file/);
});

test('fixture: GLUE SST-2 dev.tsv has 872 rows, 428 negative / 444 positive', async (t) => {
  const rel = 'data/sst2/dev.tsv';
  const p = sharedPath(rel);
  if (!p) return t.skip(missingShared(rel));
  const rows = await readSst2(p);
  assert.equal(rows.length, 872);
  assert.equal(rows.filter((r) => r.label === 0).length, 428);
  assert.equal(rows.filter((r) => r.label === 1).length, 444);
  assert.deepEqual(rows[0], { text: "it 's a charming and often affecting journey .", label: 1 });
  assert.ok(rows.every((r) => r.text === r.text.trim() && r.text.length > 0));
});

test('fixture: WMT16 newstest2016 EN–CS has 2999 aligned pairs', async (t) => {
  const rel = 'data/wmt16-encs/newstest2016.en';
  const p = sharedPath(rel);
  if (!p) return t.skip(missingShared(rel));
  const rows = await readWmt16(p);
  assert.equal(rows.length, 2999);
  assert.deepEqual(rows[0], {
    source: 'In 911 Call, Professor Admits to Shooting Girlfriend',
    target: 'Při nouzovém volání se profesor přiznal, že zastřelil svou přítelkyni',
  });
  const viaPrefix = await readWmt16(p.slice(0, -3));
  assert.deepEqual(viaPrefix[2998], rows[2998]);
});

test('invalid UTF-8 is refused naming file:line in every text format; a folder is not a data file', async () => {
  const raw = (name: string, ...parts: (string | number[])[]): string => {
    const p = join(dir, name);
    writeFileSync(p, Buffer.concat(parts.map((x) => Buffer.from(x as string))));
    return p;
  };
  await rejects(loadDataset(raw('u.tsv', 'sentence\tlabel\ngood\t1\nbad ', [0xe9], '\t0\n')), /u\.tsv:3: not valid UTF-8/);
  await rejects(loadDataset(raw('u.jsonl', '{"sentence": "ok", "label": 1}\n{"sentence": "', [0xff], '", "label": 0}\n')), /u\.jsonl:2: not valid UTF-8/);
  raw('up.en', 'a\nb\n');
  raw('up.cs', 'a\n', [0xc3, 0x28], '\n');
  await rejects(loadDataset(join(dir, 'up')), /up\.cs:2: not valid UTF-8/);
  await rejects(loadDataset(dir), /is a folder, not a data file/);
});

test('rowPlace names a row the way the readers name it in errors', () => {
  assert.equal(rowPlace({ file: 'd.tsv', format: 'tsv' }, 0), 'd.tsv:2', 'after the header');
  assert.equal(rowPlace({ file: 'd.jsonl', format: 'jsonl' }, 4), 'd.jsonl:5');
  assert.equal(rowPlace({ file: 'd.json', format: 'json' }, 0), 'd.json item 1');
  assert.equal(rowPlace({ file: 'news', format: 'text-pair' }, 2), 'news line 3');
  assert.equal(rowPlace({ file: 'd.parquet', format: 'parquet' }, 9), 'd.parquet row 10');
});
