// The paper's claims and the numbers it states (Duan et al., "Exploring the Relationship between In-Context Learning and Instruction Tuning").

/** One claim of the paper the study's presets can test, in the paper's order. */
export interface Claim {
  /** Stable id used in summary.json. */
  id: string;
  /** Where the paper shows it. */
  figure: string;
  /** The preset whose records test it (src/experiments/conditions.ts). */
  preset: string;
  /** The claim as iclit tests it. */
  claim: string;
}

export const CLAIMS: readonly Claim[] = [
  { id: 'fn6.anchorIcl', figure: 'footnote 6', preset: 'convergence', claim: 'ICL and IT converge: s(ICL,IT) > s(anchor,ICL)' },
  { id: 'fn6.anchorIt', figure: 'footnote 6', preset: 'convergence', claim: 'ICL and IT converge: s(ICL,IT) > s(anchor,IT)' },
  { id: 'fig3b.lower', figure: 'Fig. 3b', preset: 'wrong-label', claim: 'wrong (flipped) labels lower the convergence s(ICL,IT)' },
  { id: 'fig3b.spread', figure: 'Fig. 3b', preset: 'wrong-label', claim: 'wrong (flipped) labels spread the convergence s(ICL,IT) more' },
  { id: 'fig3c', figure: 'Fig. 3c', preset: 'cross-task', claim: 'demonstrations of another task (translation) give lower s(ICL,IT) than same-task ones' },
  { id: 'fig4c', figure: 'Fig. 4c', preset: 'demo-similarity', claim: 's(ICL,IT) rises with demonstration–inference similarity (bins in order)' },
  { id: 'fig5', figure: 'Fig. 5', preset: 'shots', claim: 's(ICL,IT) rises with the number of demonstrations k' },
  { id: 'fig6.icl', figure: 'Fig. 6', preset: 'accuracy', claim: 'ICL accuracy is higher with right than with wrong labels' },
  { id: 'fig6.it', figure: 'Fig. 6', preset: 'accuracy', claim: 'IT (tuned model) accuracy is higher with right than with wrong labels' },
  { id: 'fig7', figure: 'Fig. 7', preset: 'layers', claim: 'the ICL–IT convergence beyond the anchor similarities grows with depth' },
  { id: 'fig8b', figure: 'Fig. 8b', preset: 'sl', claim: 'tuning without the instruction (SL) converges less with ICL than IT does' },
  { id: 'fig8c', figure: 'Fig. 8c', preset: 'translation', claim: 'ICL and IT converge on translation too: s(ICL,IT) > both anchor similarities' },
  { id: 'fig10', figure: 'Fig. 10', preset: 'token-loss', claim: 'tuning lowers the loss on example tokens more than on instruction tokens' },
];

/**
 * The numbers the paper states, by claim id, for LLaMA-2-7B; only where the paper gives them. Each `source` names
 * the figure or footnote the number comes from. Shown in the report as the paper's, beside the run's.
 */
export const PAPER_NUMBERS: Readonly<Record<string, { source: string; text: string }>> = {
  // Footnote 6: the two one-tailed Wilcoxon tests over 30 repeats; the main convergence result at the last layer.
  'fn6.anchorIcl': { source: 'main result and footnote 6, LLaMA-2-7B, last layer', text: 's(ICL,IT) ≈ 0.9, s(anchor,ICL) ≈ 0; p = 9.3e-10 and 2.8e-9 for the two tests (n = 30)' },
  'fn6.anchorIt': { source: 'main result and footnote 6, LLaMA-2-7B, last layer', text: 's(ICL,IT) ≈ 0.9, s(anchor,IT) ≈ 0; p = 9.3e-10 and 2.8e-9 for the two tests (n = 30)' },
  // Fig. 4c: s(ICL,IT) over the demonstration–inference similarity bins.
  fig4c: { source: 'Fig. 4c, LLaMA-2-7B', text: 's(ICL,IT) ≈ 0.4 (least similar bin) → ≈ 0.8 (most similar)' },
};

/** The paper's figure (or footnote) a preset's report figure corresponds to, from CLAIMS; null for other experiments. */
export function paperFigureOf(preset: string): string | null {
  return CLAIMS.find((c) => c.preset === preset)?.figure ?? null;
}
