// Line splitting and JSON-lines parsing shared by the readers, with file:line positions for every error.
import { IclitError } from '../util/errors.js';

/** One line of a text file with its 1-based line number. */
export interface NumberedLine {
  line: number;
  text: string;
}

/**
 * Splits file content into lines (LF or CRLF; a UTF-8 BOM is dropped). Blank lines at the end of the file are
 * not rows; a blank line anywhere else is a malformed row and throws (rows are never skipped silently).
 */
export function splitLines(content: string, file: string): NumberedLine[] {
  const body = content.startsWith('\uFEFF') ? content.slice(1) : content;
  const raw = body.split('\n').map((s) => (s.endsWith('\r') ? s.slice(0, -1) : s));
  let end = raw.length;
  while (end > 0 && raw[end - 1].trim() === '') end--;
  const out: NumberedLine[] = [];
  for (let i = 0; i < end; i++) {
    if (raw[i].trim() === '') throw new IclitError(`${file}:${i + 1}: blank line inside the data (every line must be a row)`);
    out.push({ line: i + 1, text: raw[i] });
  }
  return out;
}

/** A parsed JSON object with the place it came from ("file:line" or "file item N"). */
export interface LocatedRecord {
  where: string;
  value: Record<string, unknown>;
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new IclitError(`${where}: expected a JSON object per row, got ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  return value as Record<string, unknown>;
}

/** Parses JSON Lines (one object per line); a whole-file JSON array of objects is accepted too. */
export function parseJsonRecords(content: string, file: string): LocatedRecord[] {
  const trimmed = content.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      throw new IclitError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(arr)) throw new IclitError(`${file}: expected a JSON array of objects`);
    return arr.map((v, i) => ({ where: `${file} item ${i + 1}`, value: asObject(v, `${file} item ${i + 1}`) }));
  }
  return splitLines(content, file).map(({ line, text }) => {
    const where = `${file}:${line}`;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new IclitError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    return { where, value: asObject(v, where) };
  });
}

/** Shortens a value for an error message. */
export function show(value: unknown): string {
  const s = typeof value === 'bigint' ? `${value}` : JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
