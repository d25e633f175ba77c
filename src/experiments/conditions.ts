// The study as data: what a condition is, the presets (one per experiment) and how options resolve them.
import { IclitError, UsageError } from '../util/errors.js';
import type { Task } from '../data/types.js';
import { LORA_DEFAULTS } from '../lora/config.js';

/** What one condition measures beyond the three similarities (which every condition records). */
export interface Measures {
  /** Label-word accuracy of zero-shot / ICL / IT over an evaluation set (classification tasks only). */
  accuracy: boolean;
  /** Per-token loss decrease (base − tuned) on the tuning texts, by prompt part. */
  tokenLoss: boolean;
  /** Causal patching of the anchor run with the ICL / IT runs' last-token states at every layer (src/experiments/patching.ts). */
  patching: boolean;
}

/**
 * One condition of an experiment: everything that decides its prompts and its tuning. Its name only labels it: a
 * condition's numbers depend on these settings and the repeat's draw, never on its name or its preset.
 */
export interface Condition {
  /** Name inside the experiment, e.g. 'right-labels', 'k=5', 'bin=3'. */
  name: string;
  /** Task the demonstrations come from (the --demo-data set when it differs from the inference task). */
  demoTask: Task;
  /**
   * 'wrong': every demonstration's label replaced (classification tasks; how: the wrongLabels method). 'shuffled':
   * each demonstration takes the gold label of the demonstration at its position in another repeat (the
   * shuffled-labels control, src/experiments/controls.ts).
   */
  labels: 'right' | 'wrong' | 'shuffled';
  /** Task of the inference example B (always the --data set). */
  inferenceTask: Task;
  /** Number of demonstrations k (ICL prompt and IT tuning texts). */
  shots: number;
  /** LoRA epochs over the k tuning texts. */
  epochs: number;
  /** false = SL (§4.2): the tuning texts leave out the instruction; the anchor and ICL prompts keep it. */
  withInstruction: boolean;
  /** demo-similarity: the bin (0-based) of demo–inference cosine the demonstrations are drawn from. */
  bin?: number;
  measures: Measures;
  /** 'untrained': the whole condition (anchor, ICL, IT) on a randomly initialised copy of the model (absent: the model's own weights). */
  weights?: 'trained' | 'untrained';
  /** 'random-direction': the IT read goes through an adapter whose every module's weight change s·B'A' has the tuned s·BA's Frobenius norm in a seeded random direction (absent: the tuned ones). */
  itAdapter?: 'tuned' | 'random-direction';
  /** The built-in control this condition is (src/experiments/controls.ts), recorded as extra.control. */
  control?: string;
}

/** What a preset needs besides --model and --data. */
export type PresetNeed = 'demoData' | 'encoder';

