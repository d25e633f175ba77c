// summarize(runs): the numbers of summary.json (distributions, robustness measures, tests with Holm, the paper's findings).
import { recordCondition, type RepeatRecord } from '../experiments/record.js';
import { computeRobustness, type Robustness } from '../results/robustness.js';
import { groupBy } from '../util/group.js';
import { summarizeAgreement } from './agreement.js';
import { applyHolm, dist, notRun, signedRankTest } from './numbers.js';
import { ALPHA, findingsOf, modelOrder as orderOfRecords } from './findings.js';
import { variantDists } from './variants.js';
import { implicitItOf } from './implicit-it.js';
import {
  PAIRS,
  byRepeat,
  expectedConditions,
  isControl,
  lastLayerOf,
  layersOf,
  orderConditions,
  orderExperiments,
  pairedDifferences,
  valueAt,
} from './groups.js';
import { ROBUST_MEASURES, nullAt, pairAt, updateAt } from './measures.js';
import { patchingSummaryOf } from './summary-patching.js';
import type {
  AccuracySummary,
  ConditionSummary,
  ExperimentSummary,
  LayerSummary,
  PairDists,
  ReportRun,
  RobustDists,
  RobustMeasure,
  RunSummary,
  StatesSummary,
  Summary,
  TestSummary,
} from './types.js';

export interface SummarizeOptions {
  /** Massive-dimension threshold (× the median per-dimension mean |value|); default 100. */
  massiveRatio?: number;
  /** Every model of the report in the order the study ran them (default: this run's). */
  modelOrder?: string[];
}

/** Pure: the same runs (and states) always give the same Summary (no clock, no files besides what `states` reads). */
export function summarize(runs: readonly ReportRun[], opts: SummarizeOptions = {}): Summary {
  // One model order over every run: a two-model folder split into one run per model still has a first model (Fig. 3a) and others (Fig. 8a).
  const modelOrder = opts.modelOrder ?? [...new Set(runs.flatMap((r) => [...(r.models ?? []), ...orderOfRecords(r.records)]))];
  return { format: 2, runs: runs.map((r) => summarizeRun(r, { ...opts, modelOrder })) };
}

type ReadonlyRunLike = Pick<ReportRun, 'label' | 'meta' | 'states' | 'models'> & { records: readonly RepeatRecord[] };

export function summarizeRun(run: ReadonlyRunLike, opts: SummarizeOptions = {}): RunSummary {
  const rob = run.states ? computeRobustness(run.records, run.states, { massiveRatio: opts.massiveRatio }) : undefined;
  const byExperiment = groupBy(run.records, (r) => r.experiment);
  const experiments = orderExperiments(byExperiment.keys()).map((e) => summarizeExperiment(e, byExperiment.get(e) ?? [], rob));
  const order = opts.modelOrder ?? [...new Set([...(run.models ?? []), ...orderOfRecords(run.records)])];
  const checked = findingsOf(run.records, rob, order);
  const findings = checked.findings;
  // Families for Holm, each test in the first it belongs to: the findings' own tests (the confirmatory family),
  // then each robustness measure's re-tests of those claims, then the remaining tests of the per-preset tables.
  const assigned = new Set<TestSummary>();
  const family = (tests: TestSummary[]): number => {
    const fresh = [...new Set(tests)].filter((t) => !assigned.has(t));
    fresh.forEach((t) => assigned.add(t));
    return applyHolm(fresh);
  };
  const nFindings = family(findings.flatMap((f) => f.tests));
  const robustness = Object.fromEntries(ROBUST_MEASURES.map((m) => [m, family(findings.flatMap((f) => f.robust[m].tests))])) as Record<RobustMeasure, number>;
  const tableTests: TestSummary[] = [];
  for (const e of experiments) {
    tableTests.push(...e.tests, ...(e.accuracy?.tests ?? []));
    for (const c of e.conditions) tableTests.push(...c.tests);
  }
  const nTables = family(tableTests);
  const implicitIt = implicitItOf(run.records, rob, order); // its own Holm family
  const nTests = nFindings + Object.values(robustness).reduce((a, b) => a + b, 0) + nTables + implicitIt.nTests;
  checked.decide({ findings: nFindings, robustness });
  return {
    label: run.label,
    meta: { ...run.meta },
    nRecords: run.records.length,
    models: order.filter((m) => run.records.some((r) => r.model === m)),
    findings,
    experiments,
    implicitIt,
    multipleTesting: { method: 'holm', nTests, alpha: ALPHA, families: { findings: nFindings, robustness, tables: nTables, implicitIt: implicitIt.nTests } },
  };
}

