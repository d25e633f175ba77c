// A study run's settings: the YAML config file (validated, errors name the key) merged with command-line values.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { IclitError } from '../util/errors.js';
import { KNOWN_TARGETS } from '../lora/index.js';
import { STUDY_DEFAULTS } from './conditions.js';

/** Everything a run is made from (paths absolute or relative to the working folder). */
export interface RunSettings {
  preset: string;
  models: string[];
  data?: string;
  demoData?: string;
  encoder?: string;
  instructions?: string;
  repeats: number;
  seed: number;
  shots?: number;
  epochs?: number;
  bins: number;
  layers: number[] | 'all';
  dtype: 'float32' | 'bfloat16';
  lr: number;
  weightDecay: number;
  lora: { r: number; alpha: number; dropout: number; targets: string[] };
  batch: number;
  /** demo-similarity: --data rows (a seeded subset) binned as demonstration candidates. */
  candidates: number;
}

/** Settings as a config file or the flags give them: every key optional. */
export type PartialSettings = Partial<Omit<RunSettings, 'lora'>> & { lora?: Partial<RunSettings['lora']> };

const KEYS: Record<string, string> = {
  preset: 'preset',
  models: 'models',
  model: 'models',
  data: 'data',
  demo_data: 'demoData',
  demoData: 'demoData',
  encoder: 'encoder',
  instructions: 'instructions',
  repeats: 'repeats',
  seed: 'seed',
  shots: 'shots',
  epochs: 'epochs',
  bins: 'bins',
  layers: 'layers',
  dtype: 'dtype',
  lr: 'lr',
  weight_decay: 'weightDecay',
  weightDecay: 'weightDecay',
  lora: 'lora',
  batch: 'batch',
  candidates: 'candidates',
};
const LORA_KEYS = ['r', 'alpha', 'dropout', 'targets'];

function where(file: string, key: string): string {
  return `${file}: key '${key}'`;
}

