// The presets in the order of the paper's figures (Fig. 3a … Fig. 10): how `iclit run paper` runs them and the report lays them out.
export const PAPER_ORDER: readonly string[] = ['convergence', 'wrong-label', 'cross-task', 'demo-similarity', 'shots', 'accuracy', 'layers', 'sl', 'translation', 'token-loss'];

/**
 * The presets of `iclit run paper` that --controls reaches: the question the controls test (is the ICL–IT
 * similarity more than an untrained network, a random adapter or uninformative labels give?) is convergence's;
 * controls on every preset would double the paper's cost. `iclit run PRESET --controls` adds them to any preset.
 */
export const PAPER_CONTROLS: readonly string[] = ['convergence'];
