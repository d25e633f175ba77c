// "Is ICL implicit IT here?": per measure (hidden state, update, attention, output, patching) the effect against its null and each control, tested, with a verdict and a one-line reading.
import { recordCondition, type RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { groupBy } from '../util/group.js';
import { byRepeat, expectedConditions, isEmptyUnit, lastLayerOf, orderExperiments, pairedDifferences, valueAt } from './groups.js';
import { nullAt, simAouAt, updateAt } from './measures.js';
import { applyHolm, dist, notRun, signedRankTest } from './numbers.js';
import { ALPHA } from './verdicts.js';
import type { Dist, TestSummary } from './types.js';

export type ImplicitMeasure = 'hidden' | 'update' | 'attention' | 'output' | 'patching';

/** Whether a measure's effect exceeds every control of the run (the Findings row of the measure). */
export type ControlVerdict = 'exceeds-every-control' | 'not-above-every-control' | 'no-controls' | 'not-measured';

/** The controls `--controls` can add, in the order the section lists them (others a run holds follow, sorted). */
export const KNOWN_CONTROLS: readonly string[] = ['untrained', 'random-adapter', 'shuffled-labels'];

export interface ImplicitItControl {
  /** The control's name (record extra.control), e.g. 'untrained'. */
  control: string;
  /** Its condition, e.g. 'control:untrained'. */
  condition: string;
  /** The effect measured the same way in the control's records. */
  effect: Dist;
  /** Paired by repeat: the real condition's effect against the control's, one-sided in the measure's direction. */
  test: TestSummary;
}

/** One row of the section: one measure on one model. */
export interface ImplicitItRow {
  measure: ImplicitMeasure;
  model: string | null;
  /** The preset and its condition (the preset's first) the effect was read from; null when not measured. */
  experiment: string | null;
  condition: string | null;
  /** Hidden-state index (hidden, update, attention) or patch point (patching) the effect is read at; null for outputs. */
  layer: number | null;
  /** What the effect and its null are, in words. */
  effectName: string;
  nullName: string;
  /** 'greater': more ICL–IT agreement is a larger value (cosines, gap closed); 'less': a smaller one (KL). */
  direction: 'greater' | 'less';
  effect: Dist | null;
  null: Dist | null;
  /** Within each record, effect against its null in the measure's direction (one sample against 0 where the null is 0). */
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

/** A measure as data: which records carry it, its per-record effect and null, and where its layer comes from. */
interface MeasureDef {
  measure: ImplicitMeasure;
  effectName: string;
  nullName: string;
  direction: 'greater' | 'less';
  has(r: RepeatRecord): boolean;
  /** The layer of the real condition's records the effect is read at (null for outputs). */
  layerOf(real: readonly RepeatRecord[]): number | null;
  effect: Value;
  null: Value;
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
const meanOf = (xs: number[]): number => dist(xs).mean ?? NaN;

/** The highest layer where some record has a finite value. */
function lastFinite(recs: readonly RepeatRecord[], layersOfRecord: (r: RepeatRecord) => readonly number[], value: Value): number | null {
  const layers = [...new Set(recs.flatMap((r) => layersOfRecord(r)))].sort((a, b) => b - a);
  return layers.find((l) => recs.some((r) => Number.isFinite(value(r, l)))) ?? null;
}

/** The patch point where the mean gap closed by the ICL state is largest (ties: the earliest). */
function bestPatchPoint(recs: readonly RepeatRecord[]): number | null {
  const layers = [...new Set(recs.flatMap((r) => r.patching?.layers ?? []))].sort((a, b) => a - b);
  let best: number | null = null;
  let bestMean = -Infinity;
  for (const l of layers) {
    const m = meanOf(recs.map((r) => (r.patching ? at(r.patching.icl, r.patching.layers, l) : NaN)));
    if (Number.isFinite(m) && m > bestMean) [best, bestMean] = [l, m];
  }
  return best;
}

function measureDefs(rob: Robustness | undefined): MeasureDef[] {
  const rerun = 'run a preset with an iclit that records it, e.g. `iclit run convergence`';
  return [
    {
      measure: 'hidden', effectName: 's(ICL,IT) of last-token hidden states', nullName: 'permutation null (mean s(ICL_r, IT_r′), r′ ≠ r)', direction: 'greater',
      has: (r) => r.simIclIt.some((v) => Number.isFinite(v)),
      layerOf: (real) => lastLayerOf(real), // the paper reports the last layer
      effect: (r, l) => (l === null ? NaN : valueAt(r, 'simIclIt', l)),
      null: (r, l) => (l === null ? NaN : nullAt(rob, r, l)),
      also: [['s(anchor,ICL)', (r, l) => (l === null ? NaN : valueAt(r, 'simAnchorIcl', l))], ['s(anchor,IT)', (r, l) => (l === null ? NaN : valueAt(r, 'simAnchorIt', l))]],
      howTo: 'run any preset, e.g. `iclit run convergence`',
    },
    {
      measure: 'update', effectName: 'update cosine cos(h_ICL − h_anchor, h_IT − h_anchor)', nullName: '0 (no shared direction)', direction: 'greater',
      has: (r) => (r.simUpdate ?? []).some((v) => Number.isFinite(v)),
      layerOf: (real) => lastLayerOf(real),
      effect: (r, l) => (l === null ? NaN : updateAt(r, l)),
      null: () => 0,
      also: [['SimAOU (Dai)', (r, l) => (l === null ? NaN : simAouAt(rob, r, l))]],
      howTo: rerun,
    },
    {
      measure: 'attention', effectName: 's_att(ICL,IT): head-averaged cosine of the last token’s attention over the shared tokens', nullName: 'the higher anchor baseline max(s_att(anchor,ICL), s_att(anchor,IT))', direction: 'greater',
      has: (r) => r.attention !== undefined,
      layerOf: (real) => lastFinite(real, (r) => r.layers, (r, l) => at(r.attention?.iclIt, r.layers, l)),
      effect: (r, l) => at(r.attention?.iclIt, r.layers, l),
      // both anchors, as the hidden-state gap does: Dai's baseline is zero-shot vs ICL; anchor vs IT is its mirror
      null: (r, l) => Math.max(at(r.attention?.anchorIcl, r.layers, l), at(r.attention?.anchorIt, r.layers, l)),
      also: [
        ['attention-change cosine (Deutch)', (r, l) => at(r.attention?.change, r.layers, l)],
        ['share of ICL attention on the demonstrations', (r, l) => at(r.attention?.demoShare, r.layers, l)],
      ],
      howTo: rerun,
    },
    {
      measure: 'output', effectName: 'KL(P_ICL ‖ P_IT) of the next-token distributions (nats)', nullName: 'KL(P_ICL ‖ P_anchor)', direction: 'less',
      has: (r) => r.outputs !== undefined,
      layerOf: () => null,
      effect: (r) => r.outputs?.klIclIt ?? NaN,
      null: (r) => r.outputs?.klIclAnchor ?? NaN,
      also: [
        ['JS(ICL,IT)', (r) => r.outputs?.jsIclIt ?? NaN],
        ['top-1 ICL = IT (share)', (r) => bool(r.outputs?.top1IclIt)],
        ['KL(P_IT ‖ P_anchor)', (r) => r.outputs?.klItAnchor ?? NaN],
      ],
      howTo: rerun,
    },
    {
      measure: 'patching', effectName: 'gap closed by patching the ICL state into the anchor run, at its best patch point', nullName: '0 (the anchor’s own state)', direction: 'greater',
      has: (r) => r.patching !== undefined,
      layerOf: bestPatchPoint,
      effect: (r, l) => (r.patching ? at(r.patching.icl, r.patching.layers, l) : NaN),
      null: () => 0,
      also: [['gap closed by the IT state (same patch point)', (r, l) => (r.patching ? at(r.patching.it, r.patching.layers, l) : NaN)]],
      howTo: 'run the `patching` preset, e.g. `iclit run patching`',
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

const WORDS = {
  greater: { beyond: 'above', more: 'higher' },
  less: { beyond: 'below', more: 'lower' },
} as const;

/** 'untrained control', 'untrained and random-adapter controls', 'untrained, random-adapter and shuffled-labels controls'. */
const controlList = (names: readonly string[]): string =>
  `${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0]} control${names.length > 1 ? 's' : ''}`;

const rejects = (t: TestSummary | null): boolean => t !== null && t.pHolm !== null && t.pHolm < ALPHA;

const SHORT: Record<ImplicitMeasure, string> = {
  hidden: 's(ICL,IT)',
  update: 'the update cosine',
  attention: 's_att(ICL,IT)',
  output: 'KL(ICL‖IT)',
  patching: 'the gap closed by the ICL state',
};

/** The verdict and the one-line reading of a row, from its tests once Holm has run. */
export function readRow(row: Pick<ImplicitItRow, 'measure' | 'direction' | 'nullTest' | 'controls' | 'effect'>): { verdict: ControlVerdict; reading: string } {
  const w = WORDS[row.direction];
  const nt = row.nullTest;
  const nullOk = rejects(nt);
  const nullPart = nt === null || nt.pValue === null ? `its null was not tested (${nt?.note ?? 'no null'})` : nullOk ? `is ${w.beyond} its null` : `is not ${w.beyond} its null (Holm p = ${nt.pHolm!.toExponential(2)})`;
  const head = `${SHORT[row.measure]} ${nullPart}`;
  if (row.controls.length === 0) return { verdict: 'no-controls', reading: `${head}; no control in this run to compare with (add --controls untrained,random-adapter,shuffled-labels)` };
  const pass = row.controls.filter((c) => rejects(c.test)).map((c) => c.control);
  const fail = row.controls.filter((c) => !rejects(c.test)).map((c) => c.control);
  if (fail.length === 0) return { verdict: 'exceeds-every-control', reading: `${head}${nullOk ? ' and' : ', though'} ${w.beyond} every control (${pass.join(', ')})` };
  const failed = `no ${w.more} than the ${controlList(fail)}`;
  return { verdict: 'not-above-every-control', reading: `${head}${nullOk ? ', but' : ', and'} ${failed}${pass.length ? ` (${w.beyond} the ${controlList(pass)})` : ''}` };
}

function notMeasured(d: MeasureDef, model: string | null): ImplicitItRow {
  return {
    measure: d.measure, model, experiment: null, condition: null, layer: null, effectName: d.effectName, nullName: d.nullName, direction: d.direction,
    effect: null, null: null, nullTest: null, also: [], controls: [], missingControls: [...KNOWN_CONTROLS],
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
    const layer = d.layerOf(real);
    if (d.measure !== 'output' && layer === null) continue;
    const eff = (r: RepeatRecord) => d.effect(r, layer);
    const id = `implicitIt.${d.measure}${model ? `@${model}` : ''}`;
    const what = `${SHORT[d.measure]} ${d.direction === 'greater' ? '>' : '<'}`;
    const hasNull = real.some((r) => Number.isFinite(d.null(r, layer)));
    const nullTest = hasNull
      ? signedRankTest(`${id}:null`, `${what} ${d.nullName}`, real.map((r) => eff(r) - d.null(r, layer)), d.direction, layer)
      : notRun(`${id}:null`, `${what} ${d.nullName}`, 'wilcoxon', d.direction, layer, 'not run: no stored hidden states');
    const controlsOf = groupBy(ex.filter((r) => recordCondition(r).control !== null), (r) => recordCondition(r).control!);
    const controls = controlOrder(controlsOf.keys()).map((control): ImplicitItControl => {
      const cr = controlsOf.get(control)!;
      const diffs = pairedDifferences(byRepeat(real, eff), byRepeat(cr, eff));
      return {
        control,
        condition: cr[0].condition,
        effect: dist(cr.map(eff)),
        test: signedRankTest(`${id}:>${control}`, `${what} in the ${control} control (paired by repeat)`, diffs, d.direction, layer),
      };
    });
    return {
      measure: d.measure, model, experiment, condition, layer, effectName: d.effectName, nullName: d.nullName, direction: d.direction,
      effect: dist(real.map(eff)),
      null: hasNull ? dist(real.map((r) => d.null(r, layer))) : null,
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
 * family, each row's verdict (does the effect exceed every control) and reading. Without records: no rows.
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
