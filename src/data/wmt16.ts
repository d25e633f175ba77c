// WMT16 EN–CS pairs from aligned plain-text files (X.en + X.cs), JSON lines and HF `wmt16` cs-en Parquet records.
import { existsSync, statSync } from 'node:fs';
import { IclitError } from '../util/errors.js';
import { parseJsonRecords, show, splitLines } from './text.js';
import type { TranslationExample } from './types.js';

/** Language codes of the pair: English is the source, Czech the target. */
export const SOURCE_LANG = 'en';
export const TARGET_LANG = 'cs';

function sideOf(record: Record<string, unknown>, lang: string, where: string): string {
  const v = record[lang];
  if (typeof v !== 'string') throw new IclitError(`${where}: "${lang}" must be a string, got ${show(v)}`);
  const s = v.trim();
  if (s === '') throw new IclitError(`${where}: "${lang}" is empty`);
  return s;
}

/** A pair from `{"en": ..., "cs": ...}` or Hugging Face style `{"translation": {"en": ..., "cs": ...}}`. */
export function translationFromRecord(record: Record<string, unknown>, where: string): TranslationExample {
  let inner = record;
  if ('translation' in record) {
    const t = record.translation;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) {
      throw new IclitError(`${where}: "translation" must be an object with "en" and "cs", got ${show(t)}`);
    }
    inner = t as Record<string, unknown>;
  }
  if (!(SOURCE_LANG in inner) || !(TARGET_LANG in inner)) {
    throw new IclitError(`${where}: expected "en" and "cs" (or "translation": {"en", "cs"}), found keys ${show(Object.keys(inner))}`);
  }
  return { source: sideOf(inner, SOURCE_LANG, where), target: sideOf(inner, TARGET_LANG, where) };
}

/** Translation pairs as JSON lines (or a JSON array of such objects). */
export function parseTranslationJson(content: string, file: string): TranslationExample[] {
  return parseJsonRecords(content, file).map(({ where, value }) => translationFromRecord(value, where));
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/**
 * The two files of a plain-text pair given one of them (`newstest2016.en` or `.cs`) or their common prefix
 * (`newstest2016` or `newstest2016.`). Undefined when `path` names neither.
 */
export function findTextPair(path: string): { en: string; cs: string } | undefined {
  const m = /\.(en|cs)$/.exec(path);
  if (m) {
    const prefix = path.slice(0, -3);
    const pair = { en: `${prefix}.${SOURCE_LANG}`, cs: `${prefix}.${TARGET_LANG}` };
    if (!isFile(path)) return undefined;
    const other = m[1] === 'en' ? pair.cs : pair.en;
    if (!isFile(other)) throw new IclitError(`${path}: its parallel file ${other} is missing (a pair X.en + X.cs is expected)`);
    return pair;
  }
  const prefix = path.endsWith('.') ? path.slice(0, -1) : path;
  const pair = { en: `${prefix}.${SOURCE_LANG}`, cs: `${prefix}.${TARGET_LANG}` };
  if (isFile(pair.en) && isFile(pair.cs)) return pair;
  return undefined;
}

/** Aligned plain text: line i of the English file translates to line i of the Czech file; counts must match. */
export function parseTextPair(en: { file: string; content: string }, cs: { file: string; content: string }): TranslationExample[] {
  const src = splitLines(en.content, en.file);
  const tgt = splitLines(cs.content, cs.file);
  if (src.length !== tgt.length) {
    throw new IclitError(`${en.file} has ${src.length} lines but ${cs.file} has ${tgt.length}; aligned files must have the same line count`);
  }
  return src.map((s, i) => ({ source: s.text.trim(), target: tgt[i].text.trim() }));
}
