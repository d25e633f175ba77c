// sentence-transformers module files: reading modules.json (Transformer → Pooling → Normalize) and writing a module set beside a BERT folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson } from '../io/json-file.js';
import { IclitError } from '../util/errors.js';
import { POOLING_MODES, type PoolingMode } from './pooling.js';

/** What a sentence-transformers folder's modules.json says to run. */
export interface SentenceModules {
  /** Folder of the Transformer module (config.json, weights, sentence_bert_config.json, tokenizer). */
  transformerDir: string;
  /** Folder of the Pooling module (holds config.json). */
  poolingDir: string;
  /** A Normalize module follows pooling (L2 normalisation). */
  normalize: boolean;
}

const MODULE_TYPES = {
  transformer: 'sentence_transformers.models.Transformer',
  pooling: 'sentence_transformers.models.Pooling',
  normalize: 'sentence_transformers.models.Normalize',
};

/** io/json-file.ts's reader (kept under this module's export for its callers). */
export { readJson };

/** Reads `dir/modules.json`: exactly Transformer, then Pooling, then optionally Normalize. */
export function readSentenceModules(dir: string): SentenceModules {
  const path = join(dir, 'modules.json');
  const raw = readJson(path, `${dir} is not a sentence-transformers folder: it needs modules.json and a Pooling module`);
  if (!Array.isArray(raw)) throw new IclitError(`${path}: expected a JSON list of modules`);
  const entries = [...raw].sort((a, b) => Number((a as { idx?: number })?.idx ?? 0) - Number((b as { idx?: number })?.idx ?? 0));
  const kinds: string[] = [];
  const out: Partial<SentenceModules> = { normalize: false };
  entries.forEach((e, i) => {
    const m = e as { type?: unknown; path?: unknown };
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') throw new IclitError(`${path}: module ${i} has no "type" string`);
    const sub = typeof m.path === 'string' ? m.path : '';
    const kind = Object.entries(MODULE_TYPES).find(([, t]) => t === m.type)?.[0];
    if (!kind) throw new IclitError(`${path}: module type "${m.type}" is not supported (supported: ${Object.values(MODULE_TYPES).join(', ')})`);
    kinds.push(kind);
    if (kind === 'transformer') out.transformerDir = join(dir, sub);
    if (kind === 'pooling') out.poolingDir = join(dir, sub);
    if (kind === 'normalize') out.normalize = true;
  });
  const order = kinds.join(',');
  if (order !== 'transformer,pooling' && order !== 'transformer,pooling,normalize') {
    throw new IclitError(`${path}: modules must be Transformer, Pooling and optionally Normalize in that order, got ${kinds.join(' → ') || 'none'}`);
  }
  return out as SentenceModules;
}

export interface SentenceModulesSpec {
  /** Pooling modes to enable (default: mean). */
  modes?: readonly PoolingMode[];
  /** Add a Normalize module (default true, as all-MiniLM-L6-v2). */
  normalize?: boolean;
  /** Written to sentence_bert_config.json when given. */
  maxSeqLength?: number;
  doLowerCase?: boolean;
}

/** Writes modules.json, 1_Pooling/config.json (and sentence_bert_config.json) beside a BERT folder of hidden size `dimension`. */
export function writeSentenceModules(dir: string, dimension: number, spec: SentenceModulesSpec = {}): string {
  const modes = spec.modes ?? ['mean_tokens'];
  const normalize = spec.normalize ?? true;
  const modules = [
    { idx: 0, name: '0', path: '', type: MODULE_TYPES.transformer },
    { idx: 1, name: '1', path: '1_Pooling', type: MODULE_TYPES.pooling },
    ...(normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: MODULE_TYPES.normalize }] : []),
  ];
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules, null, 2));
  const pooling: Record<string, unknown> = { word_embedding_dimension: dimension };
  for (const m of POOLING_MODES) pooling[`pooling_mode_${m}`] = modes.includes(m);
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify(pooling, null, 2));
  if (spec.maxSeqLength !== undefined || spec.doLowerCase !== undefined) {
    writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: spec.maxSeqLength, do_lower_case: spec.doLowerCase ?? false }, null, 2));
  }
  return dir;
}
