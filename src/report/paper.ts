// The paper's claims as data (Duan et al., "Exploring the Relationship between In-Context Learning and Instruction Tuning"): figure, preset, quantity, expectation, the paper's numbers.
import type { PairKey } from './types.js';

/** What the paper expects of a quantity; each has one decision rule (src/report/verdicts.ts, docs/METHODS.md). */
export type Expectation = 'greater' | 'less' | 'trend-up' | 'trend-down' | 'flat' | 'u-shape' | 'not-significant' | 'high';

export const EXPECTATIONS: readonly Expectation[] = ['greater', 'less', 'trend-up', 'trend-down', 'flat', 'u-shape', 'not-significant', 'high'];

/**
 * Which records of a preset a quantity reads, by the typed fields the runner writes into `extra` (never by a
 * condition's name): label setting, demonstration task, whether the tuning texts hold the instruction.
 */
export interface Selector {
  labels?: 'right' | 'wrong';
  demoTask?: 'sentiment' | 'translation';
  withInstruction?: boolean;
}

/** The quantity a claim is about, as data; findings.ts computes it from the records. */
export type Quantity =
  /** Paired within a record: similarity `a` against similarity `b` (greater / less). */
  | { kind: 'pairs'; select?: Selector; a: PairKey; b: PairKey }
  /** Every listed similarity of the selected records against the high threshold. */
  | { kind: 'high'; select?: Selector; pairs: PairKey[] }
  /** Paired by repeat: s(ICL,IT) of records `a` against records `b` ('spread': each record's distance from its group's median). */
  | { kind: 'conditions'; a: Selector; b: Selector; stat: 'value' | 'spread' }
  /** A similarity over ordered levels (similarity bins by their midpoint, or the number of demonstrations). */
  | { kind: 'levels'; level: 'bin' | 'shots'; pair: PairKey }
  /** s(ICL,IT) over the measured hidden states. */
  | { kind: 'layers'; pair: PairKey }
  /** Accuracy of one situation, paired by repeat: records `a` minus records `b`. */
  | { kind: 'accuracy'; situation: 'icl' | 'it'; a: Selector; b: Selector }
  /** Per-token loss decrease on the example tokens minus on the instruction tokens. */
  | { kind: 'token-loss' };

/** One claim of the paper the study's presets test. */
export interface Claim {
  /** Stable id used in summary.json. */
  id: string;
  /** Where the paper states it: 'Fig. 3a', 'footnote 6'. */
  figure: string;
  /** The preset whose records test it (src/experiments/conditions.ts). */
  preset: string;
  /** The claim in iclit's words. */
  claim: string;
  quantity: Quantity;
  expect: Expectation;
  /** Which models of a run the claim is about: every one, the first (the paper's 7B) or the others (the paper's 13B, §4.1). */
  models: 'each' | 'first' | 'others';
  /** What the paper reports, where it gives numbers. */
  paper?: string;
}

const RIGHT: Selector = { labels: 'right' };
const WRONG: Selector = { labels: 'wrong' };