export interface Preset {
  name: string;
  summary: string;
  /** The paper's figure this preset reproduces (captions, the report's findings). */
  figure: string;
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

/**
 * Defaults of the study, as the paper ran it: 30 repeats; one demonstration in every analysis but the shots one
 * (§3.2, number of demonstrations); LoRA r=8, alpha=32, dropout 0.05 on q_proj and
 * v_proj (LORA_DEFAULTS, src/lora); AdamW, lr 1e-4, 10 epochs; 10 similarity bins. batch and evalExamples are iclit's own.
 */
export const STUDY_DEFAULTS = {
  repeats: 30,
  seed: 0,
  shots: 1,
  epochs: 10,
  bins: 10,
  lr: 1e-4,
  /**
   * The paper tunes with AdamW at lr 1e-4 through Hugging Face transformers and names no schedule: the Trainer's
   * default, lr_scheduler_type "linear" (no warmup), decays the rate to 0 over the steps.
   */
  lrSchedule: 'linear' as 'constant' | 'linear',
  weightDecay: 0,
  lora: LORA_DEFAULTS,
  /** Repeats of one condition tuned together as a batch of adapters: the CPU's default when memory allows (8: 23% faster than 4 per repeat on 2 cores, BENCHMARKS.md); CUDA sizes it to memory. */
  batch: 8,
  /** Accuracy preset: evaluation examples per repeat (drawn without the demonstrations). */
  evalExamples: 100,
} as const;

const NONE: Measures = { accuracy: false, tokenLoss: false, patching: false };

function base(task: Task, o: PresetOptions, over: Partial<Condition> = {}): Condition {
  return { name: 'default', demoTask: task, labels: 'right', inferenceTask: task, shots: o.shots, epochs: o.epochs, withInstruction: true, measures: NONE, ...over };
}

export const PRESETS: readonly Preset[] = [
  {
    name: 'convergence',
    figure: 'Fig. 3a, Fig. 8a',
    summary: 'anchor vs ICL vs IT hidden states (right labels)',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'right-labels' })],
  },
  {
    name: 'wrong-label',
    figure: 'Fig. 3b',
    summary: 'demonstrations with right vs wrong labels',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'right-labels' }), base('sentiment', o, { name: 'wrong-labels', labels: 'wrong' })],
  },
  {
    name: 'cross-task',
    figure: 'Fig. 3c',
    summary: 'EN→CS translation demonstrations, sentiment inference (needs --demo-data)',
    task: 'sentiment',
    needs: ['demoData'],
    conditions: (o) => [base('sentiment', o, { name: 'same-task' }), base('sentiment', o, { name: 'translation-demos', demoTask: 'translation' })],
  },
  {
    name: 'demo-similarity',
    figure: 'Fig. 4a, Fig. 4b, Fig. 4c',
    summary: 'demonstrations from bins of demo–inference cosine (sentence encoder; needs --encoder)',
    task: 'sentiment',
    needs: ['encoder'],
    conditions: (o) => Array.from({ length: o.bins }, (_, b) => base('sentiment', o, { name: `bin=${b}`, bin: b })),
  },
  {
    name: 'shots',
    figure: 'Fig. 5',
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
    figure: 'Fig. 7',
    summary: 'anchor vs ICL vs IT at every layer',
    task: 'sentiment',
    needs: [],
    allLayers: true,
    conditions: (o) => [base('sentiment', o, { name: 'all-layers' })],
  },
  {
    name: 'sl',
    figure: 'Fig. 8b',
    summary: 'tuning texts with vs without the instruction (SL)',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'it' }), base('sentiment', o, { name: 'sl', withInstruction: false })],
  },
  {
    name: 'translation',
    figure: 'Fig. 8c, footnote 6',
    summary: 'EN→CS translation as the task',
    task: 'translation',
    needs: [],
    conditions: (o) => [base('translation', o, { name: 'translation' })],
  },
  {
    name: 'accuracy',
    figure: 'Fig. 6',
    summary: 'zero-shot / ICL / IT accuracy over an evaluation set, with right vs wrong labels',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [
      base('sentiment', o, { name: 'right-labels', measures: { ...NONE, accuracy: true } }),
      base('sentiment', o, { name: 'wrong-labels', labels: 'wrong', measures: { ...NONE, accuracy: true } }),
    ],
  },
  {
    name: 'token-loss',
    figure: 'Fig. 10',
    summary: 'per-token loss decrease by prompt part (instruction vs example) after tuning',
    task: 'sentiment',
    needs: [],
    conditions: (o) => [base('sentiment', o, { name: 'right-labels', measures: { ...NONE, tokenLoss: true } })],
  },
  {
    name: 'patching',
    figure: 'none (not in the paper)',
    summary: 'causal patching: the anchor run with the ICL / IT runs\' last-token state at each layer (share of the output gap closed)',
    task: 'sentiment',
    needs: [],
    // every hidden state is read anyway: the patch points are 0..n−1 and their donors' states are the ones measured
    allLayers: true,
    conditions: (o) => [base('sentiment', o, { name: 'right-labels', measures: { ...NONE, patching: true } })],
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
  }
  return conds;
}