export function summarizeExperiment(experiment: string, records: readonly RepeatRecord[], rob?: Robustness): ExperimentSummary {
  const byCondition = groupBy(records, (r) => r.condition);
  const conditions = orderConditions(experiment, byCondition.keys(), records).map((c) => summarizeCondition(c, byCondition.get(c) ?? [], rob));
  const missingConditions = expectedConditions(experiment, records).filter((c) => !byCondition.has(c));
  const withLoss = records.filter((r) => r.lossDecrease !== undefined && !isControl(r));
  const tests: TestSummary[] = [];
  if (withLoss.length > 0) {
    tests.push(
      signedRankTest(
        'lossDecrease:instruction!=example',
        'per-token loss decrease differs between instruction and example tokens',
        withLoss.map((r) => r.lossDecrease!.instruction - r.lossDecrease!.example),
        'two-sided',
        null,
      ),
    );
  }
  return { experiment, n: records.length, conditions, missingConditions, accuracy: summarizeAccuracy(records), tests, states: statesSummary(experiment, records, rob) };
}

function statesSummary(experiment: string, records: readonly RepeatRecord[], rob: Robustness | undefined): StatesSummary | null {
  const models = new Set(records.map((r) => r.model));
  const groups = (rob?.groups ?? []).filter((g) => g.experiment === experiment && models.has(g.model) && g.nWithStates > 0);
  if (groups.length === 0) return null;
  return {
    nWithStates: groups.reduce((s, g) => s + g.nWithStates, 0),
    massiveRatio: groups[0].massiveRatio,
    massiveDims: groups.flatMap((g) => g.layers.map((l) => ({ model: g.model, ...(g.control !== null ? { control: g.control } : {}), layer: l.layer, dims: l.massiveDims, nStates: l.nStates }))),
    maxDeviation: Math.max(...groups.map((g) => g.maxDeviation)),
  };
}

function pairDists(records: readonly RepeatRecord[], layer: number | null, rob: Robustness | undefined, measure: 'raw' | 'centred' | 'massiveOut'): PairDists {
  const at = (k: (typeof PAIRS)[number]) => dist(layer === null ? [] : records.map((r) => pairAt(rob, r, k, layer, measure)));
  return { simAnchorIcl: at('simAnchorIcl'), simAnchorIt: at('simAnchorIt'), simIclIt: at('simIclIt') };
}

function robustDists(records: readonly RepeatRecord[], layer: number | null, rob: Robustness | undefined): RobustDists {
  const withStates = rob !== undefined && records.some((r) => rob.of(r) !== undefined);
  const cka = layer === null || !rob ? undefined : rob.conditions.find((c) => c.condition === records[0]?.condition && c.experiment === records[0]?.experiment && c.model === records[0]?.model)?.layers.find((l) => l.layer === layer)?.cka;
  return {
    update: dist(layer === null ? [] : records.map((r) => updateAt(r, layer))),
    centred: withStates ? pairDists(records, layer, rob, 'centred') : null,
    massiveOut: withStates ? pairDists(records, layer, rob, 'massiveOut') : null,
    nullIclIt: withStates && layer !== null ? dist(records.map((r) => nullAt(rob, r, layer))) : null,
    cka: cka === undefined || !Number.isFinite(cka) ? null : cka,
    ...variantDists(records, layer, rob),
  };
}

