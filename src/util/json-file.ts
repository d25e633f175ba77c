// Reading a JSON file: one definition for every layer (model folders, tokenizers, adapters), errors in one line naming the file.
import { readFileSync } from 'node:fs';
import { IclitError } from './errors.js';

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
