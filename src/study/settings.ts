// A study's settings, defined once: each setting's YAML key, command-line flag, type, default and where the default comes from.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CONTROL_NAMES, DEFAULT_METHODS, METHOD_CHOICES, STUDY_DEFAULTS, type ControlName, type Methods } from '../experiments/index.js';
import { TASK_SPECS, readTextFile, splitTemplate, type Task } from '../data/index.js';
import { isHubId } from '../io/index.js';
import { KNOWN_TARGETS, type LoraConfig } from '../lora/index.js';
import { parseHiddenStates, type HiddenStateSpec } from '../models/index.js';
import { IclitError, UsageError } from '../util/errors.js';

/** Everything a run is made from (paths absolute or relative to the working folder). */
export interface RunSettings {
  preset: string;
  models: string[];
  data?: string;
  demoData?: string;
  /** `iclit run paper`: the EN–CS data of the translation preset and of cross-task's demonstrations. */
  translationData?: string;
  encoder?: string;
  instructions?: string;
  repeats: number;
  seed: number;
  /** Undefined: each preset's own (the paper's) value. */
  shots?: number;
  epochs?: number;
  bins: number;
  layers: HiddenStateSpec;
  /** 'auto': bfloat16 where the device computes it natively, else float32. */
  dtype: 'auto' | 'float32' | 'bfloat16';
  /** 'auto' | 'cpu' | 'cuda' | 'cuda:N'. */
  device: string;
  lr: number;
  lrSchedule: 'constant' | 'linear';
  weightDecay: number;
  lora: LoraConfig;
  /** Undefined: sized to the device's free memory (on the CPU at most STUDY_DEFAULTS.batch). */
  batch?: number;
  /** demo-similarity: --data rows (a seeded subset) binned as demonstration candidates; undefined: every row (the paper's "in the dataset"). */
  candidates?: number;
  evalExamples: number;
  saveAdapters: boolean;
  saveStates: boolean;
  methods: Methods;
  /** Built-in controls added as conditions for the preset's first condition (src/experiments/controls.ts); [] = none. */
  controls: ControlName[];
}

/** Settings as a config file or the flags give them: every key optional. */
export type PartialSettings = Partial<Omit<RunSettings, 'lora' | 'methods'>> & {
  lora?: Partial<RunSettings['lora']>;
  methods?: Partial<Omit<Methods, 'templates'>> & { templates?: Partial<Methods['templates']> };
};

type Kind = 'path' | 'paths' | 'int' | 'int0' | 'positive' | 'nonneg' | 'fraction' | 'text' | 'bool' | 'layers' | 'targets' | 'words' | 'controls' | { oneOf: readonly string[] };

/** One setting: where it lives in RunSettings, its YAML key and flag, its type, and its help line (default + source). */
export interface SettingSpec {
  /** Path in PartialSettings, e.g. ['repeats'], ['lora', 'r'], ['methods', 'templates', 'sentiment']. */
  path: readonly string[];
  /** The YAML key (snake_case, dotted under its section); older spellings in `aliases`. */
  yaml: string;
  aliases?: readonly string[];
  flag?: string;
  kind: Kind;
  /** Shown in --help as the value placeholder. */
  value?: string;
  help: string;
  /** A model folder that may be named by hub id (`org/name[@revision]`): kept as is when no such local path exists. */
  hub?: boolean;
  /** The largest value an integer setting takes (bounded work: a run is refused rather than never starting). */
  max?: number;
}

const D = STUDY_DEFAULTS;
const M = DEFAULT_METHODS;

