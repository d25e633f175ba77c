// Training text in the study's prompt formats: an instruction from the project's pools, k demonstrations, the example answered.
import { IclitError } from '../../util/errors.js';
import { SENTIMENT_INSTRUCTIONS, TRANSLATION_INSTRUCTIONS } from '../instructions.js';
import { iclPrompt } from '../prompts.js';
import { answerOf, SENTIMENT_SPEC, TRANSLATION_SPEC, withLabelWords, type TaskSpec } from '../tasks.js';
import type { SentimentExample, Task, TranslationExample } from '../types.js';
import { makeDraw, type Draw } from './random.js';
import { drawLabelPair } from './coded.js';

export interface TrainingTextOptions {
  /** Largest number of demonstrations before the answered example (k is drawn from 0..maxShots). Default 5. */
  maxShots?: number;
  /** Share of texts without the instruction line (the SL format). Default 0.15. */
  noInstruction?: number;
  /** Share of sentiment texts whose demonstrations are translation pairs (the cross-task format). Default 0.05. */
  crossTask?: number;
  /** Share of texts that are sentiment texts (the rest are translation). Default 0.5. */
  sentimentShare?: number;
  /** Share of sentiment texts whose two label words are a pseudo-word pair drawn for the text (coded.ts). Default 0. */
  pseudoLabels?: number;
  /** Instruction pools (default: the project's own). */
  sentimentInstructions?: readonly string[];
  translationInstructions?: readonly string[];
}

/** One training text and what it holds. */
export interface TrainingText {
  task: Task;
  shots: number;
  withInstruction: boolean;
  text: string;
  /** The label words of a sentiment text whose labels are not negative / positive: [label 0, label 1]. */
  labelWords?: [string, string];
}

/** The full text of an answered prompt: the ICL prompt, a space, the answer (as a demonstration holds it). */
function answered<E>(spec: TaskSpec<E>, instruction: string, demos: readonly E[], example: E, withInstruction: boolean): string {
  return `${iclPrompt(spec, instruction, demos, example, { withInstruction }).text} ${answerOf(spec, example)}`;
}

function pickDistinct<T>(d: Draw, items: readonly T[], k: number, avoid: number): T[] {
  if (items.length < k + 1) throw new IclitError(`need at least ${k + 1} examples to draw ${k} demonstrations, have ${items.length}`);
  const chosen = new Set<number>([avoid]);
  const out: T[] = [];
  while (out.length < k) {
    const i = Math.floor(d.next() * items.length);
    if (chosen.has(i)) continue;
    chosen.add(i);
    out.push(items[i]);
  }
  return out;
}

/**
 * `n` training texts, sentiment (share `sentimentShare`, spread evenly) and translation, each an answered prompt built with src/data's
 * templates: instruction (from the pools; left out for a share of texts) + k demonstrations (k uniform in
 * 0..maxShots, drawn from the same examples) + the example with its answer. Deterministic from `seed`.
 */
export function generateTrainingTexts(
  n: number,
  seed: number,
  sentiment: readonly SentimentExample[],
  translation: readonly TranslationExample[],
  opts: TrainingTextOptions = {},
): TrainingText[] {
  const maxShots = opts.maxShots ?? 5;
  const noInstruction = opts.noInstruction ?? 0.15;
  const crossTask = opts.crossTask ?? 0.05;
  const sentimentShare = opts.sentimentShare ?? 0.5;
  const pseudoLabels = opts.pseudoLabels ?? 0;
  const sPool = opts.sentimentInstructions ?? SENTIMENT_INSTRUCTIONS;
  const tPool = opts.translationInstructions ?? TRANSLATION_INSTRUCTIONS;
  if (!Number.isInteger(maxShots) || maxShots < 0) throw new IclitError(`maxShots must be a non-negative integer, got ${maxShots}`);
  if (sentiment.length === 0 || translation.length === 0) throw new IclitError('training texts need both sentiment and translation examples');
  const d = makeDraw(seed);
  const out: TrainingText[] = [];
  for (let i = 0; i < n; i++) {
    const withInstruction = !d.chance(noInstruction);
    const shots = d.int(0, maxShots);
    if (Math.floor((i + 1) * sentimentShare) > Math.floor(i * sentimentShare)) {
      const at = Math.floor(d.next() * sentiment.length);
      const cross = shots > 0 && d.chance(crossTask);
      const instruction = d.pick(sPool);
      const labelWords = !cross && pseudoLabels > 0 && d.chance(pseudoLabels) ? drawLabelPair(d) : undefined;
      const spec = labelWords ? withLabelWords(SENTIMENT_SPEC, labelWords) : DEMO_SENTIMENT_SPEC;
      // The cross-task format: translation pairs as demonstrations before a sentiment example (what cross-task measures).
      const text = cross
        ? crossTaskText(instruction, pickDistinct(d, translation, shots, -1), sentiment[at], withInstruction)
        : answered(spec, instruction, pickDistinct(d, sentiment, shots, at), sentiment[at], withInstruction);
      out.push({ task: 'sentiment', shots, withInstruction, text, ...(labelWords ? { labelWords } : {}) });
    } else {
      const at = Math.floor(d.next() * translation.length);
      const text = answered(TRANSLATION_SPEC, d.pick(tPool), pickDistinct(d, translation, shots, at), translation[at], withInstruction);
      out.push({ task: 'translation', shots, withInstruction, text });
    }
  }
  return out;
}

/** The label words the demo model (models/iclit-demo) was pretrained with: lowercase (the study's default is the paper's "Negative" / "Positive"; the demo passes --labels negative,positive). */
export const DEMO_LABEL_WORDS = ['negative', 'positive'] as const;
/** The sentiment template of the demo corpus, with its label words (the instruction still says "negative or positive"). */
export const DEMO_SENTIMENT_SPEC: TaskSpec<SentimentExample> = withLabelWords(SENTIMENT_SPEC, DEMO_LABEL_WORDS);

/** Translation demonstrations, then a sentiment inference example with its label (the cross-task prompt, answered). */
function crossTaskText(instruction: string, demos: readonly TranslationExample[], example: SentimentExample, withInstruction: boolean): string {
  const icl = iclPrompt(TRANSLATION_SPEC, instruction, demos, { source: '', target: '' }, { withInstruction });
  const demoPart = icl.text.slice(0, icl.parts[icl.parts.length - 1].start);
  const anchor = iclPrompt(DEMO_SENTIMENT_SPEC, instruction, [], example, { withInstruction });
  const inference = anchor.text.slice(anchor.parts[anchor.parts.length - 1].start);
  return `${demoPart}${inference} ${answerOf(DEMO_SENTIMENT_SPEC, example)}`;
}

/**
 * [start, end) spans of the answers in a training text: every label word after "Sentiment:" and every Czech
 * sentence after "Czech:", each with the space before it (so that a BPE boundary falls at the span's start).
 */
export function answerSpans(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const m of text.matchAll(/(?:^|\n)(?:Sentiment|Czech):( [^\n]+)/g)) {
    const end = m.index + m[0].length;
    out.push({ start: end - m[1].length, end });
  }
  return out;
}
