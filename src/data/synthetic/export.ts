// Writers for the generated data sets in formats src/data's readers accept (SST-2 TSV, WMT-style X.en + X.cs pair).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { IclitError } from '../../util/errors.js';
import type { SentimentExample, TranslationExample } from '../types.js';

function oneLine(text: string, what: string, i: number): string {
  if (/[\t\r\n]/.test(text)) throw new IclitError(`${what} ${i + 1}: ${JSON.stringify(text)} holds a tab or line break and cannot be written as one field`);
  return text;
}

/** GLUE SST-2 TSV: header "sentence<TAB>label", one row per example. */
export function sst2Tsv(examples: readonly SentimentExample[]): string {
  return ['sentence\tlabel', ...examples.map((e, i) => `${oneLine(e.text, 'sentiment example', i)}\t${e.label}`)].join('\n') + '\n';
}

/** Writes `examples` as an SST-2 TSV file (creating its folder); returns the path. */
export function writeSst2Tsv(path: string, examples: readonly SentimentExample[]): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, sst2Tsv(examples));
  return path;
}

/** Writes `prefix`.en and `prefix`.cs, line i of one translating line i of the other; returns both paths. */
export function writeTextPair(prefix: string, pairs: readonly TranslationExample[]): { en: string; cs: string } {
  mkdirSync(dirname(prefix), { recursive: true });
  const en = `${prefix}.en`;
  const cs = `${prefix}.cs`;
  writeFileSync(en, pairs.map((p, i) => oneLine(p.source, 'translation pair', i)).join('\n') + '\n');
  writeFileSync(cs, pairs.map((p, i) => oneLine(p.target, 'translation pair', i)).join('\n') + '\n');
  return { en, cs };
}
