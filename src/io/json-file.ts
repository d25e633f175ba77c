// The fields of a model folder's JSON files (config.json, index files), with errors that name the file and key; the files are read by util/json-file.ts.
import { IclitError } from '../util/errors.js';

export { readJson, readJsonObject } from '../util/json-file.js';

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
