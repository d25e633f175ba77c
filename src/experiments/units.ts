// One repeat made concrete: its seeded draw (instruction, inference example, demonstrations) and each condition's prompts.
import { chatPrompt, deriveSeed, drawRepeat, pickPerBin, sampleWithoutReplacement, taskExamples, type BinPick, type DemoRef, type Prompt, type PromptPart, type TaskExamples } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import { cosine } from '../stats/index.js';
import { answerSeparator, type ChatTemplate } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import type { TextEmbedder } from './backend.js';
import { STUDY_DEFAULTS, type Condition } from './conditions.js';
import { templateChoice, type Methods } from './methods.js';

/** What the conditions draw from. */
export interface StudyMaterials {
  /** --data: the inference examples (and the demonstrations of same-task conditions). */
  data: Dataset;
  /** --demo-data: demonstrations of conditions whose demoTask differs from data.task. */
  demoData?: Dataset;
  /** Instruction pool of the inference task. */
  instructions: readonly string[];
  /** demo-similarity: the sentence encoder and the candidate pool size. */
  embedder?: TextEmbedder;
  /** How many --data rows (seeded subset) are binned as demonstration candidates; default every row. */
  similarityCandidates?: number;
}

/** The materials seen through their tasks' templates (built once per run): what a repeat draws from. */
export interface TaskMaterials {
  data: TaskExamples;
  demoData?: TaskExamples;
  instructions: readonly string[];
  embedder?: TextEmbedder;
  /** Undefined: every row of --data. */
  similarityCandidates: number | undefined;
  methods: Methods;
}

export function taskMaterials(m: StudyMaterials, methods: Methods): TaskMaterials {
  return {
    data: taskExamples(m.data, templateChoice(methods, m.data.task)),
    demoData: m.demoData && taskExamples(m.demoData, templateChoice(methods, m.demoData.task)),
    instructions: m.instructions,
    embedder: m.embedder,
    similarityCandidates: m.similarityCandidates,
    methods,
  };
}

/** Accuracy conditions: every evaluation example as a zero-shot (anchor) and an ICL prompt, with its gold label. */
export interface Evaluation {
  anchor: Prompt[];
  icl: Prompt[];
  gold: number[];
  labelWords: readonly string[];
  /** What stands between a prompt's end and the answer word (the template's, or the chat template's). */
  answerSeparator: string;
}

/** demo-similarity: the bin a unit's demonstrations come from. */
export interface UnitBin {
  index: number;
  /** The bin's cosine range [lo, hi) and how many candidates it held. */
  lo: number;
  hi: number;
  candidates: number;
  /** Mean demo–inference cosine of the picked demonstrations (absent when the bin was empty). */
  demoCosine?: number;
}

/**
 * One condition of one repeat, ready to render and tokenize. `empty`: nothing to compute (a similarity bin without
 * candidates). The draw is kept as numbers: rows of --data (instruction, inference) and of the condition's
 * demonstration set.
 */
export interface Unit {
  condition: Condition;
  repeat: number;
  seed: number;
  instructionIndex: number;
  inferenceIndex: number;
  demoIndices: number[];
  bin?: UnitBin;
  anchor: Prompt;
  icl: Prompt;
  tuning: Prompt[];
  evaluation?: Evaluation;
  /** Classification tasks: the inference task's label words and what stands between a prompt's end and one (as Evaluation's). */
  labelWords?: { words: readonly string[]; answerSeparator: string };
  empty: boolean;
}

/**
 * A unit with its prompts rendered through a model folder's chat template (reads end with the generation prompt,
 * tuning texts with the answer's end of turn); the unit itself without one. The draw does not depend on the model,
 * so a run draws once and renders per model.
 */
export function renderUnit(u: Unit, chat?: ChatTemplate): Unit {
  if (!chat) return u;
  const read = (p: Prompt): Prompt => chatPrompt(chat, p, true);
  const tune = (p: Prompt): Prompt => chatPrompt(chat, p, false);
  const e = u.evaluation;
  return {
    ...u,
    anchor: read(u.anchor),
    icl: u.empty ? u.icl : read(u.icl),
    tuning: u.tuning.map(tune),
    evaluation: e && { ...e, anchor: e.anchor.map(read), icl: e.icl.map(read), answerSeparator: answerSeparator(chat) },
    ...(u.labelWords ? { labelWords: { ...u.labelWords, answerSeparator: answerSeparator(chat) } } : {}),
  };
}

