// The presets in the order of the paper's figures (Fig. 3a … Fig. 10): how `iclit run paper` runs them and the report lays them out.
export const PAPER_ORDER: readonly string[] = ['convergence', 'wrong-label', 'cross-task', 'demo-similarity', 'shots', 'accuracy', 'layers', 'sl', 'translation', 'token-loss'];
