// One repeat made concrete: its seeded draw (instruction, inference example, demonstrations) and each condition's prompts.
import { deriveSeed, drawRepeat, sampleWithoutReplacement } from '../data/sampling.js';
import { pickPerBin, type BinPick } from '../data/bins.js';
import { anchorPrompt, flipLabels, iclPrompt, taskSpec, tuningTexts, type Prompt, type PromptPart } from '../data/prompts.js';
import type { Dataset, SentimentExample, TranslationExample } from '../data/types.js';
import { seededRandom } from '../util/random.js';
import { IclitError } from '../util/errors.js';
import type { SentenceEmbedder } from './backend.js';
import type { Condition } from './conditions.js';
import { cosine } from '../stats/index.js';

/** What the conditions draw from. */
export interface StudyMaterials {
  /** --data: the inference examples (and the demonstrations of same-task conditions). */
  data: Dataset;
  /** --demo-data: demonstrations of conditions whose demoTask differs from data.task. */
  demoData?: Dataset;
  /** Instruction pool of the inference task. */
  instructions: readonly string[];
  /** demo-similarity: the sentence encoder and the candidate pool size. */
  embedder?: SentenceEmbedder;
  /** How many --data rows (seeded subset) are binned as demonstration candidates; default 1000. */
  similarityCandidates?: number;
}

/** One condition of one repeat, ready to tokenize. `empty`: nothing to compute (a similarity bin without candidates). */
export interface Unit {
  condition: Condition;
  repeat: number;
  seed: number;
  anchor: Prompt;
  icl: Prompt;
  tuning: Prompt[];
  /** Gold label of the inference example (sentiment), for accuracy. */
  goldLabel?: 0 | 1;
  empty: boolean;
  extra: Record<string, number | string | boolean | null>;
}

/** The seed of repeat r of a run (shared by every condition, so the inference example is shared). */
export function repeatSeed(runSeed: number, repeat: number): number {
  return deriveSeed(runSeed, 'repeat', repeat);
}

/** A reusable bin candidate pool: seeded subset of --data and its embeddings (computed once per run). */
export interface CandidatePool {
  indices: number[];
  vectors: ArrayLike<number>[];
}

export function candidatePool(m: StudyMaterials, runSeed: number): CandidatePool {
  if (!m.embedder) throw new IclitError('the demo-similarity preset needs a sentence encoder (--encoder DIR)');
  const n = Math.min(m.similarityCandidates ?? 1000, m.data.examples.length);
  const all = [...Array(m.data.examples.length).keys()];
  const indices = sampleWithoutReplacement(all, n, seededRandom(deriveSeed(runSeed, 'similarity-candidates'))).sort((a, b) => a - b);
  const vectors = m.embedder.embed(indices.map((i) => exampleText(m.data, i)));
  return { indices, vectors };
}

function exampleText(d: Dataset, i: number): string {
  return d.task === 'sentiment' ? d.examples[i].text : d.examples[i].source;
}


/** The parts of `b` appended after `a` (offsets shifted), for prompts built from pieces of two tasks. */
function concatPrompts(...ps: Prompt[]): Prompt {
  let text = '';
  const parts: PromptPart[] = [];
  for (const p of ps) {
    const off = text.length;
    for (const q of p.parts) {
      const r: PromptPart = { ...q, start: q.start + off, end: q.end + off };
      if (q.answer) r.answer = { start: q.answer.start + off, end: q.answer.end + off };
      parts.push(r);
    }
    text += p.text;
  }
  return { text, parts };
}

type AnyExample = SentimentExample | TranslationExample;

/** Prompts of one condition given its demonstrations (of task demoTask) and the inference example. */
function buildPrompts(c: Condition, instruction: string, demos: AnyExample[], inference: AnyExample): { anchor: Prompt; icl: Prompt; tuning: Prompt[] } {
  const inf = taskSpec(c.inferenceTask);
  const anchor = anchorPrompt(inf as never, instruction, inference as never);
  const tuning = tuningTexts(taskSpec(c.demoTask) as never, instruction, demos as never[], { withInstruction: c.withInstruction });
  let icl: Prompt;
  if (c.demoTask === c.inferenceTask) {
    icl = iclPrompt(inf as never, instruction, demos as never[], inference as never);
  } else {
    // Cross-task: instruction of the inference task, demonstrations in their own template, then B.
    const demoSpec = taskSpec(c.demoTask);
    const head = anchor.parts[0].kind === 'instruction' ? { text: anchor.text.slice(0, anchor.parts[0].end), parts: [anchor.parts[0]] } : { text: '', parts: [] };
    const demoPieces = tuningTexts(demoSpec as never, instruction, demos as never[], { withInstruction: false });
    const pieces: Prompt[] = [head];
    demoPieces.forEach((p, i) => {
      pieces.push({ text: p.text, parts: p.parts.map((q) => ({ ...q, index: i })) });
      pieces.push({ text: demoSpec.separator, parts: [{ kind: 'separator', index: i, start: 0, end: demoSpec.separator.length }] });
    });
    pieces.push(anchorPrompt(inf as never, instruction, inference as never, { withInstruction: false }));
    icl = concatPrompts(...pieces);
  }
  return { anchor, icl, tuning };
}