/** Every setting of `iclit run` and of a study YAML file. */
export const SETTINGS: readonly SettingSpec[] = [
  { path: ['preset'], yaml: 'preset', kind: 'text', help: 'preset name (the positional argument of iclit run)' },
  { path: ['models'], yaml: 'models', aliases: ['model'], flag: 'model', kind: 'paths', value: 'DIR', hub: true, help: 'model folder (config.json, safetensors, tokenizer.json) or hub id org/name[@revision] from the local Hugging Face cache; repeat to compare models' },
  { path: ['data'], yaml: 'data', flag: 'data', kind: 'path', value: 'PATH', help: "data of the preset's task (SST-2 for sentiment presets, WMT16 EN–CS for translation)" },
  { path: ['demoData'], yaml: 'demo_data', aliases: ['demoData'], flag: 'demo-data', kind: 'path', value: 'PATH', help: 'EN→CS demonstrations (cross-task)' },
  { path: ['translationData'], yaml: 'translation_data', aliases: ['translationData'], flag: 'translation-data', kind: 'path', value: 'PATH', help: 'iclit run paper: WMT16 EN–CS pairs (the translation preset, and cross-task\'s demonstrations)' },
  { path: ['encoder'], yaml: 'encoder', flag: 'encoder', kind: 'path', value: 'DIR', hub: true, help: 'sentence-transformers folder such as all-MiniLM-L6-v2, or its hub id from the local Hugging Face cache (demo-similarity)' },
  { path: ['instructions'], yaml: 'instructions', flag: 'instructions', kind: 'path', value: 'FILE', help: "instruction pool, one per line (default: iclit's own pool of the task)" },
  { path: ['repeats'], yaml: 'repeats', flag: 'repeats', kind: 'int', max: 1_000_000, value: 'N', help: `seeded repeats (default ${D.repeats}, the paper's)` },
  { path: ['seed'], yaml: 'seed', flag: 'seed', kind: 'int0', value: 'N', help: `run seed (default ${D.seed})` },
  { path: ['shots'], yaml: 'shots', flag: 'shots', kind: 'int', value: 'K', help: `demonstrations per repeat (default ${D.shots}: the paper uses a single demonstration in every analysis but shots, which uses 1/2/5/10)` },
  { path: ['epochs'], yaml: 'epochs', flag: 'epochs', kind: 'int', value: 'N', help: `LoRA epochs (default ${D.epochs}, the paper's; shots tunes 10/5/2/1)` },
  { path: ['bins'], yaml: 'bins', flag: 'bins', kind: 'int', value: 'N', help: `similarity bins of demo-similarity (default ${D.bins}, the paper's)` },
  { path: ['layers'], yaml: 'layers', flag: 'layers', kind: 'layers', value: 'all|0,4,-1', help: 'hidden states to measure (HF indices, negatives count from the end; default all)' },
  { path: ['dtype'], yaml: 'dtype', flag: 'dtype', kind: { oneOf: ['auto', 'float32', 'bfloat16'] }, value: 'auto|float32|bfloat16', help: 'compute dtype (default auto: bfloat16, the paper\'s, where the device computes it natively, else float32 unless the model\'s float32 copy would not fit the machine\'s memory, e.g. a 7B model on 24 GB)' },
  { path: ['device'], yaml: 'device', flag: 'device', kind: 'text', value: 'auto|cpu|cuda|cuda:N', help: 'where to compute (default auto: CUDA when the libtorch has it, else the CPU)' },
  { path: ['lr'], yaml: 'lr', flag: 'lr', kind: 'positive', value: 'LR', help: `AdamW learning rate (default ${D.lr}, the paper's)` },
  { path: ['lrSchedule'], yaml: 'lr_schedule', aliases: ['lrSchedule'], flag: 'lr-schedule', kind: { oneOf: ['constant', 'linear'] }, value: 'constant|linear', help: `learning-rate schedule (default ${D.lrSchedule}: decay to 0 over the steps, the default of the Hugging Face Trainer the paper ran, as it names no schedule)` },
  { path: ['weightDecay'], yaml: 'weight_decay', aliases: ['weightDecay'], flag: 'weight-decay', kind: 'nonneg', value: 'W', help: `AdamW weight decay (default ${D.weightDecay})` },
  { path: ['lora', 'r'], yaml: 'lora.r', flag: 'lora-r', kind: 'int', value: 'R', help: `LoRA rank (default ${D.lora.r}, the paper's)` },
  { path: ['lora', 'alpha'], yaml: 'lora.alpha', flag: 'lora-alpha', kind: 'positive', value: 'A', help: `LoRA alpha (default ${D.lora.alpha}, the paper's)` },
  { path: ['lora', 'dropout'], yaml: 'lora.dropout', flag: 'lora-dropout', kind: 'fraction', value: 'P', help: `LoRA dropout (default ${D.lora.dropout}, the paper's)` },
  { path: ['lora', 'targets'], yaml: 'lora.targets', flag: 'lora-targets', kind: 'targets', value: 'q_proj,v_proj', help: `modules LoRA wraps (default ${D.lora.targets.join(',')}, the paper's)` },
  { path: ['batch'], yaml: 'batch', flag: 'batch', kind: 'int', value: 'N', help: `repeats tuned together as one batch of adapters (default: what fits free memory — on the CPU at most ${D.batch}; results differ only in float rounding)` },
  { path: ['candidates'], yaml: 'candidates', flag: 'candidates', kind: 'int', value: 'N', help: 'demo-similarity: --data rows (a seeded subset) binned as demonstration candidates (default: every row, the inference example itself included, as the paper draws from the dataset)' },
  { path: ['evalExamples'], yaml: 'eval_examples', aliases: ['evalExamples'], flag: 'eval-examples', kind: 'int', value: 'N', help: `accuracy: evaluation examples per repeat, drawn without the demonstrations (default ${D.evalExamples})` },
  { path: ['saveAdapters'], yaml: 'save_adapters', flag: 'save-adapters', kind: 'bool', help: "write each repeat's tuned adapter as a PEFT folder under RESULTS_DIR/adapters/" },
  { path: ['saveStates'], yaml: 'save_states', flag: 'no-save-states', kind: 'bool', help: 'do not store the last-token hidden states (stored by default under RESULTS_DIR/states/)' },
  { path: ['methods', 'templates', 'sentiment'], yaml: 'methods.templates.sentiment', flag: 'template-sentiment', kind: 'text', value: 'TEMPLATE', help: `sentiment template (default ${JSON.stringify(M.templates.sentiment)})` },
  { path: ['methods', 'templates', 'translation'], yaml: 'methods.templates.translation', flag: 'template-translation', kind: 'text', value: 'TEMPLATE', help: `translation template (default ${JSON.stringify(M.templates.translation)})` },
  { path: ['methods', 'labels'], yaml: 'labels', flag: 'labels', kind: 'words', value: 'NEG,POS', help: `label words of sentiment by label (0 = negative, 1 = positive), comma-separated (default ${M.labels.join(',')}, the paper's label words)` },
  { path: ['methods', 'separator'], yaml: 'methods.separator', flag: 'separator', kind: 'text', value: 'STR', help: `between demonstrations and before the inference example (default ${JSON.stringify(M.separator)})` },
  { path: ['methods', 'instructionPlacement'], yaml: 'methods.instruction_placement', flag: 'instruction-placement', kind: { oneOf: METHOD_CHOICES.instructionPlacement }, value: METHOD_CHOICES.instructionPlacement.join('|'), help: `where the ICL prompt holds the instruction (default ${M.instructionPlacement}: each task's as the paper writes it, once before the demonstrations for sentiment (§2), before every demonstration and again before B for translation (footnote 5))` },
  { path: ['methods', 'tuneLoss'], yaml: 'methods.tune_loss', flag: 'tune-loss', kind: { oneOf: METHOD_CHOICES.tuneLoss }, value: METHOD_CHOICES.tuneLoss.join('|'), help: `tokens of a tuning text that carry the LoRA loss (default ${M.tuneLoss})` },
  { path: ['methods', 'wrongLabels'], yaml: 'methods.wrong_labels', flag: 'wrong-labels', kind: { oneOf: METHOD_CHOICES.wrongLabels }, value: METHOD_CHOICES.wrongLabels.join('|'), help: `how wrong labels are made (default ${M.wrongLabels}: every label replaced by the other)` },
  { path: ['methods', 'binEdges'], yaml: 'methods.bin_edges', flag: 'bin-edges', kind: { oneOf: METHOD_CHOICES.binEdges }, value: METHOD_CHOICES.binEdges.join('|'), help: `similarity bins of equal width over [0, 1] or equal candidate counts (default ${M.binEdges})` },
  { path: ['methods', 'crossTaskInstruction'], yaml: 'methods.cross_task_instruction', flag: 'cross-task-instruction', kind: { oneOf: METHOD_CHOICES.crossTaskInstruction }, value: METHOD_CHOICES.crossTaskInstruction.join('|'), help: `instruction of a cross-task ICL prompt (default ${M.crossTaskInstruction})` },
  { path: ['controls'], yaml: 'controls', flag: 'controls', kind: 'controls', value: CONTROL_NAMES.join(','), help: `built-in controls, each a condition added for the preset's first one: ${CONTROL_NAMES.join(', ')} (default none; docs/METHODS.md, Controls)` },
  { path: ['methods', 'chatTemplate'], yaml: 'methods.chat_template', flag: 'chat-template', kind: 'bool', help: "render prompts through the model folder's chat template (tokenizer_config.json)" },
];

