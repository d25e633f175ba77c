// The choices the paper leaves open, as options with the study's choice as default (recorded in the manifest; docs/METHODS.md).
import { SENTIMENT_LABEL_WORDS, TASK_SPECS, splitTemplate, withLabelWords, type InstructionPlacement, type TaskSpec, type TemplateChoice, type WrongLabelRule } from '../data/index.js';
import type { Task } from '../data/types.js';
import { IclitError } from '../util/errors.js';

/** How the similarity bins of demo-similarity are cut: equal widths over [0, 1], or equal counts of candidates. */
export type BinEdges = 'equal-width' | 'quantile';

/** Which tokens of a tuning text carry the LoRA loss: every token (the study's choice) or the answer only. */
export type TuneLossTokens = 'all' | 'answer';

/** The instruction of a cross-task ICL prompt: the inference task's (before the demonstrations), or none. */
export type CrossTaskInstruction = 'inference-task' | 'none';

export interface Methods {
  /** One template per task: "{instruction}\n…{answer slot}" (see src/data/prompts.ts). */
  templates: Record<Task, string>;
  /** Between demonstrations and before the inference example. */
  separator: string;
  /** Label words of the classification task, by label index (sentiment: negative, positive). */
  labels: string[];
  /** 'task': each task's own (the paper's: once for sentiment, §2; before every example for translation, footnote 5). */
  instructionPlacement: InstructionPlacement | 'task';
  tuneLoss: TuneLossTokens;
  wrongLabels: WrongLabelRule;
  binEdges: BinEdges;
  crossTaskInstruction: CrossTaskInstruction;
  /** Render prompts through the model folder's chat template (tokenizer_config.json). */
  chatTemplate: boolean;
}

/** The study's choices. */
export const DEFAULT_METHODS: Methods = {
  templates: { sentiment: TASK_SPECS.sentiment.template, translation: TASK_SPECS.translation.template },
  separator: '\n\n',
  labels: [...SENTIMENT_LABEL_WORDS],
  instructionPlacement: 'task',
  tuneLoss: 'all',
  wrongLabels: 'flip',
  binEdges: 'equal-width',
  crossTaskInstruction: 'inference-task',
  chatTemplate: false,
};

/** The enumerated methods and their allowed values (settings parsing and docs/METHODS.md use this). */
export const METHOD_CHOICES = {
  instructionPlacement: ['task', 'once', 'every-example'],
  tuneLoss: ['all', 'answer'],
  wrongLabels: ['flip', 'random'],
  binEdges: ['equal-width', 'quantile'],
  crossTaskInstruction: ['inference-task', 'none'],
} as const satisfies Partial<Record<keyof Methods, readonly string[]>>;

/** The template choice of one task under `m`. */
export function templateChoice(m: Methods, task: Task): TemplateChoice {
  return { template: m.templates[task], separator: m.separator, labelWords: m.labels, instructionPlacement: m.instructionPlacement === 'task' ? undefined : m.instructionPlacement };
}

/** Checks every template against its task's slots and shape; throws naming the task. */
export function checkMethods(m: Methods): void {
  for (const task of Object.keys(TASK_SPECS) as Task[]) {
    const spec = TASK_SPECS[task];
    const t = m.templates[task];
    try {
      splitTemplate(t, spec.answerSlot);
    } catch (e) {
      throw new IclitError(`methods: template of ${task}: ${(e as Error).message}`);
    }
  }
  if (m.separator === '') throw new IclitError('methods: separator must not be empty');
  for (const spec of Object.values(TASK_SPECS) as TaskSpec<unknown>[]) {
    if (!spec.scoring) continue;
    try {
      withLabelWords(spec, m.labels);
    } catch (e) {
      throw new IclitError(`labels: ${(e as Error).message}`);
    }
  }
}
