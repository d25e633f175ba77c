// summarize(runs): the numbers of summary.json (distributions per run/experiment/condition/layer and the study's Wilcoxon tests).
import type { RepeatRecord } from '../experiments/record.js';
import { dist, signedRankTest } from './numbers.js';
import {
  PAIRS,
  expectedConditions,
  groupBy,
  labelsOf,
  lastLayerOf,
  layersOf,
  orderConditions,
  orderExperiments,
  valueAt,
} from './groups.js';
import type {
  AccuracySummary,
  ConditionSummary,
  ExperimentSummary,
  LayerSummary,
  PairDists,
  ReportRun,
  RunSummary,
  Summary,
  TestSummary,
} from './types.js';

/** Pure: the same runs always give the same Summary (no clock, no files). */
export function summarize(runs: readonly ReportRun[]): Summary {
  return { format: 1, runs: runs.map(summarizeRun) };
}

export function summarizeRun(run: ReadonlyRunLike): RunSummary {
  const byExperiment = groupBy(run.records, (r) => r.experiment);
  const experiments = orderExperiments(byExperiment.keys()).map((e) => summarizeExperiment(e, byExperiment.get(e) ?? []));
  return {
    label: run.label,
    meta: { ...run.meta },
    nRecords: run.records.length,
    models: [...new Set(run.records.map((r) => r.model))].sort(),
    experiments,
  };
}

type ReadonlyRunLike = Pick<ReportRun, 'label' | 'meta'> & { records: readonly RepeatRecord[] };

export function summarizeExperiment(experiment: string, records: readonly RepeatRecord[]): ExperimentSummary {
  const byCondition = groupBy(records, (r) => r.condition);
  const conditions = orderConditions(experiment, byCondition.keys(), records).map((c) => summarizeCondition(c, byCondition.get(c) ?? []));
  const missingConditions = expectedConditions(experiment, records).filter((c) => !byCondition.has(c));
  const withLoss = records.filter((r) => r.lossDecrease !== undefined);
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
  return { experiment, n: records.length, conditions, missingConditions, accuracy: summarizeAccuracy(records), tests };
}

function pairDists(records: readonly RepeatRecord[], layer: number | null): PairDists {
  const at = (k: (typeof PAIRS)[number]) => dist(layer === null ? [] : records.map((r) => valueAt(r, k, layer)));
  return { simAnchorIcl: at('simAnchorIcl'), simAnchorIt: at('simAnchorIt'), simIclIt: at('simIclIt') };
}

/** The two similarity tests the study reports, on per-repeat differences at `layer`. */
export function similarityTests(records: readonly RepeatRecord[], layer: number | null): TestSummary[] {
  const diff = (a: (typeof PAIRS)[number], b: (typeof PAIRS)[number]) =>
    layer === null ? [] : records.map((r) => valueAt(r, a, layer) - valueAt(r, b, layer));
  return [
    signedRankTest('iclIt>anchorIcl', 's(ICL,IT) > s(anchor,ICL)', diff('simIclIt', 'simAnchorIcl'), 'greater', layer),
    signedRankTest('iclIt>anchorIt', 's(ICL,IT) > s(anchor,IT)', diff('simIclIt', 'simAnchorIt'), 'greater', layer),
  ];
}

export function summarizeCondition(condition: string, records: readonly RepeatRecord[]): ConditionSummary {
  const lastLayer = lastLayerOf(records);
  const layers: LayerSummary[] = layersOf(records).map((layer) => ({ layer, ...pairDists(records, layer) }));
  const withAccuracy = records.filter((r) => r.accuracy !== undefined);
  const withLoss = records.filter((r) => r.lossDecrease !== undefined);
  const withTune = records.filter((r) => typeof r.tuneLoss === 'number');
  return {
    condition,
    n: records.length,
    lastLayer,
    last: pairDists(records, lastLayer),
    layers,
    tests: similarityTests(records, lastLayer),
    accuracy: withAccuracy.length
      ? {
          zeroShot: dist(withAccuracy.map((r) => r.accuracy?.zeroShot ?? NaN)),
          icl: dist(withAccuracy.map((r) => r.accuracy?.icl ?? NaN)),
          it: dist(withAccuracy.map((r) => r.accuracy?.it ?? NaN)),
        }
      : null,
    lossDecrease: withLoss.length
      ? { instruction: dist(withLoss.map((r) => r.lossDecrease!.instruction)), example: dist(withLoss.map((r) => r.lossDecrease!.example)) }
      : null,
    tuneLoss: withTune.length ? dist(withTune.map((r) => r.tuneLoss as number)) : null,
  };
}

type Situation = 'zeroShot' | 'icl' | 'it';

/** Mean value per repeat index (several records of one repeat, e.g. several conditions of one label setting, are averaged). */
function byRepeat(records: readonly RepeatRecord[], situation: Situation): Map<number, number> {
  const sums = new Map<number, { s: number; n: number }>();
  for (const r of records) {
    const v = r.accuracy?.[situation];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const acc = sums.get(r.repeat) ?? { s: 0, n: 0 };
    acc.s += v;
    acc.n += 1;
    sums.set(r.repeat, acc);
  }
  return new Map([...sums].map(([k, { s, n }]) => [k, s / n]));
}

/** Accuracy per label setting and the right > wrong tests (paired by repeat index), where records carry `correct`. */
export function summarizeAccuracy(records: readonly RepeatRecord[]): AccuracySummary | null {
  const withAccuracy = records.filter((r) => r.accuracy !== undefined);
  if (withAccuracy.length === 0) return null;
  const groups = groupBy(withAccuracy, (r) => labelsOf(r) ?? r.condition);
  const order = ['right', 'wrong'];
  const names = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const byLabels = names.map((labels) => {
    const g = groups.get(labels) ?? [];
    return {
      labels,
      n: g.length,
      zeroShot: dist(g.map((r) => r.accuracy?.zeroShot ?? NaN)),
      icl: dist(g.map((r) => r.accuracy?.icl ?? NaN)),
      it: dist(g.map((r) => r.accuracy?.it ?? NaN)),
    };
  });
  const tests: TestSummary[] = [];
  const right = groups.get('right');
  const wrong = groups.get('wrong');
  for (const situation of ['icl', 'it'] as const) {
    const id = `accuracy.${situation}:right>wrong`;
    const hypothesis = `${situation === 'icl' ? 'ICL' : 'IT'} accuracy with right labels > with wrong labels`;
    if (!right || !wrong) {
      tests.push({ id, hypothesis, alternative: 'greater', layer: null, n: 0, statistic: null, pValue: null, method: null, note: `not run: no records with ${right ? 'wrong' : 'right'} labels` });
      continue;
    }
    const a = byRepeat(right, situation);
    const b = byRepeat(wrong, situation);
    const diffs = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y).map((k) => a.get(k)! - b.get(k)!);
    tests.push(signedRankTest(id, hypothesis, diffs, 'greater', null));
  }
  return { byLabels, tests };
}
