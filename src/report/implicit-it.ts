// "Is ICL implicit IT here?": per measure (hidden state, update, attention, output, patching) the effect over its own null, against 0 and against each control's effect over its null, tested, with a verdict and a one-line reading.
import { recordCondition, type RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { groupBy } from '../util/group.js';
import { byRepeat, expectedConditions, isEmptyUnit, lastLayerOf, orderExperiments, pairedDifferences, valueAt } from './groups.js';
import { nullAt, simAouAt, updateAt } from './measures.js';
import { applyHolm, dist, notRun, signedRankTest } from './numbers.js';
import { ALPHA } from './verdicts.js';
import type { Dist, TestSummary } from './types.js';

export type ImplicitMeasure = 'hidden' | 'update' | 'attention' | 'output' | 'patching';

/**
 * Whether a measure's effect over its null exceeds every control of the run (the Findings row of the measure):
 * 'exceeds-every-control' needs the effect above its null (after Holm), every known control run and its margin above
 * each control's; 'exceeds-controls-run' (partial): above its null and every control tested, but a known control was
 * not run (or could not be tested); 'not-above-null': the effect is not shown above its own null, whatever the
 * controls; 'not-above-every-control': some control's margin matches it.
 */
export type ControlVerdict = 'exceeds-every-control' | 'exceeds-controls-run' | 'not-above-every-control' | 'not-above-null' | 'no-controls' | 'not-measured';

/** The controls `--controls` can add, in the order the section lists them (others a run holds follow, sorted). */
export const KNOWN_CONTROLS: readonly string[] = ['untrained', 'random-adapter', 'shuffled-labels'];

export interface ImplicitItControl {
  /** The control's name (record extra.control), e.g. 'untrained'. */
  control: string;
  /** Its condition, e.g. 'control:untrained'. */
  condition: string;
  /** The effect and its null measured the same way in the control's records (for reading; the test uses the margin). */
  effect: Dist;
  null: Dist | null;
  /** The control's effect over its own null, signed so that positive is more ICL–IT agreement than its null. */
  overNull: Dist;
  /** Paired by repeat: the real condition's effect over its null against the control's, one-sided (greater). */
  test: TestSummary;
}

/** One row of the section: one measure on one model. */
export interface ImplicitItRow {
  measure: ImplicitMeasure;
  model: string | null;
  /** The preset and its condition (the preset's first) the effect was read from; null when not measured. */
  experiment: string | null;
  condition: string | null;
  /** Hidden-state index the effect is read at (measures with a layer); null for measures read once per record (output, patching). */
  layer: number | null;
  /** What the effect and its null are, in words. */
  effectName: string;
  nullName: string;
  /** 'greater': more ICL–IT agreement is a larger raw effect (cosines, gap closed); 'less': a smaller one (KL). */
  direction: 'greater' | 'less';
  effect: Dist | null;
  null: Dist | null;
  /** Per record the effect over its null in the measure's direction (effect − null, or null − effect for 'less'). */
  overNull: Dist | null;
  /** The margin (effect over its null) against 0, one-sided (greater). */
  nullTest: TestSummary | null;
  /** Numbers shown beside the effect (SimAOU, JS, top-1 agreement, …), over the same records. */
  also: { name: string; dist: Dist }[];
  controls: ImplicitItControl[];
  /** Known controls the run lacks for this measure. */
  missingControls: string[];
  verdict: ControlVerdict;
  /** One line read off the numbers above. */
  reading: string;
}

export interface ImplicitItSummary {
  rows: ImplicitItRow[];
  /** Tests of the section that ran: their own Holm family. */
  nTests: number;
}

type Value = (r: RepeatRecord, layer: number | null) => number;

/** A measure as data: which records carry it, its per-record effect and null, and whether it is read at a layer. */
interface MeasureDef {
  measure: ImplicitMeasure;
  effectName: string;
  nullName: string;
  direction: 'greater' | 'less';
  /** Whether the effect is read at one layer, chosen by `layerOf`; false: one number per record (layer null). */
  hasLayer: boolean;
  has(r: RepeatRecord): boolean;
  /** The layer of the real condition's records the effect is read at (used only when `hasLayer`). */
  layerOf(real: readonly RepeatRecord[]): number | null;
  effect: Value;
  null: Value;
  /** Why the null test cannot run when no record of the real condition has a finite null. */
  noNull: string;
  also: [string, Value][];
  /** What to run to measure it. */
  howTo: string;
}

const at = (xs: readonly number[] | undefined, layers: readonly number[], layer: number | null): number => {
  const i = layer === null ? -1 : layers.indexOf(layer);
  const v = i < 0 ? undefined : xs?.[i];
  return typeof v === 'number' ? v : NaN;
};
const bool = (b: boolean | undefined): number => (b === undefined ? NaN : b ? 1 : 0);

/** The highest layer where some record has a finite value. */
function lastFinite(recs: readonly RepeatRecord[], layersOfRecord: (r: RepeatRecord) => readonly number[], value: Value): number | null {
  const layers = [...new Set(recs.flatMap((r) => layersOfRecord(r)))].sort((a, b) => b - a);
  return layers.find((l) => recs.some((r) => Number.isFinite(value(r, l)))) ?? null;
}

/**
 * A patching curve averaged over every patch point but the first (index 0, the embeddings): fixed in advance, so
 * no patch point is picked by looking at the data. NaN without the curve, with fewer than 2 points or any point NaN.
 */
export function patchMean(curve: readonly number[] | undefined): number {
  if (!curve || curve.length < 2) return NaN;
  const rest = curve.slice(1);
  return rest.every((v) => Number.isFinite(v)) ? rest.reduce((a, b) => a + b, 0) / rest.length : NaN;
}

const noLayer = (): null => null;

function measureDefs(rob: Robustness | undefined): MeasureDef[] {
  const rerun = 'run a preset with an iclit that records it, e.g. `iclit run convergence`';
  const always = 'not run: no null';
  return [
    {
      measure: 'hidden', effectName: 's(ICL,IT) of last-token hidden states', nullName: 'permutation null (mean s(ICL_r, IT_r′), r′ ≠ r)', direction: 'greater', hasLayer: true,
      has: (r) => r.simIclIt.some((v) => Number.isFinite(v)),
      layerOf: (real) => lastLayerOf(real), // the paper reports the last layer
      effect: (r, l) => (l === null ? NaN : valueAt(r, 'simIclIt', l)),
      null: (r, l) => (l === null ? NaN : nullAt(rob, r, l)),
      noNull: 'not run: no stored hidden states',
      also: [['s(anchor,ICL)', (r, l) => (l === null ? NaN : valueAt(r, 'simAnchorIcl', l))], ['s(anchor,IT)', (r, l) => (l === null ? NaN : valueAt(r, 'simAnchorIt', l))]],
      howTo: 'run any preset, e.g. `iclit run convergence`',
    },
    {
      measure: 'update', effectName: 'update cosine cos(h_ICL − h_anchor, h_IT − h_anchor)', nullName: '0 (no shared direction)', direction: 'greater', hasLayer: true,
      has: (r) => (r.simUpdate ?? []).some((v) => Number.isFinite(v)),
      layerOf: (real) => lastLayerOf(real),
      effect: (r, l) => (l === null ? NaN : updateAt(r, l)),
      null: () => 0,
      noNull: always,
      also: [['SimAOU (Dai)', (r, l) => (l === null ? NaN : simAouAt(rob, r, l))]],
      howTo: rerun,
    },
    {
      measure: 'attention', effectName: 's_att(ICL,IT): head-averaged cosine of the last token’s attention over the shared tokens', nullName: 'the higher anchor baseline max(s_att(anchor,ICL), s_att(anchor,IT))', direction: 'greater', hasLayer: true,
      has: (r) => r.attention !== undefined,
      layerOf: (real) => lastFinite(real, (r) => r.layers, (r, l) => at(r.attention?.iclIt, r.layers, l)),
      effect: (r, l) => at(r.attention?.iclIt, r.layers, l),
      // both anchors, as the hidden-state gap does: Dai's baseline is zero-shot vs ICL; anchor vs IT is its mirror
      null: (r, l) => Math.max(at(r.attention?.anchorIcl, r.layers, l), at(r.attention?.anchorIt, r.layers, l)),
      noNull: always,
      also: [
        ['attention-change cosine (Deutch)', (r, l) => at(r.attention?.change, r.layers, l)],
        ['share of ICL attention on the demonstrations', (r, l) => at(r.attention?.demoShare, r.layers, l)],
      ],
      howTo: rerun,
    },
    {
      measure: 'output', effectName: 'KL(P_ICL ‖ P_IT) of the next-token distributions (nats)', nullName: 'KL(P_ICL ‖ P_anchor)', direction: 'less', hasLayer: false,
      has: (r) => r.outputs !== undefined,
      layerOf: noLayer,
      effect: (r) => r.outputs?.klIclIt ?? NaN,
      null: (r) => r.outputs?.klIclAnchor ?? NaN,
      noNull: always,
      also: [
        ['JS(ICL,IT)', (r) => r.outputs?.jsIclIt ?? NaN],
        ['top-1 ICL = IT (share)', (r) => bool(r.outputs?.top1IclIt)],
        ['KL(P_IT ‖ P_anchor)', (r) => r.outputs?.klItAnchor ?? NaN],
      ],
      howTo: rerun,
    },
    {
      measure: 'patching',
      effectName: 'gap toward the IT output closed by patching the ICL state into the anchor run (patching.iclToIt), mean over every patch point but the first',
      nullName: '0 (the anchor’s own state)', direction: 'greater', hasLayer: false,
      has: (r) => r.patching?.iclToIt !== undefined,
      layerOf: noLayer,
      effect: (r) => patchMean(r.patching?.iclToIt),
      null: () => 0,
      noNull: always,
      also: [
        ['ICL state toward the ICL output (same points)', (r) => patchMean(r.patching?.icl)],
        ['IT state toward the ICL output (same points)', (r) => patchMean(r.patching?.itToIcl)],
      ],
      howTo: 'run the `patching` preset with an iclit that records the cross curve (patching.iclToIt), e.g. `iclit run patching`',
    },
  ];
}

/** The records of one experiment that play the real condition: the preset's first condition (the one controls copy), else the first non-control one. */
function realCondition(recs: readonly RepeatRecord[], experiment: string): string | null {
  const names = new Set(recs.filter((r) => recordCondition(r).control === null).map((r) => r.condition));
  return expectedConditions(experiment, recs).find((c) => names.has(c)) ?? [...names][0] ?? null;
}

function controlOrder(names: Iterable<string>): string[] {
  const set = [...new Set(names)];
  return [...KNOWN_CONTROLS.filter((c) => set.includes(c)), ...set.filter((c) => !KNOWN_CONTROLS.includes(c)).sort()];
}

/** 'untrained control', 'untrained and random-adapter controls', 'untrained, random-adapter and shuffled-labels controls'. */
const controlList = (names: readonly string[]): string =>
  `${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0]} control${names.length > 1 ? 's' : ''}`;

const rejects = (t: TestSummary | null): boolean => t !== null && t.pHolm !== null && t.pHolm < ALPHA;

const SHORT: Record<ImplicitMeasure, string> = {
  hidden: 's(ICL,IT)',
  update: 'the update cosine',
  attention: 's_att(ICL,IT)',
  output: 'KL(ICL‖IT)',
  patching: 'the gap toward IT closed by the ICL state',
};

/** The verdict and the one-line reading of a row, from its tests once Holm has run. */
export function readRow(row: Pick<ImplicitItRow, 'measure' | 'direction' | 'nullTest' | 'controls' | 'missingControls'>): { verdict: ControlVerdict; reading: string } {
  const beyond = row.direction === 'greater' ? 'above' : 'below';
  const nt = row.nullTest;
  const nullOk = rejects(nt);
  const nullPart = nt === null || nt.pValue === null ? `its null was not tested (${nt?.note ?? 'no null'})` : nullOk ? `is ${beyond} its null` : `is not ${beyond} its null (Holm p = ${nt.pHolm!.toExponential(2)})`;
  const head = `${SHORT[row.measure]} ${nullPart}`;
  if (row.controls.length === 0) return { verdict: 'no-controls', reading: `${head}; no control in this run to compare with (add --controls ${KNOWN_CONTROLS.join(',')})` };
  const pass = row.controls.filter((c) => rejects(c.test)).map((c) => c.control);
  const fail = row.controls.filter((c) => c.test.pValue !== null && !rejects(c.test)).map((c) => c.control);
  const untested = row.controls.filter((c) => c.test.pValue === null);
  const missing = row.missingControls;
  const verdict: ControlVerdict = !nullOk
    ? 'not-above-null'
    : fail.length > 0
      ? 'not-above-every-control'
      : untested.length > 0 || missing.length > 0
        ? 'exceeds-controls-run'
        : 'exceeds-every-control';
  // what stops a full pass first: the controls that match it, then the ones it exceeds, then what was not tested or run
  const parts = [
    ...(fail.length ? [`margin over the null no larger than in the ${controlList(fail)}`] : []),
    ...(pass.length ? [verdict === 'exceeds-every-control' ? `margin over the null larger than in every control (${pass.join(', ')})` : `margin over the null larger than in the ${controlList(pass)}`] : []),
    ...(untested.length ? [`not tested against the ${controlList(untested.map((c) => c.control))} (${untested.map((c) => c.test.note ?? 'not run').join('; ')})`] : []),
    ...(missing.length ? [`not run: the ${controlList(missing)} (add --controls ${missing.join(',')})`] : []),
  ];
  return { verdict, reading: `${head}; ${parts.join('; ')}` };
}

function notMeasured(d: MeasureDef, model: string | null): ImplicitItRow {
  return {
    measure: d.measure, model, experiment: null, condition: null, layer: null, effectName: d.effectName, nullName: d.nullName, direction: d.direction,
    effect: null, null: null, overNull: null, nullTest: null, also: [], controls: [], missingControls: [...KNOWN_CONTROLS],
    verdict: 'not-measured', reading: `not measured (${d.howTo} to measure it)`,
  };
}

/** One measure on one model's records: the effect in the real condition, its null, and each control, with the tests (Holm not yet applied). */
function rowOf(d: MeasureDef, model: string, recs: readonly RepeatRecord[]): ImplicitItRow {
  const usable = recs.filter((r) => !isEmptyUnit(r) && d.has(r));
  const byExperiment = groupBy(usable, (r) => r.experiment);
  // Prefer the experiment that ran controls, then the paper's order.
  const experiments = orderExperiments(byExperiment.keys());
  const withControls = experiments.filter((e) => byExperiment.get(e)!.some((r) => recordCondition(r).control !== null));
  const candidates = [...withControls, ...experiments.filter((e) => !withControls.includes(e))];
  for (const experiment of candidates) {
    const ex = byExperiment.get(experiment)!;
    const condition = realCondition(ex, experiment);
    if (condition === null) continue;
    const real = ex.filter((r) => r.condition === condition && recordCondition(r).control === null);
    const layer = d.hasLayer ? d.layerOf(real) : null;
    if (d.hasLayer && layer === null) continue;
    const eff = (r: RepeatRecord) => d.effect(r, layer);
    const nul = (r: RepeatRecord) => d.null(r, layer);
    // the effect over its own null, signed so that positive is more ICL–IT agreement than the null
    const margin = (r: RepeatRecord) => (d.direction === 'greater' ? eff(r) - nul(r) : nul(r) - eff(r));
    const id = `implicitIt.${d.measure}${model ? `@${model}` : ''}`;
    const what = `${SHORT[d.measure]} ${d.direction === 'greater' ? '>' : '<'}`;
    const hasNull = real.some((r) => Number.isFinite(nul(r)));
    const nullTest = hasNull
      ? signedRankTest(`${id}:null`, `${what} ${d.nullName}`, real.map(margin), 'greater', layer)
      : notRun(`${id}:null`, `${what} ${d.nullName}`, 'wilcoxon', 'greater', layer, d.noNull);
    const controlsOf = groupBy(ex.filter((r) => recordCondition(r).control !== null), (r) => recordCondition(r).control!);
    const controls = controlOrder(controlsOf.keys()).map((control): ImplicitItControl => {
      const cr = controlsOf.get(control)!;
      const tid = `${id}:>${control}`;
      const hypothesis = `${SHORT[d.measure]} over its null: a larger margin than in the ${control} control (paired by repeat)`;
      return {
        control,
        condition: cr[0].condition,
        effect: dist(cr.map(eff)),
        null: hasNull ? dist(cr.map(nul)) : null,
        overNull: dist(cr.map(margin)),
        test: hasNull
          ? signedRankTest(tid, hypothesis, pairedDifferences(byRepeat(real, margin), byRepeat(cr, margin)), 'greater', layer)
          : notRun(tid, hypothesis, 'wilcoxon', 'greater', layer, d.noNull),
      };
    });
    return {
      measure: d.measure, model, experiment, condition, layer, effectName: d.effectName, nullName: d.nullName, direction: d.direction,
      effect: dist(real.map(eff)),
      null: hasNull ? dist(real.map(nul)) : null,
      overNull: hasNull ? dist(real.map(margin)) : null,
      nullTest,
      also: d.also.map(([name, f]) => ({ name, dist: dist(real.map((r) => f(r, layer))) })).filter((a) => a.dist.n > 0),
      controls,
      missingControls: KNOWN_CONTROLS.filter((c) => !controlsOf.has(c)),
      verdict: 'not-measured',
      reading: '',
    };
  }
  return notMeasured(d, model);
}

/**
 * The section for one run: a row per measure and model (models in `order`), the section's tests Holm-adjusted as one
 * family, each row's verdict (does the effect over its null exceed every control's) and reading. Without records: no rows.
 */
export function implicitItOf(records: readonly RepeatRecord[], rob: Robustness | undefined, order: readonly string[]): ImplicitItSummary {
  const present = new Set(records.map((r) => r.model));
  const models = [...order.filter((m) => present.has(m)), ...[...present].filter((m) => !order.includes(m))];
  const byModel = groupBy(records, (r) => r.model);
  const rows = models.flatMap((m) => measureDefs(rob).map((d) => rowOf(d, m, byModel.get(m) ?? [])));
  const nTests = applyHolm(rows.flatMap((r) => [...(r.nullTest ? [r.nullTest] : []), ...r.controls.map((c) => c.test)]));
  for (const row of rows) if (row.experiment !== null) Object.assign(row, readRow(row));
  return { rows, nTests };
}