/** The seed of repeat r of a run (shared by every condition, so the inference example is shared). */
export function repeatSeed(runSeed: number, repeat: number): number {
  return deriveSeed(runSeed, 'repeat', repeat);
}

/**
 * A reusable bin candidate pool: every row of --data (or a seeded subset of --candidates rows) and its embeddings
 * (computed once per run). The inference example stays in the pool: the paper's top similarity level is the
 * demonstration identical to it (similarity 1).
 */
export interface CandidatePool {
  indices: number[];
  vectors: ArrayLike<number>[];
}

export function candidatePool(v: TaskMaterials, runSeed: number): CandidatePool {
  if (!v.embedder) throw new IclitError('the demo-similarity preset needs a sentence encoder (--encoder DIR)');
  const all = [...Array(v.data.size).keys()];
  const n = Math.min(v.similarityCandidates ?? all.length, all.length);
  const indices = n === all.length ? all : sampleWithoutReplacement(all, n, seededRandom(deriveSeed(runSeed, 'similarity-candidates'))).sort((a, b) => a - b);
  const vectors = v.embedder.embed(indices.map((i) => v.data.inputText(i)));
  return { indices, vectors };
}

/** Prompts concatenated (part offsets shifted), for prompts built from pieces of two tasks. */
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

/**
 * The ICL prompt of a condition whose demonstrations come from another task: the inference task's instruction (or
 * none, by crossTaskInstruction), the demonstrations in their own template, then B; when the demonstration task
 * places the instruction before every example (translation, the paper's footnote 5) the instruction stands before
 * each demonstration and again before B. Its tuning texts are the inference task's instruction + one demonstration
 * in its own template (X + "English: … Czech: …").
 */
function crossTaskIcl(v: TaskMaterials, demoSet: TaskExamples, instruction: string, demos: DemoRef[], inference: number): Prompt {
  const anchor = v.data.anchor(instruction, inference);
  const withHead = v.methods.crossTaskInstruction === 'inference-task' && anchor.parts[0].kind === 'instruction';
  const every = withHead && demoSet.instructionPlacement === 'every-example';
  const head = (index: number): Prompt => ({ text: anchor.text.slice(0, anchor.parts[0].end), parts: [{ ...anchor.parts[0], index }] });
  const pieces: Prompt[] = [withHead ? head(0) : { text: '', parts: [] }];
  demoSet.tuning(instruction, demos, { withInstruction: false }).forEach((p, i) => {
    if (every && i > 0) pieces.push(head(i));
    pieces.push({ text: p.text, parts: p.parts.map((q) => ({ ...q, index: i })) });
    pieces.push({ text: demoSet.separator, parts: [{ kind: 'separator', index: i, start: 0, end: demoSet.separator.length }] });
  });
  if (every) pieces.push(head(demos.length));
  pieces.push(v.data.anchor(instruction, inference, { withInstruction: false }));
  return concatPrompts(...pieces);
}

/** The wrong label of demonstration `index` under the rule in force (classification tasks). */
function wrongLabel(v: TaskMaterials, set: TaskExamples, index: number, seed: number): number {
  const words = set.labelWords;
  const gold = set.gold(index);
  if (!words || gold === undefined) throw new IclitError(`${set.task} demonstrations have no labels; a wrong-label condition needs a classification task`);
  if (v.methods.wrongLabels === 'random') return Math.floor(seededRandom(deriveSeed(seed, 'wrong-label', index))() * words.length);
  return (gold + 1) % words.length;
}

/** The last shuffled-labels cycle computed (by run seed and repeats): every unit of a run asks for the same one. */
let donorCache: { key: string; next: Int32Array } | undefined;

/**
 * shuffled-labels: the repeat whose demonstrations lend repeat `repeat` their gold labels. The repeats 0..repeats−1
 * in a seeded random order form one cycle and each repeat takes the next one's: a permutation of the repeats that
 * never maps a repeat to itself, decided by the run seed and the number of repeats alone (so shards agree).
 */
