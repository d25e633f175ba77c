// Public API of src/stats: pure statistics on plain numbers (cosine, Wilcoxon, Page, Holm, percentiles, correlations, bootstrap, hidden-state measures).
export { cosine, cosineSimilarity } from './cosine.js';
export {
  wilcoxon,
  wilcoxonPaired,
  signedRankCounts,
  rankBiserial,
  WILCOXON_EXACT_MAX_N,
  WILCOXON_EXACT_LIMIT,
  type Alternative,
  type WilcoxonMethod,
  type WilcoxonOptions,
  type WilcoxonResult,
} from './wilcoxon.js';
export { percentile, percentiles, percentileOfSorted, median, boxStats, type BoxStats } from './percentiles.js';
export { pearson, spearman, correlationPValue, type CorrelationResult } from './correlation.js';
export { bootstrapMedianCI, bootstrapMeanCI, type BootstrapOptions, type BootstrapInterval } from './bootstrap.js';
export { describe, type Description } from './describe.js';
export { averageRanks, tieGroupSizes } from './ranks.js';
export { erf, erfc, normalCdf, normalSf, logGamma, logBeta, regularizedIncompleteBeta, studentTSf } from './special.js';
export {
  updateCosine,
  meanVector,
  meanAbsVector,
  massiveDimensions,
  MASSIVE_RATIO,
  centredCosine,
  cosineExcluding,
  mismatchedCosineMeans,
  centredGram,
  linearCka,
  normalisedUpdateCosine,
  dimensionMoments,
  standardisedCosine,
  unbiasedHsic,
  debiasedLinearCka,
} from './representation.js';
export { logSoftmax, klDivergence, jensenShannon, argmax, probabilityMass, gapClosed } from './distributions.js';
export { pageTrendTest, type PageResult, type PageMethod } from './page.js';
export { holmAdjust } from './multiple.js';
export { meanTInterval, studentTQuantileUpper, type MeanInterval } from './mean-interval.js';
export { headAveragedCosine, gatherPositions, renormaliseHeads, spanShare } from './attention.js';