/**
 * The units of repeat `repeat` for `conditions`. One draw per repeat: the instruction and the inference example
 * come from drawRepeat(seed) and are shared by every condition; same-task demonstrations are the first k of one
 * draw of max k (so k = 5 is a prefix of k = 10, and flipped labels flip the same demonstrations). `all`: every
 * condition of the experiment when `conditions` is only the part still to compute.
 */
export function repeatUnits(conditions: Condition[], m: StudyMaterials, runSeed: number, repeat: number, pool?: CandidatePool, all: Condition[] = conditions): Unit[] {
  const seed = repeatSeed(runSeed, repeat);
  const data = m.data;
  // The draw (max k, number of bins) follows every condition of the experiment (`all`), so a repeat resumed for
  // some of its conditions draws exactly what the full repeat drew.
  const sameTask = all.filter((c) => c.demoTask === data.task && c.bin === undefined);
  const maxK = Math.max(0, ...sameTask.map((c) => c.shots));
  const draw = drawRepeat(m.instructions, data.examples as readonly AnyExample[], { k: maxK, seed });
  const instruction = m.instructions[draw.instructionIndex];
  const inference = data.examples[draw.inferenceIndex] as AnyExample;
  const goldLabel = data.task === 'sentiment' ? (inference as SentimentExample).label : undefined;
  const common = { instructionIndex: draw.instructionIndex, inferenceIndex: draw.inferenceIndex };

  let bins: BinPick[] | undefined;
  let simsToInference: number[] | undefined;
  const binned = conditions.filter((c) => c.bin !== undefined);
  if (binned.length > 0) {
    if (!pool || !m.embedder) throw new IclitError('the demo-similarity preset needs a sentence encoder (--encoder DIR)');
    const v = m.embedder.embed([exampleText(data, draw.inferenceIndex)])[0];
    simsToInference = pool.vectors.map((u) => cosine(u, v));
    const self = pool.indices.indexOf(draw.inferenceIndex);
    const allBinned = all.filter((c) => c.bin !== undefined);
    const nBins = Math.max(...allBinned.map((c) => c.bin as number)) + 1;
    const ks = new Set(allBinned.map((c) => c.shots));
    if (ks.size !== 1) throw new IclitError('demo-similarity conditions must share one k');
    bins = pickPerBin(simsToInference, { k: [...ks][0], seed: deriveSeed(seed, 'bins'), nBins, excludeIndex: self >= 0 ? self : undefined });
  }

  return conditions.map((c): Unit => {
    const extra: Unit['extra'] = { ...common, shots: c.shots, epochs: c.epochs, labels: c.labels, demoTask: c.demoTask, withInstruction: c.withInstruction };
    let demos: AnyExample[];
    let demoIndices: number[];
    if (c.bin !== undefined) {
      const b = bins![c.bin];
      Object.assign(extra, { bin: c.bin, binLo: b.lo, binHi: b.hi, binCandidates: b.available });
      if (b.missing) {
        const anchor = anchorPrompt(taskSpec(c.inferenceTask) as never, instruction, inference as never);
        return { condition: c, repeat, seed, anchor, icl: { text: '', parts: [] }, tuning: [], goldLabel, empty: true, extra: { ...extra, empty: true, demoIndices: '' } };
      }
      demoIndices = b.picked.map((i) => pool!.indices[i]);
      extra.demoCosine = b.picked.reduce((s, i) => s + simsToInference![i], 0) / b.picked.length;
      demos = demoIndices.map((i) => data.examples[i] as AnyExample);
    } else if (c.demoTask === data.task) {
      demoIndices = draw.demonstrationIndices.slice(0, c.shots);
      demos = demoIndices.map((i) => data.examples[i] as AnyExample);
    } else {
      const d = m.demoData;
      if (!d || d.task !== c.demoTask) throw new IclitError(`condition ${c.name} needs ${c.demoTask} demonstrations (--demo-data)`);
      demoIndices = sampleWithoutReplacement([...d.examples.keys()], c.shots, seededRandom(deriveSeed(seed, 'demo-data')));
      demos = demoIndices.map((i) => d.examples[i] as AnyExample);
    }
    if (c.labels === 'flipped') demos = flipLabels(demos as SentimentExample[]);
    extra.demoIndices = demoIndices.join(',');
    if (c.bin !== undefined) extra.empty = false;
    const p = buildPrompts(c, instruction, demos, inference);
    return { condition: c, repeat, seed, ...p, goldLabel, empty: false, extra };
  });
}
