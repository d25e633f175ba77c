// The report's input (one ReportRun per results folder) and the shape of summary.json (format 2).
import type { RepeatRecord } from '../experiments/record.js';
import type { StatesOf } from '../results/robustness.js';
import type { AgreementSummary } from './agreement.js';
import type { Expectation } from './paper.js';
import type { Verdict } from './verdicts.js';
import type { ImplicitItSummary } from './implicit-it.js';

/** One results folder as the report sees it: a label, what produced it, its finished repeats and their states. */
export interface ReportRun {
  /** Short name shown in tables and figure legends (e.g. the model label). */
  label: string;
  /** What produced the run: model, data, config hash, seed, iclit version, wall time… */
  meta: Record<string, string | number | null>;
  records: RepeatRecord[];
  /** The models in the order the study ran them (the manifest's): the first plays the paper's 7B, the others its 13B (Fig. 8a). Default: the records' order. */
  models?: string[];
  /** The records' stored hidden states (e.g. `(r) => readRecordStates(dir, r)`); without it the robustness measures that need states are not run. */
  states?: StatesOf;
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

/** The robustness measures beside the raw cosine at one layer (PLAN.md); null where they need states the run lacks. */
export interface RobustDists {
  /** cos(h_ICL − h_anchor, h_IT − h_anchor), from the records. */
  update: Dist;
  /** The three similarities after subtracting the layer's mean state. */
  centred: PairDists | null;
  /** The three similarities with the layer's massive dimensions left out. */
  massiveOut: PairDists | null;
  /** Mean mismatched s(ICL_r, IT_r′), r′ ≠ r: the permutation null. */
  nullIclIt: Dist | null;
  /** Linear CKA between the ICL and the IT states across the condition's repeats. */
  cka: number | null;
  /** The three similarities after standardising each dimension over the condition's states (Timkey & van Schijndel 2021). */
  standardised: PairDists | null;
  /** Dai et al.'s exact SimAOU: the update cosine of the L2-normalised states. */
  simAou: Dist | null;
  /** Debiased linear CKA (unbiased HSIC, Murphy et al. 2024) between the ICL and the IT states across the condition's repeats. */
  ckaDebiased: number | null;
}

export interface LayerSummary extends PairDists, RobustDists {
  /** Hidden-state index (0 = embeddings). */
  layer: number;
}

/** One statistical test; statistic/pValue are null when it could not run (see note). */
export interface TestSummary {
  /** Stable id, e.g. 'iclIt>anchorIcl', 'accuracy.icl:right>wrong', 'fig5.trend'. */
  id: string;
  /** The alternative hypothesis in words. */
  hypothesis: string;
  /** 'wilcoxon' = signed-rank on paired differences (or one sample against 0); 'page' = Page's L trend test (one-sided). */
  test: 'wilcoxon' | 'page';
  alternative: 'greater' | 'less' | 'two-sided';
  /** Hidden-state index the test used, where it is about similarities. */
  layer: number | null;
  /** Pairs (Wilcoxon) or complete rows (Page) used. */
  n: number;
  statistic: number | null;
  pValue: number | null;
  /** Holm-adjusted p within the test's family (see RunSummary.multipleTesting); null when the test did not run. */
  pHolm: number | null;
  method: string | null;
  /** Matched-pairs rank-biserial r (Wilcoxon) or mean within-row Spearman ρ (Page); null when not run. */
  effect: number | null;
  /** Median of the paired differences (Wilcoxon); null for Page. */
  medianDifference: number | null;
  /** Why the test did not run, or anything the reader should know. */
  note: string | null;
}

export interface ConditionSummary {
  condition: string;
  /** Repeats (records) of this condition. */
  n: number;
  /** Records with stored states (what centred, massive-out, null and CKA use). */
  nStates: number;
  /** The last (highest) hidden-state index measured, or null when no layer was measured. */
  lastLayer: number | null;
  /** The similarities and their robustness variants at lastLayer. */
  last: PairDists & RobustDists;
  /** Per measured layer, ascending. */
  layers: LayerSummary[];
  /** At lastLayer: s(ICL,IT) > s(anchor,ICL), s(ICL,IT) > s(anchor,IT) and matched s(ICL,IT) > the permutation null. */
  tests: TestSummary[];
  /** Accuracy fractions per situation, where records carry `accuracy`. */
  accuracy: { zeroShot: Dist; icl: Dist; it: Dist } | null;
  /** Per-token loss decrease by prompt part, where records carry `lossDecrease`. */
  lossDecrease: { instruction: Dist; example: Dist } | null;
  /** Final training loss of the IT adapter. */
  tuneLoss: Dist | null;
  /** Output and attention agreement and Rec2FTP flips (means with bootstrap CIs), where records carry them. */
  agreement: AgreementSummary | null;
  /** Causal patching per patch point (summary-patching.ts), only where records carry `patching`. */
  patching?: PatchingSummary;
}

/** A curve's values at one patch point over repeats, with the 95% Student-t interval of their mean. */
export interface PatchingDist extends Dist {
  ci95: { lower: number | null; upper: number | null };
}

/**
 * Gap closed per patch point (hidden-state index 0..n−1). The cross curves (the evidence): ICL state toward the IT
 * output, IT state toward the ICL output (absent when no record has them: written before them). The checks: ICL state
 * toward the ICL output, IT state toward the IT output.
 */
export interface PatchingSummary {
  layers: { layer: number; iclToIt?: PatchingDist; itToIcl?: PatchingDist; icl: PatchingDist; it: PatchingDist }[];
}

export interface AccuracySummary {
  /** Per label setting ('right' | 'wrong' | other): accuracy per situation (fractions in [0, 1]). */
  byLabels: { labels: string; n: number; zeroShot: Dist; icl: Dist; it: Dist }[];
  /** Right > wrong labels (paired by repeat) for ICL and IT. */
  tests: TestSummary[];
}

/** What the stored states of one experiment were centred on and left out. */
export interface StatesSummary {
  nWithStates: number;
  massiveRatio: number;
  /** Massive dimensions found per layer (dims whose mean |value| ≥ ratio × the median). */
  massiveDims: { layer: number; dims: number[]; nStates: number; /** set for a control condition's own states */ control?: string }[];
  /** Largest |stored similarity − the same recomputed from the states|: 0 up to float rounding when states and records agree. */
  maxDeviation: number;
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
  /** Null when no record of the experiment has stored states. */
  states: StatesSummary | null;
}

export type { Verdict } from './verdicts.js';
export type { Expectation } from './paper.js';
export type RobustMeasure = 'update' | 'simAou' | 'centred' | 'standardised' | 'massiveOut' | 'null';
/** A robustness re-check: the claim's rule applied to another measure; 'n/a' where the measure does not fit the quantity, 'not run' without states. */
export type RobustStatus = Verdict | 'not run' | 'n/a';

/** A bootstrap confidence interval of a median, and the bound the rule compares it with. */
export interface Interval {
  quantity: string;
  n: number;
  median: number;
  lower: number;
  upper: number;
  confidence: number;
  /** 'high': the threshold the CI must lie above. */
  threshold: number | null;
  /** 'flat' / 'not-significant': the equivalence margin ±margin. */
  margin: number | null;
}

/** Whether a finding's verdict holds when the raw cosine is replaced by one robustness measure. */
export interface RobustCheck {
  status: RobustStatus;
  tests: TestSummary[];
  note: string | null;
}

/** One claim of the paper, checked on one model of this run. */
export interface Finding {
  /** Stable id of the claim (src/report/paper.ts), e.g. 'fig3a.iclIt', 'fn6.anchorIt'. */
  id: string;
  /** The paper's figure or footnote, e.g. 'Fig. 5', 'footnote 6'. */
  figure: string;
  /** The claim in words. */
  claim: string;
  /** The preset whose records test it. */
  preset: string;
  /** The model (label) whose records test it. */
  model: string | null;
  /** The paper's expectation of the quantity. */
  expect: Expectation;
  /** What the paper reports, where it gives numbers. */
  paper: string | null;
  /** This run's numbers behind the claim (medians, means per level). */
  value: string | null;
  /** The one-sided tests in the paper's direction (Holm's findings family). */
  tests: TestSummary[];
  /** The same tests the other way round (judged at the Bonferroni level; not in Holm's families). */
  opposite: TestSummary[];
  /** The confidence intervals the rule compares ('high', 'flat', 'not-significant'). */
  intervals: Interval[];
  /** The largest p and the largest Holm-adjusted p of `tests` (the intersection–union p). */
  pValue: number | null;
  pHolm: number | null;
  /** Effect size of the first test and what it is. */
  effect: number | null;
  effectName: string | null;
  n: number;
  /** false when the run lacks what the claim needs (its preset, a second model…): the verdict is then 'inconclusive'. */
  ran: boolean;
  verdict: Verdict;
  /** The rule's reason for the verdict, or why the claim was not run. */
  note: string | null;
  robust: Record<RobustMeasure, RobustCheck>;
}

export interface RunSummary {
  label: string;
  meta: Record<string, string | number | null>;
  nRecords: number;
  /** Distinct model labels found in the records. */
  models: string[];
  /** The paper's claims the run's presets can test, in the paper's order. */
  findings: Finding[];
  experiments: ExperimentSummary[];
  /** "Is ICL implicit IT here?": per measure the effect against its null and each control (src/report/implicit-it.ts). */
  implicitIt: ImplicitItSummary;
  /**
   * Holm within families (tests that could not run do not count): the findings' tests (confirmatory), each
   * robustness measure's re-tests of the findings, the remaining per-preset table tests (exploratory), and the
   * tests of "Is ICL implicit IT here?" (implicitIt). `nTests` is the sum.
   */
  multipleTesting: { method: 'holm'; nTests: number; alpha: number; families: { findings: number; robustness: Record<RobustMeasure, number>; tables: number; implicitIt: number } };
}

/** summary.json */
export interface Summary {
  /** Format version of this file. */
  format: 2;
  runs: RunSummary[];
}
