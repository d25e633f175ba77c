// SST-2 rows from GLUE TSV, JSON lines and Hugging Face `glue/sst2` Parquet records → SentimentExample.
import { IclitError } from '../util/errors.js';
import { parseJsonRecords, show, splitLines } from './text.js';
import type { SentimentExample } from './types.js';

/** Column / key names that hold the review text, in order of preference. */
export const SENTIMENT_TEXT_KEYS = ['sentence', 'text'] as const;

function labelOf(value: unknown, where: string): 0 | 1 {
  if (value === 0 || value === 1) return value;
  if (value === 0n || value === 1n) return Number(value) as 0 | 1;
  const hint = value === -1 || value === -1n ? ' (the GLUE test split has no labels)' : '';
  throw new IclitError(`${where}: label ${show(value)} is not 0 (negative) or 1 (positive)${hint}`);
}

function textOf(value: unknown, key: string, where: string): string {
  if (typeof value !== 'string') throw new IclitError(`${where}: "${key}" must be a string, got ${show(value)}`);
  const text = value.trim();
  if (text === '') throw new IclitError(`${where}: "${key}" is empty`);
  return text;
}

/** A sentiment example from an object with `sentence` (or `text`) and `label` 0/1 (number or bigint). */
export function sentimentFromRecord(record: Record<string, unknown>, where: string): SentimentExample {
  const key = SENTIMENT_TEXT_KEYS.find((k) => k in record);
  if (key === undefined) {
    throw new IclitError(`${where}: expected "sentence" or "text" and "label", found keys ${show(Object.keys(record))}`);
  }
  if (!('label' in record)) throw new IclitError(`${where}: missing "label" (0 = negative, 1 = positive)`);
  return { text: textOf(record[key], key, where), label: labelOf(record.label, where) };
}

/**
 * GLUE SST-2 TSV: a header naming at least `sentence` and `label` (any order, extra columns allowed), then one
 * row per line with exactly as many tab-separated fields. The text is trimmed (GLUE leaves a space before the tab).
 */
export function parseSst2Tsv(content: string, file: string): SentimentExample[] {
  const lines = splitLines(content, file);
  if (lines.length === 0) throw new IclitError(`${file}: empty file; expected a header "sentence<TAB>label" and rows`);
  const header = lines[0].text.split('\t').map((h) => h.trim());
  const ti = header.indexOf('sentence');
  const li = header.indexOf('label');
  if (ti < 0 || li < 0) {
    throw new IclitError(`${file}:${lines[0].line}: header ${show(lines[0].text)} lacks "sentence" and "label" columns (GLUE SST-2 TSV expected)`);
  }
  const out: SentimentExample[] = [];
  for (const { line, text } of lines.slice(1)) {
    const where = `${file}:${line}`;
    const fields = text.split('\t');
    if (fields.length !== header.length) {
      throw new IclitError(`${where}: ${fields.length} tab-separated fields, the header has ${header.length}`);
    }
    const raw = fields[li].trim();
    if (raw !== '0' && raw !== '1') labelOf(raw, where);
    out.push({ text: textOf(fields[ti], 'sentence', where), label: raw === '1' ? 1 : 0 });
  }
  return out;
}

/** SST-2 as JSON lines: one `{"sentence"|"text": ..., "label": 0|1}` per line (or a JSON array of such objects). */
export function parseSentimentJson(content: string, file: string): SentimentExample[] {
  return parseJsonRecords(content, file).map(({ where, value }) => sentimentFromRecord(value, where));
}
