// Prompts measured against the model before a run: every repeat drawn and tokenized, and a prompt too long for the model named by its data rows.
import { rowPlace } from '../data/index.js';
import { IclitError } from '../util/errors.js';
import type { StudyBackend } from './backend.js';
import { renderUnit, type DrawnRepeats, type StudyMaterials, type Unit } from './units.js';

export type PromptKind = 'anchor' | 'ICL' | 'tuning' | 'evaluation';

/** What measuring a prompt needs of a model: its tokenizer, its longest sequence and its chat template (if the run renders through one). */
export type PromptTokenizer = Pick<StudyBackend, 'encode' | 'maxPositions' | 'chat'>;

/** `ids` when they fit the model; else an IclitError naming the prompt and the data rows it holds (file:line). */
export function checkLength(m: StudyMaterials, tok: PromptTokenizer, unit: Unit, prompt: PromptKind, ids: number[]): number[] {
  if (ids.length <= tok.maxPositions) return ids;
  const demoSet = unit.condition.demoTask === m.data.task ? m.data : (m.demoData ?? m.data);
  const rows = prompt === 'tuning' ? [] : [`${rowPlace(m.data, unit.inferenceIndex)} (inference example)`];
  if (prompt !== 'anchor') rows.push(...unit.demoIndices.map((i) => `${rowPlace(demoSet, i)} (demonstration)`));
  const what = prompt === 'evaluation' ? 'an evaluation prompt' : `the ${prompt} prompt`;
  throw new IclitError(`${what} of ${unit.condition.name}, repeat ${unit.repeat}, is ${ids.length} tokens, longer than the model's max_position_embeddings ${tok.maxPositions}; it holds ${rows.join(', ')}`);
}

/** Repeats whose prompts are measured one by one before a run; past them, every data row is measured once instead. */
export const MEASURED_REPEATS = 1000;

/**
 * Checks that the prompts of the drawn repeats (drawRepeats: the shard's repeats, all but the similarity bins, whose
 * demonstrations depend on the encoder), rendered for this model, fit it — the first MEASURED_REPEATS of them one by
 * one; when there are more (or bins, `binned`), every --data row must fit as an inference example, measured once
 * per row, and the later repeats' prompts are checked as they run (naming their rows alike). So the work is bounded
 * by the rows, not the repeats. Pure tokenization, before the results folder is created. Returns the longest
 * prompt in tokens (what sizes a batch) and how many repeats were measured.
 */
export function checkPromptLengths(drawn: DrawnRepeats, materials: StudyMaterials, tok: PromptTokenizer): { longest: number; measured: number } {
  let longest = 0;
  let measured = 0;
  let repeats = 0;
  const encoded = new Map<string, number[]>(); // a repeat's anchor is the same text in every condition
  const encode = (text: string): number[] => encoded.get(text) ?? (encoded.set(text, tok.encode(text)), encoded.get(text)!);
  drawn.units.forEach((units) => { // forEach skips the repeats of other shards (holes)
    repeats++;
    if (measured >= MEASURED_REPEATS) return;
    measured++;
    for (const drawnUnit of units) {
      const unit = renderUnit(drawnUnit, tok.chat);
      const check = (text: string, kind: PromptKind): void => {
        longest = Math.max(longest, checkLength(materials, tok, unit, kind, encode(text)).length);
      };
      check(unit.anchor.text, 'anchor');
      check(unit.icl.text, 'ICL');
      for (const p of unit.tuning) check(p.text, 'tuning');
      for (const p of [...(unit.evaluation?.anchor ?? []), ...(unit.evaluation?.icl ?? [])]) check(p.text, 'evaluation');
    }
    encoded.clear();
  });
  if (drawn.binned || measured < repeats) {
    const instruction = materials.instructions.reduce((a, b) => (b.length > a.length ? b : a), '');
    for (let i = 0; i < drawn.tasks.data.size; i++) {
      const n = tok.encode(drawn.tasks.data.anchor(instruction, i).text).length;
      if (n > tok.maxPositions) throw new IclitError(`${rowPlace(materials.data, i)} is ${n} tokens as an inference example, longer than the model's max_position_embeddings ${tok.maxPositions}`);
      longest = Math.max(longest, n);
    }
  }
  return { longest, measured };
}