/** A decimal number as typed: 12, -1, 0.5, .5, 1e-4 (not 0x10, 0b1, 0o7, Infinity). */
export const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function bad(where: string, what: string, v: unknown): never {
  throw new IclitError(`${where} must be ${what}, got ${JSON.stringify(v)}`);
}

/** A value of `kind` from YAML (any JSON value) or a flag (a string); `base` resolves relative paths. */
function coerce(kind: Kind, v: unknown, where: string, base: string, fromFlag: boolean, hub = false, max = Number.MAX_SAFE_INTEGER): unknown {
  // decimal only: Number('0x10') is 16 and Number('0b1') is 1, never what a user typing a count meant
  const num = (x: unknown): unknown => (fromFlag && typeof x === 'string' && DECIMAL.test(x.trim()) ? Number(x) : x);
  const path = (x: unknown): string => {
    if (typeof x !== 'string' || x.trim() === '') bad(where, 'a non-empty path', x);
    if (hub && !isAbsolute(x) && isHubId(x) && !existsSync(resolve(base, x))) return x; // a hub id, resolved by the study
    return isAbsolute(x) ? x : resolve(base, x);
  };
  if (typeof kind === 'object') {
    if (typeof v !== 'string' || !kind.oneOf.includes(v)) bad(where, `one of ${kind.oneOf.join(', ')}`, v);
    return v;
  }
  switch (kind) {
    case 'path':
      return path(v);
    case 'paths': {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0) bad(where, 'a folder or a list of folders', v);
      return list.map((x) => coerce('path', x, where, base, fromFlag, hub));
    }
    case 'int':
    case 'int0': {
      const n = num(v);
      const min = kind === 'int' ? 1 : 0;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) bad(where, `an integer ≥ ${min}`, v);
      if (n > max) bad(where, `an integer from ${min} to ${max}`, v);
      return n;
    }
    case 'positive': {
      const n = num(v);
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) bad(where, 'a positive number', v);
      return n;
    }
    case 'nonneg': {
      const n = num(v);
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) bad(where, 'a number ≥ 0', v);
      return n;
    }
    case 'fraction': {
      const n = num(v);
      if (typeof n !== 'number' || !(n >= 0 && n < 1)) bad(where, 'a number in [0, 1)', v);
      return n;
    }
    case 'text':
      if (typeof v !== 'string' || v.trim() === '') bad(where, 'a non-empty string', v);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') bad(where, 'true or false', v);
      return v;
    case 'layers':
      return parseHiddenStates(v, where);
    case 'words': {
      const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
      if (!Array.isArray(list) || list.length < 2 || list.some((w) => typeof w !== 'string' || w.trim() === '') || new Set(list).size !== list.length) bad(where, 'distinct non-empty label words (NEG,POS)', v);
      return [...(list as string[])];
    }
    case 'controls': {
      const list = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v;
      if (!Array.isArray(list) || (typeof v === 'string' && list.some((x) => x === ''))) bad(where, `a list of controls from ${CONTROL_NAMES.join(', ')}`, v);
      for (const c of list) if (typeof c !== 'string' || !(CONTROL_NAMES as readonly string[]).includes(c)) bad(where, `controls from ${CONTROL_NAMES.join(', ')}`, c);
      return CONTROL_NAMES.filter((c) => list.includes(c)); // one order, no repeats: the same controls are the same setup
    }
    case 'targets': {
      const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
      if (!Array.isArray(list) || list.length === 0) bad(where, 'a list of module names', v);
      for (const t of list) if (typeof t !== 'string' || !KNOWN_TARGETS.includes(t)) bad(where, `module names from ${KNOWN_TARGETS.join(', ')}`, t);
      return [...list];
    }
  }
}

