// The study as data: what a condition is, the presets (one per experiment) and how options resolve them.
import { IclitError, UsageError } from '../util/errors.js';
import type { Task } from '../data/types.js';

/** What one condition measures beyond the three similarities (which every condition records). */
export interface Measures {
  /** Label-word accuracy of zero-shot / ICL / IT (sentiment inference only). */
  accuracy: boolean;
  /** Per-token loss decrease (base − tuned) on the tuning texts, by prompt part. */
  tokenLoss: boolean;
}

/** One condition of an experiment: everything that decides its prompts and its tuning. */
export interface Condition {
  /** Name inside the experiment, e.g. 'right-labels', 'k=5', 'bin=3'. */
  name: string;
  /** Task the demonstrations come from (the --demo-data set when it differs from the inference task). */
  demoTask: Task;
  /** 'flipped': every demonstration's label replaced by the other one (sentiment only). */
  labels: 'right' | 'flipped';
  /** Task of the inference example B (always the --data set). */
  inferenceTask: Task;
  /** Number of demonstrations k (ICL prompt and IT tuning texts). */
  shots: number;
  /** LoRA epochs over the k tuning texts. */
  epochs: number;
  /** false = SL: the tuning texts (and prompts) leave out the instruction. */
  withInstruction: boolean;
  /** demo-similarity: the bin (0-based) of demo–inference cosine the demonstrations are drawn from. */
  bin?: number;
  measures: Measures;
}

/** What a preset needs besides --model and --data. */
export type PresetNeed = 'demoData' | 'encoder';

export interface Preset {
  name: string;
  summary: string;
  /** Task of --data. */
  task: Task;
  needs: PresetNeed[];
  /** The conditions for the resolved options (shots/epochs overrides applied where the preset allows them). */
  conditions(o: PresetOptions): Condition[];
  /** Whether --shots / --epochs may override the preset's own values. */
  fixedShots?: boolean;
  fixedEpochs?: boolean;
  /** Measures every hidden state whatever `layers` asks (the layers preset). */
  allLayers?: boolean;
}

export interface PresetOptions {
  shots: number;
  epochs: number;
  /** Number of demo–inference similarity bins (demo-similarity). */
  bins: number;
}

/** Defaults of the study (LoRA r=8, alpha=32, dropout 0.05 on q_proj,v_proj; AdamW lr 1e-4; 10 epochs). */
export const STUDY_DEFAULTS = {
  repeats: 30,
  seed: 0,
  shots: 5,
  epochs: 10,
  bins: 10,
  lr: 1e-4,
  weightDecay: 0,
  lora: { r: 8, alpha: 32, dropout: 0.05, targets: ['q_proj', 'v_proj'] },
  /** Repeats of one condition tuned together as a batch of adapters. */
  batch: 4,
} as const;

const NONE: Measures = { accuracy: false, tokenLoss: false };

function base(task: Task, o: PresetOptions, over: Partial<Condition> = {}): Condition {
  return { name: 'default', demoTask: task, labels: 'right', inferenceTask: task, shots: o.shots, epochs: o.epochs, withInstruction: true, measures: NONE, ...over };
}

