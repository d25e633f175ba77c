// Reading the JSON files of a model folder (config.json, index files) with errors that name the file.
import { readFileSync } from 'node:fs';
import { IclitError } from '../util/errors.js';

/** Parses `path` as a JSON object; `missing` completes the not-found message (e.g. "is DIR a model folder?"). */
export function readJsonObject(path: string, missing?: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new IclitError(`${path} not found${missing ? ` (${missing})` : ''}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new IclitError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new IclitError(`${path} is not a JSON object`);
  return raw as Record<string, unknown>;
}