export function labelDonor(runSeed: number, repeats: number, repeat: number): number {
  if (!Number.isSafeInteger(repeats) || repeats < 2) throw new IclitError(`the shuffled-labels control takes labels from another repeat: it needs at least 2 repeats, got ${repeats}`);
  const key = `${runSeed}/${repeats}`;
  if (donorCache?.key !== key) {
    const order = sampleWithoutReplacement([...Array(repeats).keys()], repeats, seededRandom(deriveSeed(runSeed, 'shuffled-labels')));
    const next = new Int32Array(repeats);
    order.forEach((r, i) => (next[r] = order[(i + 1) % repeats]));
    donorCache = { key, next };
  }
  return donorCache.next[repeat];
}

/**
 * The shuffled labels of a condition's `k` demonstrations in repeat `repeat`: demonstration i takes the gold label of
 * demonstration i of the donor repeat (labelDonor), that repeat's own draw (drawRepeat by its seed; the first k of a
 * draw do not depend on its size, so these are its same-task demonstrations).
 */
function shuffledLabels(v: TaskMaterials, set: TaskExamples, runSeed: number, repeat: number, repeats: number | undefined, k: number): number[] {
  if (set !== v.data || !set.labelWords) throw new IclitError(`the shuffled-labels control needs labelled demonstrations of the --data task (${set.task} demonstrations have no labels)`);
  if (repeats === undefined) throw new IclitError('shuffled labels need the number of repeats of the run');
  const donor = drawRepeat(v.instructions, v.data.size, { k, seed: repeatSeed(runSeed, labelDonor(runSeed, repeats, repeat)) });
  return donor.demonstrationIndices.map((i) => {
    const gold = v.data.gold(i);
    if (gold === undefined) throw new IclitError(`${set.task} row ${i} has no label; the shuffled-labels control needs labelled data`);
    return gold;
  });
}

/**
 * The evaluation set of an accuracy condition: the first `n` indices of a seeded permutation of the data (one per
 * repeat) that are neither a demonstration nor the inference example, so right- and wrong-label conditions of a
 * repeat are scored on the same examples.
 */
function evaluationIndices(size: number, n: number, seed: number, exclude: Set<number>): number[] {
  const order = sampleWithoutReplacement([...Array(size).keys()], size, seededRandom(deriveSeed(seed, 'evaluation')));
  const picked = order.filter((i) => !exclude.has(i)).slice(0, n);
  if (picked.length < n) throw new IclitError(`cannot draw ${n} evaluation examples from ${size} rows (${exclude.size} are demonstrations or the inference example); lower --eval-examples`);
  return picked;
}

/**
 * The units of repeat `repeat` for `conditions`. One draw per repeat: the instruction and the inference example
 * come from drawRepeat(seed) and are shared by every condition; same-task demonstrations are the first k of one
 * draw (the first j of a draw do not depend on its size, so a condition's demonstrations depend on its own k only,
 * and wrong labels relabel the same demonstrations). `all`: every condition of the experiment when `conditions`
 * is only the part still to compute (the bins' draw follows all of them).
 */
