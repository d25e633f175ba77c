// What a unit measures from its situations: cosines per layer, accuracy over an evaluation set, per-token loss decrease by part.
import type { Prompt } from '../data/index.js';
import { cosine, updateCosine } from '../stats/index.js';
import { lossDecrease } from '../train/index.js';
import { IclitError } from '../util/errors.js';
import type { SituationStates, StudyBackend, TunedAdapters } from './backend.js';
import type { RepeatRecord } from './record.js';
import type { Evaluation } from './units.js';

/** The three cosines and the update cosine cos(ICL − anchor, IT − anchor) at every layer of `s`. */
export function similarities(s: SituationStates): Pick<RepeatRecord, 'simAnchorIcl' | 'simAnchorIt' | 'simIclIt' | 'simUpdate'> {
  return {
    simAnchorIcl: s.anchor.map((a, l) => cosine(a, s.icl[l])),
    simAnchorIt: s.anchor.map((a, l) => cosine(a, s.it[l])),
    simIclIt: s.icl.map((i, l) => cosine(i, s.it[l])),
    simUpdate: s.anchor.map((a, l) => updateCosine(a, s.icl[l], s.it[l])),
  };
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The first token the model would emit for `word` after the prompt (after `separator`, e.g. the template's space). */
export function answerToken(backend: Pick<StudyBackend, 'encode'>, promptText: string, promptIds: number[], word: string, separator = ' '): number {
  const full = backend.encode(`${promptText}${separator}${word}`);
  const at = commonPrefix(promptIds, full);
  if (at >= full.length) throw new IclitError(`cannot find the first token of label word '${word}' after the prompt`);
  return full[at];
}

/** Index of the first token of a tuning text that belongs to its answer (the label word or the target sentence). */
export function answerStart(backend: Pick<StudyBackend, 'encode'>, p: Prompt, ids: number[]): number {
  const demo = p.parts.find((q) => q.kind === 'demonstration' && q.answer);
  if (!demo?.answer) throw new IclitError('a tuning text has no answer span');
  return commonPrefix(backend.encode(p.text.slice(0, demo.answer.start).trimEnd()), ids);
}

/** Number of leading tokens of a tuning text that belong to its instruction part (0 without one). */
export function instructionTokens(backend: Pick<StudyBackend, 'encode'>, p: Prompt, ids: number[]): number {
  const part = p.parts.find((q) => q.kind === 'instruction');
  if (!part) return 0;
  return commonPrefix(backend.encode(p.text.slice(0, part.end)), ids);
}

/**
 * Mean per-token loss decrease (src/train's lossDecrease, base − tuned) over the instruction's tokens and over the
 * rest, pooled over a unit's tuning texts. Loss t predicts token t + 1, so it belongs to the part of token t + 1
 * (perTokenLosses).
 */
export function lossDecreaseByPart(base: number[][], tuned: number[][], instructionCounts: number[]): { instruction: number; example: number } {
  let si = 0;
  let ni = 0;
  let se = 0;
  let ne = 0;
  base.forEach((b, j) => {
    const decrease = lossDecrease(b, tuned[j]);
    for (let t = 0; t < decrease.length; t++) {
      const d = decrease[t];
      if (t + 1 < instructionCounts[j]) {
        si += d;
        ni++;
      } else {
        se += d;
        ne++;
      }
    }
  });
  return { instruction: ni ? si / ni : NaN, example: ne ? se / ne : NaN };
}

/** Per row: the gold label word has the highest logit among the label words (ties count as wrong). */
function correctRows(logits: number[][], gold: number[]): boolean[] {
  return logits.map((l, i) => {
    const g = l[gold[i]];
    return l.every((v, j) => j === gold[i] || v < g);
  });
}

const fraction = (correct: boolean[]): number => correct.filter(Boolean).length / correct.length;

/**
 * Dai et al.'s Rec2FTP counts over one evaluation set: of the examples the zero-shot read gets wrong, how many IT gets
 * right, how many ICL gets right, and how many both do (the overlap the recall of IT's flips by ICL is built from).
 */
export function flipCounts(zeroShot: readonly boolean[], icl: readonly boolean[], it: readonly boolean[]): { it: number; icl: number; both: number } {
  if (icl.length !== zeroShot.length || it.length !== zeroShot.length) throw new IclitError(`flip counts over ${zeroShot.length}, ${icl.length} and ${it.length} examples`);
  const counts = { it: 0, icl: 0, both: 0 };
  zeroShot.forEach((z, e) => {
    if (z) return;
    if (it[e]) counts.it++;
    if (icl[e]) counts.icl++;
    if (it[e] && icl[e]) counts.both++;
  });
  return counts;
}

/**
 * Accuracy of the three situations over a unit's evaluation set: the base model on the zero-shot (anchor) and ICL
 * prompts, adapter n of `tuned` on the zero-shot prompts. Scored by the label words' first-token logits; `flips`
 * counts the zero-shot errors each paradigm fixes (flipCounts).
 */
export function accuracyOf(backend: StudyBackend, tuned: TunedAdapters, n: number, e: Evaluation): NonNullable<RepeatRecord['accuracy']> {
  const tokens = (prompts: Prompt[]): { ids: number[][]; labels: number[][] } => {
    const ids = prompts.map((p) => backend.encode(p.text));
    return { ids, labels: prompts.map((p, i) => e.labelWords.map((w) => answerToken(backend, p.text, ids[i], w, e.answerSeparator))) };
  };
  const zs = tokens(e.anchor);
  const icl = tokens(e.icl);
  const zeroShot = correctRows(backend.lastLogits(zs.ids, zs.labels), e.gold);
  const withIcl = correctRows(backend.lastLogits(icl.ids, icl.labels), e.gold);
  const withIt = correctRows(tuned.lastLogits(zs.ids, zs.labels, zs.ids.map(() => n)), e.gold);
  return { zeroShot: fraction(zeroShot), icl: fraction(withIcl), it: fraction(withIt), n: e.gold.length, flips: flipCounts(zeroShot, withIcl, withIt) };
}