export const PRESETS: readonly Preset[] = [
  {
    name: 'convergence',
    summary: 'anchor vs ICL vs IT hidden states (right labels)',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'right-labels' })],
  },
  {
    name: 'wrong-label',
    summary: 'demonstrations with right vs flipped labels',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'right-labels' }), base('sentiment', o, { name: 'flipped-labels', labels: 'flipped' })],
  },
  {
    name: 'cross-task',
    summary: 'EN→CS translation demonstrations, sentiment inference (needs --demo-data)',
    task: 'sentiment',
    needs: ['demoData'],
    conditions: (o) => [base('sentiment', o, { name: 'same-task' }), base('sentiment', o, { name: 'translation-demos', demoTask: 'translation' })],
  },
  {
    name: 'demo-similarity',
    summary: 'demonstrations from bins of demo–inference cosine (sentence encoder; needs --encoder)',
    task: 'sentiment',
    needs: ['encoder'],
    conditions: (o) => Array.from({ length: o.bins }, (_, b) => base('sentiment', o, { name: `bin=${b}`, bin: b })),
  },
  {
    name: 'shots',
    summary: '1/2/5/10 demonstrations tuned 10/5/2/1 epochs',
    task: 'sentiment',
    needs: [],
    fixedShots: true,
    fixedEpochs: true,
    conditions: (o) =>
      [
        [1, 10],
        [2, 5],
        [5, 2],
        [10, 1],
      ].map(([k, e]) => base('sentiment', o, { name: `k=${k}`, shots: k, epochs: e })),
  },
  {
    name: 'layers',
    summary: 'anchor vs ICL vs IT at every layer',
    task: 'sentiment',
    needs: [],
    allLayers: true,
    conditions: (o) => [base('sentiment', o, { name: 'all-layers' })],
  },
  {
    name: 'sl',
    summary: 'tuning texts with vs without the instruction (SL)',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'it' }), base('sentiment', o, { name: 'sl', withInstruction: false })],
  },
  {
    name: 'translation',
    summary: 'EN→CS translation as the task',
    task: 'translation',
    needs: [],
    conditions: (o) => [base('translation', o, { name: 'translation' })],
  },
  {
    name: 'accuracy',
    summary: 'zero-shot / ICL / IT label-word accuracy with right vs wrong labels',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [
      base('sentiment', o, { name: 'right-labels', measures: { accuracy: true, tokenLoss: false } }),
      base('sentiment', o, { name: 'flipped-labels', labels: 'flipped', measures: { accuracy: true, tokenLoss: false } }),
    ],
  },
  {
    name: 'token-loss',
    summary: 'per-token loss decrease by prompt part (instruction vs example) after tuning',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'right-labels', measures: { accuracy: false, tokenLoss: true } })],
  },
];

export const PRESET_NAMES: readonly string[] = PRESETS.map((p) => p.name);

export function findPreset(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) throw new UsageError(`unknown preset '${name}' (presets: ${PRESET_NAMES.join(', ')}; or give a .yaml config)`);
  return p;
}

/** The conditions of `preset` with user overrides; checks them (names unique, k ≥ 1, epochs ≥ 1). */
export function resolveConditions(preset: Preset, opts: { shots?: number; epochs?: number; bins?: number }): Condition[] {
  if (opts.shots !== undefined && preset.fixedShots) throw new UsageError(`preset ${preset.name} sets its own shots per condition; drop --shots`);
  if (opts.epochs !== undefined && preset.fixedEpochs) throw new UsageError(`preset ${preset.name} sets its own epochs per condition; drop --epochs`);
  const o: PresetOptions = { shots: opts.shots ?? STUDY_DEFAULTS.shots, epochs: opts.epochs ?? STUDY_DEFAULTS.epochs, bins: opts.bins ?? STUDY_DEFAULTS.bins };
  const conds = preset.conditions(o);
  const names = new Set<string>();
  for (const c of conds) {
    if (names.has(c.name)) throw new IclitError(`preset ${preset.name}: condition '${c.name}' appears twice`);
    names.add(c.name);
    if (!Number.isInteger(c.shots) || c.shots < 1) throw new IclitError(`preset ${preset.name}, condition ${c.name}: shots must be a positive integer, got ${c.shots}`);
    if (!Number.isInteger(c.epochs) || c.epochs < 1) throw new IclitError(`preset ${preset.name}, condition ${c.name}: epochs must be a positive integer, got ${c.epochs}`);
    if (c.labels === 'flipped' && c.demoTask !== 'sentiment') throw new IclitError(`preset ${preset.name}, condition ${c.name}: only sentiment labels can be flipped`);
  }
  return conds;
}