/** The study's similarity tests at `layer`: the two of footnote 6 and matched s(ICL,IT) > the permutation null. */
export function similarityTests(records: readonly RepeatRecord[], layer: number | null, rob?: Robustness): TestSummary[] {
  const diff = (a: (typeof PAIRS)[number], b: (typeof PAIRS)[number]) =>
    layer === null ? [] : records.map((r) => valueAt(r, a, layer) - valueAt(r, b, layer));
  const nullHypothesis = 's(ICL,IT) > permutation null (mean s(ICL_r, IT_r′), r′ ≠ r)';
  const withStates = rob !== undefined && records.some((r) => rob.of(r) !== undefined);
  return [
    signedRankTest('iclIt>anchorIcl', 's(ICL,IT) > s(anchor,ICL)', diff('simIclIt', 'simAnchorIcl'), 'greater', layer),
    signedRankTest('iclIt>anchorIt', 's(ICL,IT) > s(anchor,IT)', diff('simIclIt', 'simAnchorIt'), 'greater', layer),
    withStates && layer !== null
      ? signedRankTest('iclIt>null', nullHypothesis, records.map((r) => valueAt(r, 'simIclIt', layer) - nullAt(rob, r, layer)), 'greater', layer)
      : notRun('iclIt>null', nullHypothesis, 'wilcoxon', 'greater', layer, 'not run: no stored hidden states'),
  ];
}

export function summarizeCondition(condition: string, records: readonly RepeatRecord[], rob?: Robustness): ConditionSummary {
  const lastLayer = lastLayerOf(records);
  const layers: LayerSummary[] = layersOf(records).map((layer) => ({ layer, ...pairDists(records, layer, rob, 'raw'), ...robustDists(records, layer, rob) }));
  const withAccuracy = records.filter((r) => r.accuracy !== undefined); // one condition's records: a control's are its own
  const withLoss = records.filter((r) => r.lossDecrease !== undefined);
  const withTune = records.filter((r) => typeof r.tuneLoss === 'number');
  return {
    condition,
    n: records.length,
    nStates: rob ? records.filter((r) => rob.of(r) !== undefined).length : 0,
    lastLayer,
    last: { ...pairDists(records, lastLayer, rob, 'raw'), ...robustDists(records, lastLayer, rob) },
    layers,
    tests: similarityTests(records, lastLayer, rob),
    accuracy: withAccuracy.length
      ? {
          zeroShot: dist(withAccuracy.map((r) => r.accuracy!.zeroShot)),
          icl: dist(withAccuracy.map((r) => r.accuracy!.icl)),
          it: dist(withAccuracy.map((r) => r.accuracy!.it)),
        }
      : null,
    lossDecrease: withLoss.length
      ? { instruction: dist(withLoss.map((r) => r.lossDecrease!.instruction)), example: dist(withLoss.map((r) => r.lossDecrease!.example)) }
      : null,
    tuneLoss: withTune.length ? dist(withTune.map((r) => r.tuneLoss as number)) : null,
    agreement: summarizeAgreement(records),
    ...patchingSummaryOf(records),
  };
}

type Situation = 'zeroShot' | 'icl' | 'it';

/** Accuracy per label setting and the right > wrong tests (paired by repeat index), where records carry `accuracy`. */
export function summarizeAccuracy(records: readonly RepeatRecord[]): AccuracySummary | null {
  const withAccuracy = records.filter((r) => r.accuracy !== undefined);
  if (withAccuracy.length === 0) return null;
  // a control condition is a group of its own, never pooled with the real condition's label setting
  const groups = groupBy(withAccuracy, (r) => (isControl(r) ? r.condition : (recordCondition(r).labels ?? r.condition)));
  const order = ['right', 'wrong'];
  const names = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const byLabels = names.map((labels) => {
    const g = groups.get(labels) ?? [];
    return {
      labels,
      n: g.length,
      zeroShot: dist(g.map((r) => r.accuracy!.zeroShot)),
      icl: dist(g.map((r) => r.accuracy!.icl)),
      it: dist(g.map((r) => r.accuracy!.it)),
    };
  });
  const tests: TestSummary[] = [];
  const right = groups.get('right');
  const wrong = groups.get('wrong');
  for (const situation of ['icl', 'it'] as const satisfies readonly Situation[]) {
    const id = `accuracy.${situation}:right>wrong`;
    const hypothesis = `${situation === 'icl' ? 'ICL' : 'IT'} accuracy with right labels > with wrong labels`;
    if (!right || !wrong) {
      tests.push(notRun(id, hypothesis, 'wilcoxon', 'greater', null, `not run: no records with ${right ? 'wrong' : 'right'} labels`));
      continue;
    }
    const value = (r: RepeatRecord) => r.accuracy?.[situation];
    tests.push(signedRankTest(id, hypothesis, pairedDifferences(byRepeat(right, value), byRepeat(wrong, value)), 'greater', null));
  }
  return { byLabels, tests };
}