/** The paper's claims in its order. */
export const CLAIMS: readonly Claim[] = [
  {
    id: 'fig3a.iclIt', figure: 'Fig. 3a', preset: 'convergence', expect: 'high', models: 'first',
    claim: 'ICL and IT reach nearly the same hidden state: s(ICL,IT) is high',
    quantity: { kind: 'high', pairs: ['simIclIt'] },
    paper: 's(ICL,IT) ≈ 0.9 (LLaMA-2-7B, last layer)',
  },
  {
    id: 'fig3a.anchorIcl', figure: 'Fig. 3a', preset: 'convergence', expect: 'less', models: 'first',
    claim: 'the demonstration moves the state far from the anchor: s(anchor,ICL) below s(ICL,IT)',
    quantity: { kind: 'pairs', a: 'simAnchorIcl', b: 'simIclIt' },
    paper: 's(anchor,ICL) ≈ 0',
  },
  {
    id: 'fig3a.anchorIt', figure: 'Fig. 3a', preset: 'convergence', expect: 'less', models: 'first',
    claim: 'tuning on the demonstration moves the state far from the anchor: s(anchor,IT) below s(ICL,IT)',
    quantity: { kind: 'pairs', a: 'simAnchorIt', b: 'simIclIt' },
    paper: 's(anchor,IT) ≈ 0',
  },
  {
    id: 'fig3b.lower', figure: 'Fig. 3b', preset: 'wrong-label', expect: 'greater', models: 'each',
    claim: 'wrong labels lower s(ICL,IT) slightly: right-label s(ICL,IT) above wrong-label s(ICL,IT)',
    quantity: { kind: 'conditions', a: RIGHT, b: WRONG, stat: 'value' },
  },
  {
    id: 'fig3b.high', figure: 'Fig. 3b', preset: 'wrong-label', expect: 'high', models: 'each',
    claim: 'with wrong labels ICL and IT still converge: wrong-label s(ICL,IT) is high',
    quantity: { kind: 'high', select: WRONG, pairs: ['simIclIt'] },
  },
  {
    id: 'fig3b.spread', figure: 'Fig. 3b', preset: 'wrong-label', expect: 'greater', models: 'each',
    claim: 'wrong labels spread s(ICL,IT) more (larger IQR): wrong-label distance from the median above right-label',
    quantity: { kind: 'conditions', a: WRONG, b: RIGHT, stat: 'spread' },
  },
  {
    id: 'fig3c', figure: 'Fig. 3c', preset: 'cross-task', expect: 'high', models: 'each',
    claim: 'demonstrations of another task (EN→CS) leave the state where it was: s(anchor,ICL), s(anchor,IT) and s(ICL,IT) all high',
    quantity: { kind: 'high', select: { demoTask: 'translation' }, pairs: ['simAnchorIcl', 'simAnchorIt', 'simIclIt'] },
  },
  {
    id: 'fig4a', figure: 'Fig. 4a', preset: 'demo-similarity', expect: 'trend-down', models: 'each',
    claim: 's(anchor,IT) falls as the demonstration gets more similar to the inference example',
    quantity: { kind: 'levels', level: 'bin', pair: 'simAnchorIt' },
  },
  {
    id: 'fig4b', figure: 'Fig. 4b', preset: 'demo-similarity', expect: 'flat', models: 'each',
    claim: 's(anchor,ICL) stays (low and) flat whatever the demonstration–inference similarity',
    quantity: { kind: 'levels', level: 'bin', pair: 'simAnchorIcl' },
  },
  {
    id: 'fig4c', figure: 'Fig. 4c', preset: 'demo-similarity', expect: 'trend-up', models: 'each',
    claim: 's(ICL,IT) rises with demonstration–inference similarity, up to the demonstration identical to the inference example',
    quantity: { kind: 'levels', level: 'bin', pair: 'simIclIt' },
    paper: 's(ICL,IT) ≈ 0.4 at similarity 0 → ≈ 0.8 at similarity 1 (LLaMA-2-7B)',
  },
  {
    id: 'fig5', figure: 'Fig. 5', preset: 'shots', expect: 'trend-up', models: 'each',
    claim: 's(ICL,IT) rises with the number of demonstrations k = 1, 2, 5, 10 (tuned 10, 5, 2, 1 epochs)',
    quantity: { kind: 'levels', level: 'shots', pair: 'simIclIt' },
  },
  {
    id: 'fig6', figure: 'Fig. 6', preset: 'accuracy', expect: 'not-significant', models: 'each',
    claim: 'tuning on wrong labels lowers IT accuracy, but not significantly: right − wrong IT accuracy within the margin',
    quantity: { kind: 'accuracy', situation: 'it', a: RIGHT, b: WRONG },
    paper: 'a drop, not significant (one-tailed Wilcoxon signed-rank, right − wrong)',
  },
  {
    id: 'fig7', figure: 'Fig. 7', preset: 'layers', expect: 'u-shape', models: 'each',
    claim: 's(ICL,IT) over layers is U-shaped: high low down, lowest in the middle, high again near the top',
    quantity: { kind: 'layers', pair: 'simIclIt' },
  },
  {
    id: 'fig8a', figure: 'Fig. 8a', preset: 'convergence', expect: 'high', models: 'others',
    claim: 'on the larger model s(ICL,IT) stays high and s(anchor,ICL), s(anchor,IT) are high too (it does the task zero-shot)',
    quantity: { kind: 'high', pairs: ['simAnchorIcl', 'simAnchorIt', 'simIclIt'] },
    paper: 'all three high on LLaMA-2-13B (§4.1)',
  },
  {
    id: 'fig8b', figure: 'Fig. 8b', preset: 'sl', expect: 'less', models: 'each',
    claim: 'tuning without the instruction (SL) converges less with ICL: s(ICL,SL) below s(ICL,IT)',
    quantity: { kind: 'conditions', a: { withInstruction: false }, b: { withInstruction: true }, stat: 'value' },
  },
  {
    id: 'fig8c', figure: 'Fig. 8c', preset: 'translation', expect: 'high', models: 'each',
    claim: 'on EN→CS translation s(ICL,IT) is high too',
    quantity: { kind: 'high', pairs: ['simIclIt'] },
  },
  {
    id: 'fn6.anchorIt', figure: 'footnote 6', preset: 'translation', expect: 'greater', models: 'each',
    claim: 'on translation s(ICL,IT) above s(anchor,IT) (one-tailed Wilcoxon signed-rank)',
    quantity: { kind: 'pairs', a: 'simIclIt', b: 'simAnchorIt' },
    paper: 'p = 2.79e-9 (n = 30)',
  },
  {
    id: 'fn6.anchorIcl', figure: 'footnote 6', preset: 'translation', expect: 'greater', models: 'each',
    claim: 'on translation s(ICL,IT) above s(anchor,ICL) (one-tailed Wilcoxon signed-rank)',
    quantity: { kind: 'pairs', a: 'simIclIt', b: 'simAnchorIcl' },
    paper: 'p = 9.31e-10 (n = 30)',
  },
  {
    id: 'fig10', figure: 'Fig. 10', preset: 'token-loss', expect: 'greater', models: 'each',
    claim: 'tuning lowers the loss of the example tokens more than that of the instruction tokens',
    quantity: { kind: 'token-loss' },
  },
];

/** The paper's figure (or footnote) a preset's report section corresponds to (the first claim on it); null for others. */
export function paperFigureOf(preset: string): string | null {
  const figures = [...new Set(CLAIMS.filter((c) => c.preset === preset && c.models !== 'others' && c.figure.startsWith('Fig.')).map((c) => c.figure))];
  return figures.length ? figures.join(', ') : null;
}
