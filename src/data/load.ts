// loadDataset: detects a data file's format (extension, then content) and task (columns / keys) and reads it.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { IclitError } from '../util/errors.js';
import { isParquetMagic, parquetColumns, readParquet } from './parquet.js';
import { parseSst2Tsv, sentimentFromRecord, SENTIMENT_TEXT_KEYS } from './sst2.js';
import { findTextPair, parseTextPair, translationFromRecord } from './wmt16.js';
import { parseJsonRecords, readTextFile, show } from './text.js';
import type { DataFormat, Dataset, SentimentDataset, SentimentExample, Task, TranslationDataset, TranslationExample } from './types.js';

const EXPECTED =
  'expected SST-2 (.tsv with "sentence<TAB>label", .jsonl with sentence|text + label, HF glue/sst2 .parquet) ' +
  'or WMT16 EN–CS (X.en + X.cs, .jsonl with en + cs or translation{en, cs}, HF wmt16 .parquet)';

function readHead(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The on-disk format of `path` (a file, or the prefix of an X.en + X.cs pair). */
export function detectFormat(path: string): DataFormat {
  if (!existsSync(path) || !statSync(path).isFile()) {
    if (findTextPair(path)) return 'text-pair';
    if (existsSync(path)) throw new IclitError(`${path} is a folder, not a data file`);
    const pairHint = /\.(tsv|jsonl|ndjson|json|parquet|en|cs)$/i.test(path) ? '' : ` (nor a pair ${path}.en + ${path}.cs)`;
    throw new IclitError(`data file ${path} does not exist${pairHint}`);
  }
  const ext = extname(path).toLowerCase();
  const head = readHead(path, 4096);
  if (ext === '.parquet' || isParquetMagic(head)) return 'parquet';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.en' || ext === '.cs') return 'text-pair';
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{')) return 'jsonl';
  if (text.startsWith('[')) return 'json';
  if (text.split('\n')[0].includes('\t')) return 'tsv';
  throw new IclitError(`${path}: cannot tell the format from its name or content; ${EXPECTED}`);
}

function taskFromKeys(keys: string[]): Task | undefined {
  if (keys.includes('translation') || (keys.includes('en') && keys.includes('cs'))) return 'translation';
  if (SENTIMENT_TEXT_KEYS.some((k) => keys.includes(k)) && keys.includes('label')) return 'sentiment';
  return undefined;
}

function checkTask(file: string, found: Task | undefined, wanted: Task | undefined, what: string): Task {
  if (found === undefined) throw new IclitError(`${file}: ${what} fit neither task; ${EXPECTED}`);
  if (wanted !== undefined && found !== wanted) {
    throw new IclitError(`${file}: holds ${found} data (${what}) but ${wanted} data was asked for; ${EXPECTED}`);
  }
  return found;
}

async function loadParquet(file: string, task?: Task): Promise<Dataset> {
  const columns = await parquetColumns(file);
  const found = checkTask(file, taskFromKeys(columns), task, `columns ${show(columns)}`);
  if (found === 'sentiment') {
    const textKey = SENTIMENT_TEXT_KEYS.find((k) => columns.includes(k)) as string;
    const { rows } = await readParquet(file, [textKey, 'label']);
    const examples = rows.map((r, i) => sentimentFromRecord(r, `${file} row ${i + 1}`));
    return { task: 'sentiment', file, format: 'parquet', examples };
  }
  const cols = columns.includes('translation') ? ['translation'] : ['en', 'cs'];
  const { rows } = await readParquet(file, cols);
  const examples = rows.map((r, i) => translationFromRecord(r, `${file} row ${i + 1}`));
  return { task: 'translation', file, format: 'parquet', examples };
}

/**
 * Reads a data set file. Format: `.parquet` (or the PAR1 magic), `.tsv`, `.jsonl`/`.ndjson`/`.json`, `.en`/`.cs`
 * (or a prefix naming X.en + X.cs); other names are sniffed from the content. Task: from the columns or keys
 * (sentence|text + label → sentiment; translation or en + cs → translation); TSV is SST-2, a text pair is WMT.
 * When `task` is given, data of the other task is an error. A malformed row throws an IclitError naming file and line;
 * a file without rows is an error too.
 */
export async function loadDataset(path: string, task: 'sentiment'): Promise<SentimentDataset>;
export async function loadDataset(path: string, task: 'translation'): Promise<TranslationDataset>;
export async function loadDataset(path: string, task?: Task): Promise<Dataset>;
export async function loadDataset(path: string, task?: Task): Promise<Dataset> {
  const ds = await loadAnyFormat(path, task);
  if (ds.examples.length === 0) throw new IclitError(`${path}: no rows (${ds.format}, ${ds.task})`);
  return ds;
}

async function loadAnyFormat(path: string, task?: Task): Promise<Dataset> {
  const format = detectFormat(path);
  if (format === 'parquet') return loadParquet(path, task);
  if (format === 'text-pair') {
    checkTask(path, 'translation', task, 'a plain-text pair X.en + X.cs');
    const pair = findTextPair(path);
    if (!pair) throw new IclitError(`${path}: no such pair ${path}.en + ${path}.cs`);
    const examples = parseTextPair(
      { file: pair.en, content: readTextFile(pair.en, 'data file') },
      { file: pair.cs, content: readTextFile(pair.cs, 'data file') },
    );
    return { task: 'translation', file: path, format, examples };
  }
  const content = readTextFile(path, 'data file');
  if (format === 'tsv') {
    checkTask(path, 'sentiment', task, 'a TSV file (SST-2)');
    return { task: 'sentiment', file: path, format, examples: parseSst2Tsv(content, path) };
  }
  const records = parseJsonRecords(content, path);
  if (records.length === 0) throw new IclitError(`${path}: no rows; ${EXPECTED}`);
  const found = checkTask(path, taskFromKeys(Object.keys(records[0].value)), task, `keys ${show(Object.keys(records[0].value))} of the first row`);
  return found === 'sentiment'
    ? { task: found, file: path, format, examples: records.map((r) => sentimentFromRecord(r.value, r.where)) }
    : { task: found, file: path, format, examples: records.map((r) => translationFromRecord(r.value, r.where)) };
}

/**
 * Where example `index` of a data set came from, as the readers name rows in their errors: `file:line` for TSV
 * (after the header), JSONL and text pairs, `file item N` for a JSON array, `file row N` for Parquet.
 */
export function rowPlace(ds: Pick<Dataset, 'file' | 'format'>, index: number): string {
  switch (ds.format) {
    case 'tsv':
      return `${ds.file}:${index + 2}`;
    case 'jsonl':
      return `${ds.file}:${index + 1}`;
    case 'json':
      return `${ds.file} item ${index + 1}`;
    case 'text-pair':
      return `${ds.file} line ${index + 1}`;
    default:
      return `${ds.file} row ${index + 1}`;
  }
}

/** SST-2 examples from any supported sentiment file. */
export async function readSst2(path: string): Promise<SentimentExample[]> {
  return (await loadDataset(path, 'sentiment')).examples;
}

/** WMT16 EN→CS pairs from any supported translation file or pair prefix. */
export async function readWmt16(path: string): Promise<TranslationExample[]> {
  return (await loadDataset(path, 'translation')).examples;
}
