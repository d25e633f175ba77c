// The report's input (one ReportRun per results folder) and the shape of summary.json.
import type { RepeatRecord } from '../experiments/record.js';

/** One results folder as the report sees it: a label, what produced it, and its finished repeats. */
export interface ReportRun {
  /** Short name shown in tables and figure legends (e.g. the model label). */
  label: string;
  /** What produced the run: model, data, config hash, seed, iclit version, wall time… */
  meta: Record<string, string | number | null>;
  records: RepeatRecord[];
}

/** The three similarities every repeat measures, by their record field. */
export type PairKey = 'simAnchorIcl' | 'simAnchorIt' | 'simIclIt';

/** Distribution of one quantity; numbers are null where there are no finite values. */
export interface Dist {
  /** Finite values used. */
  n: number;
  /** Values left out because they were NaN or infinite. */
  nanCount: number;
  mean: number | null;
  median: number | null;
  q1: number | null;
  q3: number | null;
  /** q3 − q1. */
  iqr: number | null;
  min: number | null;
  max: number | null;
}

export interface PairDists {
  simAnchorIcl: Dist;
  simAnchorIt: Dist;
  simIclIt: Dist;
}

export interface LayerSummary extends PairDists {
  /** Hidden-state index (0 = embeddings). */
  layer: number;
}

/** One Wilcoxon signed-rank test on paired differences; statistic/pValue are null when it could not run (see note). */
export interface TestSummary {
  /** Stable id, e.g. 'iclIt>anchorIcl', 'accuracy.icl:right>wrong'. */
  id: string;
  /** The alternative hypothesis in words. */
  hypothesis: string;
  alternative: 'greater' | 'less' | 'two-sided';
  /** Hidden-state index the test used, where it is about similarities. */
  layer: number | null;
  /** Pairs used (finite differences). */
  n: number;
  statistic: number | null;
  pValue: number | null;
  method: string | null;
  /** Why the test did not run, or anything the reader should know. */
  note: string | null;
}

export interface ConditionSummary {
  condition: string;
  /** Repeats (records) of this condition. */
  n: number;
  /** The last (highest) hidden-state index measured, or null when no layer was measured. */
  lastLayer: number | null;
  /** The similarities at lastLayer. */
  last: PairDists;
  /** Per measured layer, ascending. */
  layers: LayerSummary[];
  /** s(ICL,IT) > s(anchor,ICL) and s(ICL,IT) > s(anchor,IT) at lastLayer. */
  tests: TestSummary[];
  /** Mean accuracy (0..1) per situation, where records carry `correct`. */
  accuracy: { zeroShot: Dist; icl: Dist; it: Dist } | null;
  /** Per-token loss decrease by prompt part, where records carry `lossDecrease`. */
  lossDecrease: { instruction: Dist; example: Dist } | null;
  /** Final training loss of the IT adapter. */
  tuneLoss: Dist | null;
}

export interface AccuracySummary {
  /** Per label setting ('right' | 'wrong' | other): mean accuracy per situation. */
  byLabels: { labels: string; n: number; zeroShot: Dist; icl: Dist; it: Dist }[];
  /** Right > wrong labels (paired by repeat) for ICL and IT. */
  tests: TestSummary[];
}

export interface ExperimentSummary {
  experiment: string;
  /** Records of this experiment in the run. */
  n: number;
  conditions: ConditionSummary[];
  /** Conditions the preset defines that have no records in this run. */
  missingConditions: string[];
  accuracy: AccuracySummary | null;
  /** Instruction vs example token loss decrease (two-sided), where measured. */
  tests: TestSummary[];
}

export interface RunSummary {
  label: string;
  meta: Record<string, string | number | null>;
  nRecords: number;
  /** Distinct model labels found in the records. */
  models: string[];
  experiments: ExperimentSummary[];
}

/** summary.json */
export interface Summary {
  /** Format version of this file. */
  format: 1;
  runs: RunSummary[];
}
