// The paper's claims checked on one run: per claim its tests (raw cosine and each robustness measure), this run's numbers and a verdict.
import type { RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { spearman } from '../stats/index.js';
import { groupBy } from '../util/group.js';
import { findPreset } from '../experiments/conditions.js';
import { recordCondition, type RecordCondition } from '../experiments/record.js';
import { byRepeat, lastLayerOf, layersOf, pairedDifferences } from './groups.js';
import { ROBUST_MEASURES, convergenceAt, gapAt, pairAt, updateAt, type Measure } from './measures.js';
import { dist, fmt, pageTest, signedRankTest } from './numbers.js';
import { CLAIMS, type Claim } from './paper.js';
import type { ExperimentSummary, Finding, PairKey, RobustCheck, RobustMeasure, TestSummary } from './types.js';

/** Significance level of the verdicts, applied to Holm-adjusted p-values. */
export const ALPHA = 0.05;

type Records = readonly RepeatRecord[];

interface Ctx {
  rob: Robustness | undefined;
  experiments: readonly ExperimentSummary[];
  /** Tests shared between claims (e.g. the update test of both footnote-6 rows) are built once: Holm counts them once. */
  memo: Map<string, TestSummary>;
}

/** What one claim needs: its value text and, per measure, its tests or why the measure does not apply. */
interface Plan {
  value: string | null;
  tests(measure: Measure): TestSummary[] | { na: string };
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
/** Mean / median of the finite values, NaN when there are none. */
const meanOf = (xs: number[]): number => dist(xs).mean ?? NaN;
const medianOf = (xs: number[]): number => dist(xs).median ?? NaN;

function memo(ctx: Ctx, id: string, make: () => TestSummary): TestSummary {
  let t = ctx.memo.get(id);
  if (!t) ctx.memo.set(id, (t = make()));
  return t;
}

/** The records of `name`, or the only condition there is; undefined when neither. */
function conditionOf(recs: Records, name: string): RepeatRecord[] | undefined {
  const by = groupBy(recs, (r) => r.condition);
  return by.get(name) ?? (by.size === 1 ? [...by.values()][0] : undefined);
}

/** Paired by repeat: H1 f(a) > f(b). */
function pairedGreater(id: string, hypothesis: string, a: Records, b: Records, f: (r: RepeatRecord) => number, layer: number | null): TestSummary {
  return signedRankTest(id, hypothesis, pairedDifferences(byRepeat(a, f), byRepeat(b, f)), 'greater', layer);
}

/** Paired by repeat: H1 |f(b) − median f(b)| > |f(a) − median f(a)| (b spreads more; a Brown–Forsythe-style paired test). */
function spreadGreater(id: string, hypothesis: string, a: Records, b: Records, f: (r: RepeatRecord) => number, layer: number | null): TestSummary {
  const va = byRepeat(a, f);
  const vb = byRepeat(b, f);
  const keys = [...va.keys()].filter((k) => vb.has(k));
  const ma = medianOf(keys.map((k) => va.get(k)!));
  const mb = medianOf(keys.map((k) => vb.get(k)!));
  const da = new Map(keys.map((k) => [k, Math.abs(va.get(k)! - ma)]));
  const db = new Map(keys.map((k) => [k, Math.abs(vb.get(k)! - mb)]));
  return signedRankTest(id, hypothesis, pairedDifferences(db, da), 'greater', layer);
}

/** Page's L over ordered levels (columns) with repeats as rows. */
function trend(id: string, hypothesis: string, recs: Records, level: (r: RepeatRecord) => number | null, f: (r: RepeatRecord) => number, layer: number | null): TestSummary {
  const levels = [...new Set(recs.map(level).filter((x): x is number => x !== null))].sort((a, b) => a - b);
  const rows = [...groupBy(recs, (r) => String(r.repeat)).values()].map((g) =>
    levels.map((lv) => meanOf(g.filter((r) => level(r) === lv).map(f))),
  );
  return pageTest(id, hypothesis, rows, layer);
}

/** The two footnote-6 style comparisons of one condition (s(ICL,IT) above an anchor similarity) under a measure. */
function aboveAnchor(ctx: Ctx, key: string, recs: Records, anchors: PairKey[], layer: number, measure: Measure, summaryTests: TestSummary[]): TestSummary[] {
  if (measure === 'raw') return anchors.map((a) => summaryTests.find((t) => t.id === `iclIt>${a === 'simAnchorIcl' ? 'anchorIcl' : 'anchorIt'}`)!);
  if (measure === 'null') return [summaryTests.find((t) => t.id === 'iclIt>null')!];
  if (measure === 'update') return [memo(ctx, `${key}:update`, () => signedRankTest(`${key}:update>0`, 'update similarity cos(h_ICL − h_anchor, h_IT − h_anchor) > 0', recs.map((r) => updateAt(r, layer)), 'greater', layer))];
  return anchors.map((a) =>
    memo(ctx, `${key}:${measure}:${a}`, () => {
      const name = a === 'simAnchorIcl' ? 'anchorIcl' : 'anchorIt';
      const diffs = recs.map((r) => pairAt(ctx.rob, r, 'simIclIt', layer, measure) - pairAt(ctx.rob, r, a, layer, measure));
      return signedRankTest(`${key}:${measure}:iclIt>${name}`, `${measure} s(ICL,IT) > ${measure} s(${a === 'simAnchorIcl' ? 'anchor,ICL' : 'anchor,IT'})`, diffs, 'greater', layer);
    }),
  );
}

function summaryTestsOf(ctx: Ctx, experiment: string, condition: string): TestSummary[] {
  return ctx.experiments.find((e) => e.experiment === experiment)?.conditions.find((c) => c.condition === condition)?.tests ?? [];
}

const notARepresentation = { na: 'not a hidden-state similarity' };

/** How each claim is tested on the preset's records; a string says why it cannot be. */
function planFor(claim: Claim, recs: Records, ctx: Ctx): Plan | string {
  const id = claim.id;
  const conv = (layer: number, m: Measure) => (r: RepeatRecord) => convergenceAt(ctx.rob, r, layer, m);
  switch (id) {
    case 'fn6.anchorIcl':
    case 'fn6.anchorIt':
    case 'fig8c': {
      const cond = conditionOf(recs, claim.preset === 'translation' ? 'translation' : 'right-labels');
      if (!cond) return `no '${claim.preset === 'translation' ? 'translation' : 'right-labels'}' condition`;
      const layer = lastLayerOf(cond);
      if (layer === null) return 'no measured layer';
      const anchors: PairKey[] = id === 'fn6.anchorIcl' ? ['simAnchorIcl'] : id === 'fn6.anchorIt' ? ['simAnchorIt'] : ['simAnchorIcl', 'simAnchorIt'];
      const summaryTests = summaryTestsOf(ctx, claim.preset, cond[0].condition);
      const med = (k: PairKey) => fmt(medianOf(cond.map((r) => pairAt(undefined, r, k, layer, 'raw'))));
      return {
        value: `median s(ICL,IT) ${med('simIclIt')}, s(anchor,ICL) ${med('simAnchorIcl')}, s(anchor,IT) ${med('simAnchorIt')} (hidden state ${layer})`,
        tests: (m) => aboveAnchor(ctx, `${claim.preset}/${cond[0].condition}`, cond, anchors, layer, m, summaryTests),
      };
    }
    case 'fig3b.lower':
    case 'fig3b.spread':
    case 'fig3c':
    case 'fig8b': {
      // The two sides by the records' condition settings (never their names): demonstration task, instruction in the tuning texts, labels.
      const task = findPreset(claim.preset).task;
      const [[hi, isHi], [lo, isLo]]: [string, (c: RecordCondition) => boolean][] =
        id === 'fig3c' ? [['same-task', (c) => c.demoTask === task], ['translation-demos', (c) => c.demoTask !== null && c.demoTask !== task]]
        : id === 'fig8b' ? [['it', (c) => c.withInstruction === true], ['sl', (c) => c.withInstruction === false]]
        : [['right', (c) => c.labels === 'right'], ['wrong', (c) => c.labels === 'wrong']];
      const [a, b] = [recs.filter((r) => isHi(recordCondition(r))), recs.filter((r) => isLo(recordCondition(r)))];
      if (a.length === 0 || b.length === 0) return `needs records of both '${hi}' and '${lo}'`;
      const layer = lastLayerOf([...a, ...b])!;
      const raw = conv(layer, 'raw');
      const spread = id === 'fig3b.spread';
      const stat = (xs: Records) => {
        const d = dist(xs.map(raw));
        return fmt(spread ? d.iqr : d.median);
      };
      return {
        value: `${spread ? 'spread (IQR)' : 'median'} s(ICL,IT): ${hi} ${stat(a)} vs ${lo} ${stat(b)} (hidden state ${layer})`,
        tests: (m) => {
          const hyp = spread ? `${m} s(ICL,IT) spreads more with ${lo} than with ${hi}` : `${m} s(ICL,IT) with ${hi} > with ${lo}`;
          return [spread ? spreadGreater(`${id}:${m}`, hyp, a, b, conv(layer, m), layer) : pairedGreater(`${id}:${m}`, hyp, a, b, conv(layer, m), layer)];
        },
      };
    }
    case 'fig4c':
    case 'fig5': {
      const [key, prefix] = id === 'fig4c' ? (['bin', 'bin'] as const) : (['shots', 'k'] as const);
      const level = (r: RepeatRecord) => recordCondition(r)[key];
      const withLevel = recs.filter((r) => level(r) !== null);
      const layer = lastLayerOf(withLevel);
      if (layer === null) return `no records with a ${key === 'bin' ? 'similarity bin' : 'shot count'}`;
      const levels = [...new Set(withLevel.map(level) as number[])].sort((x, y) => x - y);
      const meanAt = (lv: number) => fmt(meanOf(withLevel.filter((r) => level(r) === lv).map(conv(layer, 'raw'))));
      let value = `mean s(ICL,IT) ${prefix}=${levels[0]} → ${prefix}=${levels[levels.length - 1]}: ${meanAt(levels[0])} → ${meanAt(levels[levels.length - 1])} (hidden state ${layer})`;
      const cos = withLevel.map((r) => [r.extra?.demoCosine, conv(layer, 'raw')(r)]).filter((p): p is [number, number] => typeof p[0] === 'number' && Number.isFinite(p[0]) && Number.isFinite(p[1]));
      if (id === 'fig4c' && cos.length >= 3) value += `; Spearman ρ(demonstration cosine, s(ICL,IT)) = ${fmt(spearman(cos.map((p) => p[0]), cos.map((p) => p[1])).r)} over ${cos.length} records`;
      return { value, tests: (m) => [trend(`${id}:${m}`, `${m} s(ICL,IT) rises with ${key === 'bin' ? 'the similarity bin' : 'k'}`, withLevel, level, conv(layer, m), layer)] };
    }
    case 'fig7': {
      const cond = conditionOf(recs, 'all-layers');
      if (!cond) return "no 'all-layers' condition";
      const layers = layersOf(cond);
      if (layers.length < 3) return `only ${layers.length} measured layer(s); the trend needs 3`;
      const meanGap = (l: number) => fmt(meanOf(cond.map((r) => gapAt(undefined, r, l, 'raw'))));
      return {
        value: `mean s(ICL,IT) − max anchor similarity, hidden state ${layers[0]} → ${layers[layers.length - 1]}: ${meanGap(layers[0])} → ${meanGap(layers[layers.length - 1])}`,
        tests: (m) => {
          const rows = [...groupBy(cond, (r) => String(r.repeat)).values()].map((g) => layers.map((l) => meanOf(g.map((r) => gapAt(ctx.rob, r, l, m)))));
          return [pageTest(`${id}:${m}`, `${m} ICL–IT convergence beyond the anchors rises with depth`, rows, null)];
        },
      };
    }
    case 'fig6.icl':
    case 'fig6.it': {
      const situation = id === 'fig6.icl' ? 'icl' : 'it';
      const test = ctx.experiments.find((e) => e.experiment === claim.preset)?.accuracy?.tests.find((t) => t.id === `accuracy.${situation}:right>wrong`);
      if (!test) return 'no records with accuracy values';
      const acc = ctx.experiments.find((e) => e.experiment === claim.preset)!.accuracy!;
      const mean = (labels: string) => pct(acc.byLabels.find((g) => g.labels === labels)?.[situation].mean);
      return { value: `mean ${situation === 'icl' ? 'ICL' : 'IT'} accuracy right ${mean('right')} vs wrong ${mean('wrong')}`, tests: (m) => (m === 'raw' ? [test] : notARepresentation) };
    }
    case 'fig10': {
      const withLoss = recs.filter((r) => r.lossDecrease !== undefined);
      if (withLoss.length === 0) return 'no records with per-token loss values';
      const test = signedRankTest('fig10:raw', 'loss decrease on example tokens > on instruction tokens', withLoss.map((r) => r.lossDecrease!.example - r.lossDecrease!.instruction), 'greater', null);
      const mean = (k: 'example' | 'instruction') => fmt(meanOf(withLoss.map((r) => r.lossDecrease![k])));
      return { value: `mean loss decrease example ${mean('example')} vs instruction ${mean('instruction')} nats/token`, tests: (m) => (m === 'raw' ? [test] : notARepresentation) };
    }
    default:
      return `no test defined for claim ${id}`;
  }
}

function emptyRobust(status: RobustCheck['status'], note: string | null): Record<RobustMeasure, RobustCheck> {
  const out = {} as Record<RobustMeasure, RobustCheck>;
  for (const m of ROBUST_MEASURES) out[m] = { status, tests: [], note };
  return out;
}

/** One Finding per claim of the paper (CLAIMS order); verdicts are set by decideFindings once Holm has run. */
export function findingsOf(records: Records, experiments: readonly ExperimentSummary[], rob: Robustness | undefined): Finding[] {
  const ctx: Ctx = { rob, experiments, memo: new Map() };
  return CLAIMS.map((claim) => {
    const recs = records.filter((r) => r.experiment === claim.preset);
    const base = { id: claim.id, figure: claim.figure, claim: claim.claim, preset: claim.preset, pValue: null, pHolm: null, effect: null, effectName: null, n: 0, verdict: 'not run' as const };
    const plan = recs.length === 0 ? `this run has no ${claim.preset} records` : planFor(claim, recs, ctx);
    if (typeof plan === 'string') return { ...base, value: null, tests: [], note: `not run: ${plan}`, robust: emptyRobust('not run', plan) };
    const raw = plan.tests('raw');
    const states = rob !== undefined && recs.some((r) => rob.of(r) !== undefined);
    const robust = {} as Record<RobustMeasure, RobustCheck>;
    for (const m of ROBUST_MEASURES) {
      const t = plan.tests(m);
      if ('na' in t) robust[m] = { status: 'n/a', tests: [], note: t.na };
      else if (m !== 'update' && !states) robust[m] = { status: 'not run', tests: [], note: 'no stored hidden states' };
      else robust[m] = { status: 'not run', tests: t, note: null };
    }
    return { ...base, value: plan.value, tests: 'na' in raw ? [] : raw, note: null, robust };
  });
}

/** Verdicts from the Holm-adjusted p-values (all tests of a finding must reject at ALPHA: an intersection–union test). */
export function decideFindings(findings: Finding[]): void {
  const summarise = (tests: TestSummary[]) => {
    if (tests.length === 0) return { ran: false, note: null as string | null, p: null as number | null, pHolm: null as number | null };
    const failed = tests.find((t) => t.pValue === null || t.pHolm === null);
    if (failed) return { ran: false, note: failed.note, p: null, pHolm: null };
    return { ran: true, note: null, p: Math.max(...tests.map((t) => t.pValue!)), pHolm: Math.max(...tests.map((t) => t.pHolm!)) };
  };
  for (const f of findings) {
    if (f.tests.length > 0) {
      const s = summarise(f.tests);
      const first = f.tests[0];
      f.n = Math.min(...f.tests.map((t) => t.n));
      f.effect = first.effect;
      f.effectName = first.test === 'page' ? 'mean Spearman ρ (Page)' : 'rank-biserial r';
      if (!s.ran) {
        f.verdict = 'not run';
        f.note = s.note;
      } else {
        f.pValue = s.p;
        f.pHolm = s.pHolm;
        f.verdict = s.pHolm! < ALPHA ? 'supported' : 'not supported';
      }
    }
    for (const m of ROBUST_MEASURES) {
      const c = f.robust[m];
      if (c.tests.length === 0) continue;
      const s = summarise(c.tests);
      c.status = !s.ran ? 'not run' : s.pHolm! < ALPHA ? 'holds' : 'fails';
      c.note = s.ran ? null : s.note;
    }
  }
}