function int(v: unknown, file: string, key: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new IclitError(`${where(file, key)} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function positive(v: unknown, file: string, key: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new IclitError(`${where(file, key)} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function text(v: unknown, file: string, key: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new IclitError(`${where(file, key)} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** 'all' or a list of non-negative integers (a comma string is accepted too). */
export function parseLayerList(v: unknown, source: string): number[] | 'all' {
  if (v === 'all') return 'all';
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(list) || list.length === 0) throw new IclitError(`${source} must be 'all' or a list of hidden-state indices, got ${JSON.stringify(v)}`);
  const out = list.map((x) => (typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x));
  for (const x of out) if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new IclitError(`${source}: ${JSON.stringify(x)} is not a hidden-state index (0, 1, ...)`);
  return [...new Set(out as number[])];
}

/** Validates a parsed config object; relative paths resolve against `baseDir` (the config file's folder). */
export function parseSettings(raw: unknown, file: string, baseDir: string): PartialSettings {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new IclitError(`${file}: the config must be a mapping of keys (preset, repeats, seed, ...)`);
  const out: PartialSettings = {};
  const path = (v: unknown, key: string): string => {
    const s = text(v, file, key);
    return isAbsolute(s) ? s : resolve(baseDir, s);
  };
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    const name = KEYS[key];
    if (!name) throw new IclitError(`${where(file, key)} is not a setting (known: ${Object.keys(KEYS).filter((k) => !['model', 'demoData', 'weightDecay'].includes(k)).join(', ')})`);
    switch (name) {
      case 'preset':
        out.preset = text(v, file, key);
        break;
      case 'models': {
        const list = typeof v === 'string' ? [v] : v;
        if (!Array.isArray(list) || list.length === 0) throw new IclitError(`${where(file, key)} must be a folder or a list of folders`);
        out.models = list.map((m, i) => path(m, `${key}[${i}]`));
        break;
      }
      case 'data':
      case 'demoData':
      case 'encoder':
      case 'instructions':
        out[name] = path(v, key);
        break;
      case 'repeats':
      case 'shots':
      case 'epochs':
      case 'bins':
      case 'batch':
      case 'candidates':
        out[name] = int(v, file, key, 1);
        break;
      case 'seed':
        out.seed = int(v, file, key, 0);
        break;
      case 'layers':
        out.layers = parseLayerList(v, where(file, key));
        break;
      case 'dtype':
        if (v !== 'float32' && v !== 'bfloat16') throw new IclitError(`${where(file, key)} must be float32 or bfloat16, got ${JSON.stringify(v)}`);
        out.dtype = v;
        break;
      case 'lr':
        out.lr = positive(v, file, key);
        break;
      case 'weightDecay':
        if (typeof v !== 'number' || !(v >= 0)) throw new IclitError(`${where(file, key)} must be a number ≥ 0, got ${JSON.stringify(v)}`);
        out.weightDecay = v;
        break;
      case 'lora':
        out.lora = parseLora(v, file);
        break;
    }
  }
  return out;
}

function parseLora(v: unknown, file: string): Partial<RunSettings['lora']> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new IclitError(`${where(file, 'lora')} must be a mapping (r, alpha, dropout, targets)`);
  const out: Partial<RunSettings['lora']> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const key = `lora.${k}`;
    if (!LORA_KEYS.includes(k)) throw new IclitError(`${where(file, key)} is not a LoRA setting (known: ${LORA_KEYS.join(', ')})`);
    if (k === 'r') out.r = int(x, file, key, 1);
    if (k === 'alpha') out.alpha = positive(x, file, key);
    if (k === 'dropout') {
      if (typeof x !== 'number' || !(x >= 0 && x < 1)) throw new IclitError(`${where(file, key)} must be a number in [0, 1), got ${JSON.stringify(x)}`);
      out.dropout = x;
    }
    if (k === 'targets') {
      const list = typeof x === 'string' ? x.split(',').map((s) => s.trim()) : x;
      if (!Array.isArray(list) || list.length === 0) throw new IclitError(`${where(file, key)} must be a list of module names`);
      for (const t of list) if (typeof t !== 'string' || !KNOWN_TARGETS.includes(t)) throw new IclitError(`${where(file, key)}: ${JSON.stringify(t)} is not one of ${KNOWN_TARGETS.join(', ')}`);
      out.targets = [...(list as string[])];
    }
  }
  return out;
}

/** Reads and validates a YAML config file. */
export function loadSettingsFile(file: string): PartialSettings {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw new IclitError(`${file}: cannot read the config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(content);
  } catch (e) {
    throw new IclitError(`${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  return parseSettings(raw, file, dirname(resolve(file)));
}

/** Defaults < config file < flags; checks that a preset and a model are given. */
export function mergeSettings(file: PartialSettings, flags: PartialSettings): RunSettings {
  const pick = <K extends keyof PartialSettings>(k: K): PartialSettings[K] => (flags[k] !== undefined ? flags[k] : file[k]);
  const preset = pick('preset');
  if (!preset) throw new IclitError('no preset given (a preset name, or a config file with a `preset` key)');
  const models = pick('models') ?? [];
  if (models.length === 0) throw new IclitError('no model given (--model DIR, or `models` in the config)');
  const d = STUDY_DEFAULTS;
  return {
    preset,
    models,
    data: pick('data'),
    demoData: pick('demoData'),
    encoder: pick('encoder'),
    instructions: pick('instructions'),
    repeats: pick('repeats') ?? d.repeats,
    seed: pick('seed') ?? d.seed,
    shots: pick('shots'),
    epochs: pick('epochs'),
    bins: pick('bins') ?? d.bins,
    layers: pick('layers') ?? 'all',
    dtype: pick('dtype') ?? 'float32',
    lr: pick('lr') ?? d.lr,
    weightDecay: pick('weightDecay') ?? d.weightDecay,
    lora: { r: d.lora.r, alpha: d.lora.alpha, dropout: d.lora.dropout, targets: [...d.lora.targets], ...file.lora, ...flags.lora },
    batch: pick('batch') ?? d.batch,
    candidates: pick('candidates') ?? 1000,
  };
}