export function repeatUnits(conditions: Condition[], v: TaskMaterials, runSeed: number, repeat: number, opts: { pool?: CandidatePool; all?: Condition[]; evalExamples?: number; repeats?: number } = {}): Unit[] {
  const all = opts.all ?? conditions;
  const seed = repeatSeed(runSeed, repeat);
  const data = v.data;
  const sameTask = all.filter((c) => c.demoTask === data.task && c.bin === undefined);
  const maxK = Math.max(0, ...sameTask.map((c) => c.shots));
  const draw = drawRepeat(v.instructions, data.size, { k: maxK, seed });
  const instruction = v.instructions[draw.instructionIndex];
  const inference = draw.inferenceIndex;
  const common = { repeat, seed, instructionIndex: draw.instructionIndex, inferenceIndex: inference, ...(data.labelWords ? { labelWords: { words: data.labelWords, answerSeparator: data.answerSeparator } } : {}) };
  const anchor = data.anchor(instruction, inference);

  let bins: BinPick[] | undefined;
  let simsToInference: number[] | undefined;
  const pool = opts.pool;
  if (conditions.some((c) => c.bin !== undefined)) {
    if (!pool || !v.embedder) throw new IclitError('the demo-similarity preset needs a sentence encoder (--encoder DIR)');
    const q = v.embedder.embed([data.inputText(inference)])[0];
    simsToInference = pool.vectors.map((u) => cosine(u, q));
    const allBinned = all.filter((c) => c.bin !== undefined);
    const nBins = Math.max(...allBinned.map((c) => c.bin as number)) + 1;
    const ks = new Set(allBinned.map((c) => c.shots));
    if (ks.size !== 1) throw new IclitError('demo-similarity conditions must share one k');
    bins = pickPerBin(simsToInference, { k: [...ks][0], seed: deriveSeed(seed, 'bins'), nBins, edges: v.methods.binEdges });
  }

  return conditions.map((c): Unit => {
    const set = c.demoTask === data.task ? data : v.demoData;
    if (!set || set.task !== c.demoTask) throw new IclitError(`condition ${c.name} needs ${c.demoTask} demonstrations (--demo-data)`);
    let demoIndices: number[];
    let bin: UnitBin | undefined;
    if (c.bin !== undefined) {
      const b = bins![c.bin];
      bin = { index: c.bin, lo: b.lo, hi: b.hi, candidates: b.available };
      if (b.missing) return { condition: c, ...common, demoIndices: [], bin, anchor, icl: { text: '', parts: [] }, tuning: [], empty: true };
      demoIndices = b.picked.map((i) => pool!.indices[i]);
      bin.demoCosine = b.picked.reduce((s, i) => s + simsToInference![i], 0) / b.picked.length;
    } else if (set === data) {
      demoIndices = draw.demonstrationIndices.slice(0, c.shots);
    } else {
      demoIndices = sampleWithoutReplacement([...Array(set.size).keys()], c.shots, seededRandom(deriveSeed(seed, 'demo-data')));
    }
    const shuffled = c.labels === 'shuffled' ? shuffledLabels(v, set, runSeed, repeat, opts.repeats, demoIndices.length) : undefined;
    const demos: DemoRef[] = demoIndices.map((index, i) => (c.labels === 'wrong' ? { index, label: wrongLabel(v, set, index, seed) } : shuffled ? { index, label: shuffled[i] } : { index }));
    const icl = set === data ? data.icl(instruction, demos, inference) : crossTaskIcl(v, set, instruction, demos, inference);
    const tuning = set.tuning(instruction, demos, { withInstruction: c.withInstruction });
    const unit: Unit = { condition: c, ...common, demoIndices, bin, anchor, icl, tuning, empty: false };
    if (c.measures.accuracy) {
      const labelWords = data.labelWords;
      if (!labelWords || set !== data) throw new IclitError(`condition ${c.name}: accuracy needs a classification task with same-task demonstrations`);
      const exclude = new Set([inference, ...demoIndices]);
      const evalIdx = evaluationIndices(data.size, opts.evalExamples ?? STUDY_DEFAULTS.evalExamples, seed, exclude);
      unit.evaluation = {
        anchor: evalIdx.map((i) => data.anchor(instruction, i)),
        icl: evalIdx.map((i) => data.icl(instruction, demos, i)),
        gold: evalIdx.map((i) => data.gold(i)!),
        labelWords,
        answerSeparator: data.answerSeparator,
      };
    }
    return unit;
  });
}

/**
 * Every repeat of a run drawn once (repeats 0..repeats−1, or only a shard's: r mod count = index, the others left as
 * holes, so a huge --repeats with a small shard draws only its own): per repeat the units of the conditions drawn
 * without the sentence encoder (all but demo-similarity's bins, which the runner draws once the encoder is loaded).
 * The preflight check and the runner read the same draw.
 */
export function drawRepeats(conditions: Condition[], tasks: TaskMaterials, runSeed: number, repeats: number, evalExamples?: number, shard?: { index: number; count: number }): DrawnRepeats {
  const drawn = conditions.filter((c) => c.bin === undefined);
  const units: Unit[][] = new Array<Unit[]>(repeats);
  for (let r = shard?.index ?? 0; r < repeats; r += shard?.count ?? 1) units[r] = drawn.length > 0 ? repeatUnits(drawn, tasks, runSeed, r, { all: conditions, evalExamples, repeats }) : [];
  return { tasks, units, binned: drawn.length < conditions.length };
}

/** What drawRepeats hands on: the task materials it drew from, units[repeat] (bins left out), and whether bins remain to draw. */
export interface DrawnRepeats {
  tasks: TaskMaterials;
  units: Unit[][];
  binned: boolean;
}
