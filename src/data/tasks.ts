// Task knowledge as data: each task's template, answer slot, separator, scoring and wrong labels, and a typed view of a data set through it.
import { IclitError } from '../util/errors.js';
import { anchorPrompt, iclPrompt, splitTemplate, tuningTexts, type InstructionPlacement, type Prompt, type PromptOptions } from './prompts.js';
import type { Dataset, SentimentExample, Task, TranslationExample } from './types.js';

/** How a classification task is scored: the label words, an example's gold label, and an example with another label. */
export interface Scoring<E> {
  /** Label words by label index; accuracy compares the logits of their first tokens after the prompt. */
  labelWords: readonly string[];
  gold(example: E): number;
  relabel(example: E, label: number): E;
}

/** A template and how to fill it from one example of type E. */
export interface TaskSpec<E> {
  task: Task;
  /** The full template of one tuning text: starts with "{instruction}", ends with the answer slot. */
  template: string;
  /** The slot that holds the answer ("label" / "target"); the inference example stops right before it. */
  answerSlot: string;
  /** Between demonstrations, and between the last demonstration and the inference example. */
  separator: string;
  /** Where the paper's ICL prompt of this task holds the instruction: once (§2, sentiment) or before every example (footnote 5, translation). */
  instructionPlacement: InstructionPlacement;
  /** The slot values of one example, the answer slot included. */
  slots(example: E): Record<string, string>;
  /** The example's input as a sentence encoder reads it (demo–inference similarity). */
  inputText(example: E): string;
  /** Classification tasks only: label words, gold labels and relabelling (accuracy, wrong labels). */
  scoring?: Scoring<E>;
}

/** The paper's label words by label index (§2: its example demonstration ends in "Sentiment: Positive"). */
export const SENTIMENT_LABEL_WORDS = ['Negative', 'Positive'] as const;

function labelWord(words: readonly string[], label: number): string {
  const w = words[label];
  if (w === undefined) throw new IclitError(`label ${label} has no label word (label words: ${words.join(', ')})`);
  return w;
}

export const SENTIMENT_SPEC: TaskSpec<SentimentExample> = {
  task: 'sentiment',
  template: '{instruction}\nReview: {text}\nSentiment: {label}',
  answerSlot: 'label',
  separator: '\n\n',
  instructionPlacement: 'once',
  slots: (e) => ({ text: e.text, label: labelWord(SENTIMENT_LABEL_WORDS, e.label) }),
  inputText: (e) => e.text,
  scoring: {
    labelWords: SENTIMENT_LABEL_WORDS,
    gold: (e) => e.label,
    relabel: (e, label) => {
      if (label !== 0 && label !== 1) throw new IclitError(`sentiment label must be 0 or 1, got ${label}`);
      return { text: e.text, label };
    },
  },
};

export const TRANSLATION_SPEC: TaskSpec<TranslationExample> = {
  task: 'translation',
  template: '{instruction}\nEnglish: {source}\nCzech: {target}',
  answerSlot: 'target',
  separator: '\n\n',
  instructionPlacement: 'every-example',
  slots: (e) => ({ source: e.source, target: e.target }),
  inputText: (e) => e.source,
};

/**
 * A classification task's spec with other label words (by label index): the answer slot holds words[gold(e)]. Throws
 * for a task without labels or a word count that differs from the task's.
 */
export function withLabelWords<E>(spec: TaskSpec<E>, words: readonly string[]): TaskSpec<E> {
  const scoring = spec.scoring;
  if (!scoring) throw new IclitError(`${spec.task} has no labels; label words apply to classification tasks only`);
  if (words.length !== scoring.labelWords.length) throw new IclitError(`${spec.task} needs ${scoring.labelWords.length} label words (for ${scoring.labelWords.join(', ')}), got ${words.length}`);
  if (words.some((w) => w.trim() === '') || new Set(words).size !== words.length) throw new IclitError(`label words must be distinct and non-empty, got ${JSON.stringify(words)}`);
  return { ...spec, slots: (e) => ({ ...spec.slots(e), [spec.answerSlot]: labelWord(words, scoring.gold(e)) }), scoring: { ...scoring, labelWords: [...words] } };
}

/** The example type of each task. */
export interface ExampleOf {
  sentiment: SentimentExample;
  translation: TranslationExample;
}

/** The built-in spec of every task (the registry new tasks are added to). */
export const TASK_SPECS: { [T in Task]: TaskSpec<ExampleOf[T]> } = { sentiment: SENTIMENT_SPEC, translation: TRANSLATION_SPEC };

/** The built-in spec of a task. */
export function taskSpec<T extends Task>(task: T): TaskSpec<ExampleOf[T]> {
  const spec = TASK_SPECS[task];
  if (!spec) throw new IclitError(`unknown task "${String(task)}" (expected ${Object.keys(TASK_SPECS).join(' or ')})`);
  return spec;
}

