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

/**
 * Checks that every prompt of the drawn repeats (drawRepeats: all but the similarity bins, whose demonstrations
 * depend on the encoder), rendered for this model, fits it; with bins (`binned`), every --data row must fit as an
 * inference example. Pure tokenization: cheap next to the run, and it runs before the results folder is created.
 * Returns the longest prompt in tokens (what sizes a batch).
 */
export function checkPromptLengths(drawn: DrawnRepeats, materials: StudyMaterials, tok: PromptTokenizer): { longest: number } {
  let longest = 0;
  for (const units of drawn.units) {
    for (const drawnUnit of units) {
      const unit = renderUnit(drawnUnit, tok.chat);
      const check = (text: string, kind: PromptKind): void => {
        longest = Math.max(longest, checkLength(materials, tok, unit, kind, tok.encode(text)).length);
      };
      check(unit.anchor.text, 'anchor');
      check(unit.icl.text, 'ICL');
      for (const p of unit.tuning) check(p.text, 'tuning');
      for (const p of [...(unit.evaluation?.anchor ?? []), ...(unit.evaluation?.icl ?? [])]) check(p.text, 'evaluation');
    }
  }
  if (drawn.binned) {
    const instruction = materials.instructions.reduce((a, b) => (b.length > a.length ? b : a), '');
    for (let i = 0; i < drawn.tasks.data.size; i++) {
      const n = tok.encode(drawn.tasks.data.anchor(instruction, i).text).length;
      if (n > tok.maxPositions) throw new IclitError(`${rowPlace(materials.data, i)} is ${n} tokens as an inference example, longer than the model's max_position_embeddings ${tok.maxPositions}`);
      longest = Math.max(longest, n);
    }
  }
  return { longest };
}
