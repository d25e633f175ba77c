// Prompts measured against the model before a run: every repeat drawn and tokenized, and a prompt too long for the model named by its data rows.
import { rowPlace } from '../data/index.js';
import { IclitError } from '../util/errors.js';
import type { StudyBackend } from './backend.js';
import type { Condition } from './conditions.js';
import type { Methods } from './methods.js';
import { repeatUnits, studyViews, type StudyMaterials, type Unit } from './units.js';

export type PromptKind = 'anchor' | 'ICL' | 'tuning' | 'evaluation';

/** What measuring a prompt needs of a model: its tokenizer and its longest sequence. */
export type PromptCodec = Pick<StudyBackend, 'encode' | 'maxPositions' | 'chat'>;

/** `ids` when they fit the model; else an IclitError naming the prompt and the data rows it holds (file:line). */
export function checkLength(m: StudyMaterials, codec: PromptCodec, unit: Unit, prompt: PromptKind, ids: number[]): number[] {
  if (ids.length <= codec.maxPositions) return ids;
  const demoSet = unit.condition.demoTask === m.data.task ? m.data : (m.demoData ?? m.data);
  const rows = prompt === 'tuning' ? [] : [`${rowPlace(m.data, Number(unit.extra.inferenceIndex))} (inference example)`];
  const demos = String(unit.extra.demoIndices ?? '').split(',').filter(Boolean).map(Number);
  if (prompt !== 'anchor') rows.push(...demos.map((i) => `${rowPlace(demoSet, i)} (demonstration)`));
  const what = prompt === 'evaluation' ? 'an evaluation prompt' : `the ${prompt} prompt`;
  throw new IclitError(`${what} of ${unit.condition.name}, repeat ${unit.repeat}, is ${ids.length} tokens, longer than the model's max_position_embeddings ${codec.maxPositions}; it holds ${rows.join(', ')}`);
}

export interface PreflightPlan {
  conditions: Condition[];
  repeats: number;
  /** Only this worker's repeats (r mod count = index) are measured. */
  shard?: { index: number; count: number };
  seed: number;
  materials: StudyMaterials;
  methods: Methods;
  evalExamples: number;
}

/** Repeats whose prompts are measured one by one before a run; past them, every data row is measured once instead. */
export const MEASURED_REPEATS = 1000;

/**
 * Draws the shard's repeats of the plan's conditions (the similarity bins aside: their demonstrations depend on
 * the encoder) and checks that every prompt fits the model — the first MEASURED_REPEATS of them one by one; when
 * there are more (or bins), every data row must fit as an inference example, measured once per row, and the later
 * repeats' prompts are checked as they run (naming their rows alike). So the work is bounded by the rows, not the
 * repeats: `--repeats 1000000 --shard 0/1000000` measures one repeat. Pure draws and tokenization, before the
 * results folder is created. Returns the longest prompt in tokens (what sizes a batch) and how many repeats were
 * measured.
 */
export function checkPromptLengths(plan: PreflightPlan, codec: PromptCodec): { longest: number; measured: number } {
  const views = studyViews(plan.materials, plan.methods, codec.chat);
  const drawn = plan.conditions.filter((c) => c.bin === undefined);
  const step = plan.shard?.count ?? 1;
  const encoded = new Map<string, number[]>(); // a repeat's anchor is the same text in every condition
  const encode = (text: string): number[] => encoded.get(text) ?? (encoded.set(text, codec.encode(text)), encoded.get(text)!);
  let longest = 0;
  let measured = 0;
  for (let r = plan.shard?.index ?? 0; r < plan.repeats && drawn.length > 0 && measured < MEASURED_REPEATS; r += step, measured++) {
    for (const unit of repeatUnits(drawn, views, plan.seed, r, { all: plan.conditions, evalExamples: plan.evalExamples })) {
      const check = (text: string, kind: PromptKind): void => {
        longest = Math.max(longest, checkLength(plan.materials, codec, unit, kind, encode(text)).length);
      };
      check(unit.anchor.text, 'anchor');
      check(unit.icl.text, 'ICL');
      for (const p of unit.tuning) check(p.text, 'tuning');
      for (const p of [...(unit.evaluation?.anchor ?? []), ...(unit.evaluation?.icl ?? [])]) check(p.text, 'evaluation');
    }
    encoded.clear();
  }
  const shardRepeats = plan.shard ? Math.ceil(Math.max(0, plan.repeats - plan.shard.index) / step) : plan.repeats;
  if (drawn.length < plan.conditions.length || measured < shardRepeats) {
    const instruction = plan.materials.instructions.reduce((a, b) => (b.length > a.length ? b : a), '');
    for (let i = 0; i < views.data.size; i++) {
      const n = codec.encode(views.data.anchor(instruction, i).text).length;
      if (n > codec.maxPositions) throw new IclitError(`${rowPlace(plan.materials.data, i)} is ${n} tokens as an inference example, longer than the model's max_position_embeddings ${codec.maxPositions}`);
      longest = Math.max(longest, n);
    }
  }
  return { longest, measured };
}
