// Reading text files (strict UTF-8), line splitting and JSON-lines parsing shared by the readers, with file:line positions for every error.
import { readFileSync } from 'node:fs';
import { IclitError } from '../util/errors.js';
import { checkInputFile } from '../util/fs.js';

/** Line (1-based) and byte within that line (1-based) where the first invalid UTF-8 sequence starts; undefined when all is valid. */
export function invalidUtf8At(bytes: Uint8Array): { line: number; byte: number } | undefined {
  const valid = (b: Uint8Array): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b);
      return true;
    } catch {
      return false;
    }
  };
  if (valid(bytes)) return undefined;
  // A newline byte never occurs inside a multi-byte sequence, so each line is valid or not on its own.
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const text = bytes.subarray(start, end);
    if (!valid(text)) {
      // byte by byte in stream mode; `pending` is where an unfinished multi-byte sequence began
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let pending = -1;
      for (let i = 0; i < text.length; i++) {
        let out: string;
        try {
          out = decoder.decode(text.subarray(i, i + 1), { stream: true });
        } catch {
          return { line, byte: (pending >= 0 ? pending : i) + 1 };
        }
        if (out === '') pending = pending >= 0 ? pending : i;
        else pending = -1;
      }
      return { line, byte: pending + 1 }; // a sequence cut off by the end of the line
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * The content of a text file, which must be UTF-8: invalid bytes are refused naming file:line (never replaced by
 * U+FFFD, which would change the data silently). A UTF-8 BOM is kept for the caller to drop. `what` names the file
 * in messages ('data file', 'instruction pool', …): a missing file or a folder is one clear line.
 */
export function readTextFile(file: string, what = 'file'): string {
  checkInputFile(file, what);
  const bytes = readFileSync(file);
  const bad = invalidUtf8At(bytes);
  if (bad) throw new IclitError(`${file}:${bad.line}: not valid UTF-8 (byte ${bad.byte} of the line); save the file as UTF-8`);
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  // an empty input is a mistake (a wrong path, an interrupted write), never an empty result
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new IclitError(`${what} ${file} is empty`);
  return text;
}

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