/** The gold answer text of an example: its label word or its target sentence. */
export function answerOf<E>(spec: TaskSpec<E>, example: E): string {
  const v = spec.slots(example)[spec.answerSlot];
  if (typeof v !== 'string') throw new IclitError(`template ${JSON.stringify(spec.template)}: the answer slot {${spec.answerSlot}} has no value`);
  return v;
}

/** How wrong-label demonstrations are made: every label replaced by the next one ('flip'), or drawn at random ('random'). */
export type WrongLabelRule = 'flip' | 'random';

/** A demonstration by data index, with its label replaced when `label` is given (wrong-label conditions). */
export interface DemoRef {
  index: number;
  label?: number;
}

/** Prompt-shape choices the study leaves open (see docs/METHODS.md). */
export interface TemplateChoice {
  /** Replaces the task's template (same slots; must start with {instruction} and end with the answer slot). */
  template?: string;
  separator?: string;
  /** Replaces a classification task's label words (by label index); ignored by tasks without labels. */
  labelWords?: readonly string[];
  /** Replaces the task's own instruction placement. */
  instructionPlacement?: InstructionPlacement;
}

/**
 * One data set seen through its task: prompts by data index, gold labels, input texts. Built once per data set, it
 * hides the example type, so study code handles either task without casts or task names.
 */
export interface TaskExamples {
  readonly task: Task;
  readonly size: number;
  /** The spec's template and separator in force (after TemplateChoice). */
  readonly template: string;
  readonly separator: string;
  /** Where the ICL prompt holds the instruction (the task's own, or the choice's). */
  readonly instructionPlacement: InstructionPlacement;
  /** Label words when the task is a classification task (accuracy, wrong labels), else undefined. */
  readonly labelWords: readonly string[] | undefined;
  /** What the template puts between a prompt's end and the answer (' ' in "Sentiment: {label}"). */
  readonly answerSeparator: string;
  /** Gold label of example i (classification tasks), else undefined. */
  gold(i: number): number | undefined;
  /** Example i's input text, as a sentence encoder reads it. */
  inputText(i: number): string;
  anchor(instruction: string, inference: number, opts?: PromptOptions): Prompt;
  icl(instruction: string, demos: readonly DemoRef[], inference: number, opts?: PromptOptions): Prompt;
  tuning(instruction: string, demos: readonly DemoRef[], opts?: PromptOptions): Prompt[];
}

function bind<E>(spec: TaskSpec<E>, examples: readonly E[], file: string): TaskExamples {
  const at = (i: number): E => {
    const e = examples[i];
    if (e === undefined) throw new IclitError(`${file}: example index ${i} is outside the data (0..${examples.length - 1})`);
    return e;
  };
  const demo = (d: DemoRef): E => {
    const e = at(d.index);
    if (d.label === undefined) return e;
    if (!spec.scoring) throw new IclitError(`${spec.task} examples have no labels to replace (only classification tasks have wrong-label conditions)`);
    return spec.scoring.relabel(e, d.label);
  };
  return {
    task: spec.task,
    size: examples.length,
    template: spec.template,
    separator: spec.separator,
    instructionPlacement: spec.instructionPlacement,
    labelWords: spec.scoring?.labelWords,
    answerSeparator: answerSeparatorOf(spec),
    gold: (i) => (spec.scoring ? spec.scoring.gold(at(i)) : undefined),
    inputText: (i) => spec.inputText(at(i)),
    anchor: (instruction, inference, opts) => anchorPrompt(spec, instruction, at(inference), opts),
    icl: (instruction, demos, inference, opts) => iclPrompt(spec, instruction, demos.map(demo), at(inference), { instructionPlacement: spec.instructionPlacement, ...opts }),
    tuning: (instruction, demos, opts) => tuningTexts(spec, instruction, demos.map(demo), opts),
  };
}

/** The text between the inference piece's end and the answer slot in the demonstration piece. */
function answerSeparatorOf<E>(spec: TaskSpec<E>): string {
  const pieces = splitTemplate(spec.template, spec.answerSlot);
  return pieces.demonstration.slice(pieces.inference.length, pieces.demonstration.length - `{${spec.answerSlot}}`.length);
}

function specFor<T extends Task>(task: T, choice: TemplateChoice): TaskSpec<ExampleOf[T]> {
  const base = taskSpec(task);
  const spec = choice.labelWords && base.scoring ? withLabelWords(base, choice.labelWords) : base;
  return {
    ...spec,
    template: choice.template ?? spec.template,
    separator: choice.separator ?? spec.separator,
    instructionPlacement: choice.instructionPlacement ?? spec.instructionPlacement,
  };
}

function bindTask<T extends Task>(task: T, examples: readonly ExampleOf[T][], file: string, choice: TemplateChoice): TaskExamples {
  return bind(specFor(task, choice), examples, file);
}

/** The data set seen through its task's spec (with the template choice applied). */
export function taskExamples(data: Dataset, choice: TemplateChoice = {}): TaskExamples {
  return bindTask(data.task, data.examples, data.file, choice);
}
