// Reading the JSON files of a model folder (config.json, index files) and their fields, with errors that name the file and key.
import { readFileSync } from 'node:fs';
import { IclitError } from '../util/errors.js';

/** Parses the JSON file `path` (any JSON value); `missing` completes the not-found message (e.g. "is DIR a model folder?"). */
export function readJson(path: string, missing?: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new IclitError(`${path}: cannot read it (${code === 'EISDIR' ? 'a folder, not a file' : (code ?? (e as Error).message)})`);
    throw new IclitError(`${path} not found${missing ? ` (${missing})` : ''}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new IclitError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Parses `path` as a JSON object (readJson, then the shape checked). */
export function readJsonObject(path: string, missing?: string): Record<string, unknown> {
  const raw = readJson(path, missing);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new IclitError(`${path} is not a JSON object`);
  return raw as Record<string, unknown>;
}

/** Typed readers of a config object's fields; each error names `source` and the key. */
export function configFields(c: Record<string, unknown>, source: string) {
  return {
    /** An integer ≥ `min` (default 1); `fallback` when the key is absent. */
    int(key: string, fallback?: number, min = 1): number {
      const v = c[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
        throw new IclitError(`${source}: "${key}" must be ${what}${v === undefined ? ' (missing)' : `, got ${JSON.stringify(v)}`}`);
      }
      return v;
    },
    /** true or false; `fallback` when the key is absent or null. */
    bool(key: string, fallback: boolean): boolean {
      const v = c[key] ?? fallback;
      if (typeof v !== 'boolean') throw new IclitError(`${source}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
      return v;
    },
    /** An integer ≥ `min` (default 0), or null when the key is absent or null. */
    optInt(key: string, min = 0): number | null {
      const v = c[key];
      if (v == null) return null;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new IclitError(`${source}: "${key}" must be an integer of at least ${min} or null, got ${JSON.stringify(v)}`);
      return v;
    },
    /** A string; `fallback` when the key is absent or null. */
    str(key: string, fallback: string): string {
      const v = c[key] ?? fallback;
      if (typeof v !== 'string') throw new IclitError(`${source}: "${key}" must be a string, got ${JSON.stringify(v)}`);
      return v;
    },
    /** A finite positive number; `fallback` when the key is absent. */
    real(key: string, fallback: number): number {
      const v = c[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new IclitError(`${source}: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
      return v;
    },
  };
}