function setPath(out: Record<string, unknown>, path: readonly string[], v: unknown): void {
  let o = out;
  for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1]] = v;
}

/** Flattens a YAML mapping to dotted keys ('lora.r', 'methods.templates.sentiment'), refusing what is not a mapping. */
function flatten(raw: Record<string, unknown>, file: string, prefix = ''): [string, unknown][] {
  const sections = new Set(SETTINGS.filter((s) => s.yaml.includes('.')).map((s) => s.yaml.split('.').slice(0, -1).join('.')));
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(raw)) {
    const key = prefix + k;
    if (sections.has(key)) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new IclitError(`${file}: key '${key}' must be a mapping`);
      out.push(...flatten(v as Record<string, unknown>, file, `${key}.`));
    } else out.push([key, v]);
  }
  return out;
}

/** Validates a parsed config object; relative paths resolve against `baseDir` (the config file's folder). */
export function parseSettings(raw: unknown, file: string, baseDir: string): PartialSettings {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new IclitError(`${file}: the config must be a mapping of keys (preset, repeats, seed, ...)`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of flatten(raw as Record<string, unknown>, file)) {
    const spec = SETTINGS.find((s) => s.yaml === key || s.aliases?.includes(key));
    if (!spec) {
      const known = SETTINGS.map((s) => s.yaml).join(', ');
      throw new IclitError(`${file}: key '${key}' is not a setting (known: ${known})`);
    }
    setPath(out, spec.path, coerce(spec.kind, v, `${file}: key '${key}'`, baseDir, false, spec.hub, spec.max));
  }
  return out as PartialSettings;
}

/** Settings from command-line flags (only those given); `no-save-states` sets saveStates false. A bad value is a usage error. */
export function flagSettings(flags: Record<string, unknown>, cwd = process.cwd()): PartialSettings {
  try {
    return fromFlags(flags, cwd);
  } catch (e) {
    // the flag's value is the user's typing, not a file: exit 2 like every other usage error
    throw e instanceof IclitError && !(e instanceof UsageError) ? new UsageError(e.message) : e;
  }
}

function fromFlags(flags: Record<string, unknown>, cwd: string): PartialSettings {
  const out: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    if (!spec.flag) continue;
    const v = flags[spec.flag];
    if (v === undefined || v === false) continue;
    const where = `--${spec.flag}`;
    if (spec.flag === 'no-save-states') setPath(out, spec.path, false);
    else if (spec.kind === 'bool') setPath(out, spec.path, true);
    else if (spec.kind === 'paths') setPath(out, spec.path, (v as string[]).map((p) => coerce('path', p, where, cwd, true, spec.hub)));
    else setPath(out, spec.path, coerce(spec.kind, v, where, cwd, true, spec.hub, spec.max));
    // a template flag's shape is checked here, so a bad one is a usage error like any other flag value
    const task = spec.path[0] === 'methods' && spec.path[1] === 'templates' ? (spec.path[2] as Task) : undefined;
    if (task && TASK_SPECS[task]) {
      try {
        splitTemplate(v as string, TASK_SPECS[task].answerSlot);
      } catch (e) {
        throw new UsageError(`${where}: ${(e as Error).message}`);
      }
    }
  }
  return out as PartialSettings;
}

/** Reads and validates a YAML config file. */
export function loadSettingsFile(file: string): PartialSettings {
  const content = readTextFile(file, 'config file');
  let raw: unknown;
  try {
    raw = parseYaml(content, { logLevel: 'error' }); // errors only: a warning would print lines of its own
  } catch (e) {
    throw new IclitError(`${file}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  return parseSettings(raw, file, dirname(resolve(file)));
}

/** Defaults < config file < flags; checks that a preset and a model are given. */
export function mergeSettings(file: PartialSettings, flags: PartialSettings): RunSettings {
  const pick = <K extends keyof PartialSettings>(k: K): PartialSettings[K] => (flags[k] !== undefined ? flags[k] : file[k]);
  const preset = pick('preset');
  if (!preset) throw new UsageError('no preset given (a preset name, or a config file with a `preset` key)');
  const models = pick('models') ?? [];
  if (models.length === 0) throw new UsageError('no model given (--model DIR, or `models` in the config)');
  const fm = file.methods ?? {};
  const gm = flags.methods ?? {};
  return {
    preset,
    models,
    data: pick('data'),
    demoData: pick('demoData'),
    translationData: pick('translationData'),
    encoder: pick('encoder'),
    instructions: pick('instructions'),
    repeats: pick('repeats') ?? D.repeats,
    seed: pick('seed') ?? D.seed,
    shots: pick('shots'),
    epochs: pick('epochs'),
    bins: pick('bins') ?? D.bins,
    layers: pick('layers') ?? 'all',
    dtype: pick('dtype') ?? 'auto',
    device: pick('device') ?? 'auto',
    lr: pick('lr') ?? D.lr,
    lrSchedule: pick('lrSchedule') ?? D.lrSchedule,
    weightDecay: pick('weightDecay') ?? D.weightDecay,
    lora: { ...D.lora, targets: [...D.lora.targets], ...file.lora, ...flags.lora },
    batch: pick('batch'),
    candidates: pick('candidates'),
    evalExamples: pick('evalExamples') ?? D.evalExamples,
    saveAdapters: pick('saveAdapters') ?? false,
    saveStates: pick('saveStates') ?? true,
    methods: { ...M, ...fm, ...gm, templates: { ...M.templates, ...fm.templates, ...gm.templates } },
    controls: CONTROL_NAMES.filter((c) => (pick('controls') ?? []).includes(c)), // one order: the same controls are the same setup
  };
}
