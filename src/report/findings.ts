// The paper's claims checked on one run, per model: each claim's quantity (paper.ts) under the raw cosine and each robustness measure, its tests or intervals, and its verdict (verdicts.ts).
import type { RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { groupBy } from '../util/group.js';
import { recordCondition } from '../experiments/record.js';
import { PAIR_LABEL, byRepeat, isEmptyUnit, lastLayerOf, layersOf, pairedDifferences } from './groups.js';
import { OWN_BASELINE, ROBUST_MEASURES, convergenceAt, pairAt, type Measure, type PairMeasure } from './measures.js';
import { dist, fmt, notRun, pageTest, signedRankTest } from './numbers.js';
import { CLAIMS, type Claim, type Selector } from './paper.js';
import type { Finding, Interval, PairKey, RobustCheck, RobustMeasure, TestSummary } from './types.js';
import { ACCURACY_MARGIN, FLAT_MARGIN, HIGH_THRESHOLD, directional, equivalent, high, medianInterval, notSignificant, uShape, type Decision } from './verdicts.js';

export { ALPHA } from './verdicts.js';

type Records = readonly RepeatRecord[];

/** One claim evaluated under one measure: its tests, the opposite tests, its intervals and, once Holm has run, its rule. */
interface Evaluation {
  tests: TestSummary[];
  opposite: TestSummary[];
  intervals: Interval[];
  decide(familySize: number): Decision;
}

/** What one claim needs on one model's records: its value text and its evaluation under each measure (or why it does not apply). */
interface Plan {
  value: string;
  under(measure: Measure): Evaluation | { na: string };
}

const meanOf = (xs: number[]): number => dist(xs).mean ?? NaN;
const medianOf = (xs: number[]): number => dist(xs).median ?? NaN;
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–');

/** Whether a record matches a selector, by the typed fields the runner writes into `extra`. */
function matches(r: RepeatRecord, s: Selector | undefined): boolean {
  if (!s) return true;
  const c = recordCondition(r);
  if (s.labels !== undefined && c.labels !== s.labels) return false;
  if (s.demoTask !== undefined && c.demoTask !== s.demoTask) return false;
  if (s.withInstruction !== undefined && (c.withInstruction ?? true) !== s.withInstruction) return false;
  return true;
}

const selectorText = (s: Selector): string =>
  [s.labels && `${s.labels} labels`, s.demoTask && `${s.demoTask} demonstrations`, s.withInstruction !== undefined && (s.withInstruction ? 'IT' : 'SL')].filter(Boolean).join(', ');

/** A similarity of a record under a measure; null where the measure does not apply to that similarity. */
function simUnder(rob: Robustness | undefined, pair: PairKey, measure: Measure): ((r: RepeatRecord, layer: number) => number) | null {
  if (pair === 'simIclIt') return (r, layer) => convergenceAt(rob, r, layer, measure);
  if (OWN_BASELINE.includes(measure)) return null;
  return (r, layer) => pairAt(rob, r, pair, layer, measure as PairMeasure);
}

const NA_ANCHOR = { na: 'the update similarity, SimAOU and the permutation null measure s(ICL,IT) only' };
const NA_SCALE = { na: 'the threshold is on the raw cosine scale' };
const NA_REPR = { na: 'not a hidden-state similarity' };

function directionalEval(claimed: TestSummary[], opposite: TestSummary[]): Evaluation {
  return { tests: claimed, opposite, intervals: [], decide: (m) => directional(claimed, opposite, m) };
}

/** Paired differences a − b tested in the claim's direction, and the other way round. */
function pairedEval(id: string, what: string, diffs: number[], expect: 'greater' | 'less', layer: number | null): Evaluation {
  const other = expect === 'greater' ? 'less' : 'greater';
  const word = (alt: string) => (alt === 'greater' ? '>' : '<');
  return directionalEval([signedRankTest(id, `${what.replace(' vs ', ` ${word(expect)} `)}`, diffs, expect, layer)], [signedRankTest(`${id}:opposite`, `${what.replace(' vs ', ` ${word(other)} `)}`, diffs, other, layer)]);
}

/** Per repeat, the mean of f at each level (NaN where a repeat has none). */
function levelRows(recs: Records, levels: number[], level: (r: RepeatRecord) => number | null, f: (r: RepeatRecord) => number): number[][] {
  return [...groupBy(recs, (r) => String(r.repeat)).values()].map((g) => levels.map((lv) => meanOf(g.filter((r) => level(r) === lv).map(f))));
}

/** Least-squares slope of y on x over the finite points; NaN with fewer than two distinct x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const pts = xs.map((x, i) => [x, ys[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (new Set(pts.map((p) => p[0])).size < 2) return NaN;
  const mx = meanOf(pts.map((p) => p[0]));
  const my = meanOf(pts.map((p) => p[1]));
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxy / sxx;
}

/** A bin's midpoint on the similarity axis: from binLo/binHi when recorded, else (bin + ½) / bins. */
function binMidpoint(r: RepeatRecord, nBins: number): number | null {
  const { bin, binLo, binHi } = r.extra ?? {};
  if (typeof binLo === 'number' && typeof binHi === 'number' && Number.isFinite(binLo) && Number.isFinite(binHi)) return (binLo + binHi) / 2;
  return typeof bin === 'number' ? (bin + 0.5) / nBins : null;
}

function planFor(claim: Claim, recs: Records, rob: Robustness | undefined, key: string): Plan | string {
  const q = claim.quantity;
  const expect = claim.expect;
  switch (q.kind) {
    case 'pairs':
    case 'high': {
      const sel = recs.filter((r) => matches(r, q.select) && !isEmptyUnit(r));
      if (sel.length === 0) return `no records${q.select ? ` with ${selectorText(q.select)}` : ''}`;
      const layer = lastLayerOf(sel);
      if (layer === null) return 'no measured layer';
      const pairs = q.kind === 'pairs' ? [q.a, q.b] : q.pairs;
      const med = (k: PairKey) => fmt(medianOf(sel.map((r) => pairAt(undefined, r, k, layer, 'raw'))));
      const value = `median ${pairs.map((k) => `${PAIR_LABEL[k]} ${med(k)}`).join(', ')} (hidden state ${layer}, n = ${sel.length})`;
      return {
        value,
        under(m) {
          if (q.kind === 'high') {
            if (m !== 'raw' && m !== 'massiveOut') return NA_SCALE;
            const ivs = q.pairs.map((k) => medianInterval(PAIR_LABEL[k], sel.map((r) => pairAt(rob, r, k, layer, m)), 0.95, { threshold: HIGH_THRESHOLD }));
            return { tests: [], opposite: [], intervals: ivs.filter((i): i is Interval => i !== null), decide: () => high(ivs) };
          }
          const fa = simUnder(rob, q.a, m);
          const fb = simUnder(rob, q.b, m);
          if (!fa || !fb) return NA_ANCHOR;
          const diffs = sel.map((r) => fa(r, layer) - fb(r, layer));
          return pairedEval(`${key}:${m}`, `${m} ${PAIR_LABEL[q.a]} vs ${PAIR_LABEL[q.b]}`, diffs, expect === 'less' ? 'less' : 'greater', layer);
        },
      };
    }
    case 'conditions': {
      const a = recs.filter((r) => matches(r, q.a) && !isEmptyUnit(r));
      const b = recs.filter((r) => matches(r, q.b) && !isEmptyUnit(r));
      if (a.length === 0 || b.length === 0) return `needs records with ${selectorText(q.a)} and with ${selectorText(q.b)}`;
      const layer = lastLayerOf([...a, ...b])!;
      const spread = q.stat === 'spread';
      const stat = (xs: Records) => {
        const d = dist(xs.map((r) => pairAt(undefined, r, 'simIclIt', layer, 'raw')));
        return fmt(spread ? d.iqr : d.median);
      };
      return {
        value: `${spread ? 'IQR' : 'median'} of s(ICL,IT): ${selectorText(q.a)} ${stat(a)} vs ${selectorText(q.b)} ${stat(b)} (hidden state ${layer})`,
        under(m) {
          const f = simUnder(rob, 'simIclIt', m)!;
          let va = byRepeat(a, (r) => f(r, layer));
          let vb = byRepeat(b, (r) => f(r, layer));
          if (spread) {
            const keys = [...va.keys()].filter((k) => vb.has(k));
            const [ma, mb] = [medianOf(keys.map((k) => va.get(k)!)), medianOf(keys.map((k) => vb.get(k)!))];
            va = new Map(keys.map((k) => [k, Math.abs(va.get(k)! - ma)]));
            vb = new Map(keys.map((k) => [k, Math.abs(vb.get(k)! - mb)]));
          }
          const what = `${m} ${spread ? '|s(ICL,IT) − median|' : 's(ICL,IT)'} with ${selectorText(q.a)} vs with ${selectorText(q.b)}`;
          return pairedEval(`${key}:${m}`, what, pairedDifferences(va, vb), expect === 'less' ? 'less' : 'greater', layer);
        },
      };
    }
    case 'levels': {
      const maxBin = Math.max(-1, ...recs.map((r) => recordCondition(r).bin ?? -1));
      const level = (r: RepeatRecord): number | null => (q.level === 'bin' ? recordCondition(r).bin : recordCondition(r).shots);
      const withLevel = recs.filter((r) => level(r) !== null && !isEmptyUnit(r));
      const layer = lastLayerOf(withLevel);
      if (layer === null) return `no records with a ${q.level === 'bin' ? 'similarity bin' : 'number of demonstrations'}`;
      const levels = [...new Set(withLevel.map(level) as number[])].sort((x, y) => x - y);
      const name = q.level === 'bin' ? 'bin' : 'k';
      const meanAt = (lv: number) => fmt(meanOf(withLevel.filter((r) => level(r) === lv).map((r) => pairAt(undefined, r, q.pair, layer, 'raw'))));
      const value = `mean ${PAIR_LABEL[q.pair]} per ${name} (${levels.join(', ')}): ${levels.map(meanAt).join(', ')} (hidden state ${layer})`;
      return {
        value,
        under(m) {
          const f = simUnder(rob, q.pair, m);
          if (!f) return NA_ANCHOR;
          const g = (r: RepeatRecord) => f(r, layer);
          if (expect === 'flat') {
            const slopes = [...groupBy(withLevel, (r) => String(r.repeat)).values()].map((rs) => slope(rs.map((r) => binMidpoint(r, maxBin + 1) ?? NaN), rs.map(g)));
            const quantity = `${m} slope of ${PAIR_LABEL[q.pair]} over similarity`;
            const ci90 = medianInterval(quantity, slopes, 0.9, { margin: FLAT_MARGIN });
            const ci95 = medianInterval(quantity, slopes, 0.95, { margin: FLAT_MARGIN });
            return { tests: [], opposite: [], intervals: [ci90, ci95].filter((i): i is Interval => i !== null), decide: () => equivalent(ci90, ci95) };
          }
          const up = expect === 'trend-up';
          const rows = levelRows(withLevel, levels, level, g);
          const neg = rows.map((row) => row.map((v) => -v));
          const rise = pageTest(`${key}:${m}${up ? '' : ':opposite'}`, `${m} ${PAIR_LABEL[q.pair]} rises with the ${name}`, rows, layer);
          const fall = pageTest(`${key}:${m}${up ? ':opposite' : ''}`, `${m} ${PAIR_LABEL[q.pair]} falls with the ${name}`, neg, layer);
          return directionalEval([up ? rise : fall], [up ? fall : rise]);
        },
      };
    }
    case 'layers': {
      const all = layersOf(recs);
      // Hidden state 0 is the token embedding: the same last token in all three situations, so every similarity is 1 there by construction.
      const layers = all.filter((l) => l > 0).length >= 3 ? all.filter((l) => l > 0) : all;
      if (layers.length < 3) return `only ${layers.length} measured hidden state(s); a U shape needs 3`;
      const meanAt = (l: number) => fmt(meanOf(recs.map((r) => pairAt(undefined, r, q.pair, l, 'raw'))));
      return {
        value: `mean ${PAIR_LABEL[q.pair]} per hidden state ${layers[0]}…${layers[layers.length - 1]}: ${layers.map(meanAt).join(', ')}`,
        under(m) {
          const f = simUnder(rob, q.pair, m);
          if (!f) return NA_ANCHOR;
          const curves = [...groupBy(recs, (r) => String(r.repeat)).values()].map((g) => ({ repeat: g[0].repeat, v: layers.map((l) => meanOf(g.map((r) => f(r, l)))) }));
          const pick = curves.filter((c) => c.repeat % 2 === 0);
          const test = curves.filter((c) => c.repeat % 2 === 1);
          const meanCurve = layers.map((_, j) => meanOf(pick.map((c) => c.v[j])));
          let j = -1;
          meanCurve.forEach((v, i) => {
            if (Number.isFinite(v) && (j < 0 || v < meanCurve[j])) j = i;
          });
          const id = `${key}:${m}`;
          if (j < 0) {
            const t = notRun(id, 'U shape', 'wilcoxon', 'greater', null, 'not run: no finite values on the even repeats');
            return directionalEval([t], []);
          }
          const where = `hidden state ${layers[j]} of ${layers[0]}…${layers[layers.length - 1]}`;
          const side = (end: number, alt: 'greater' | 'less', tag: string) =>
            signedRankTest(`${id}:${tag}`, `${m} ${PAIR_LABEL[q.pair]} at hidden state ${layers[end]} ${alt === 'greater' ? '>' : '<'} at the minimum ${layers[j]} (odd repeats)`, test.map((c) => c.v[end] - c.v[j]), alt, layers[end]);
          const interior = j > 0 && j < layers.length - 1;
          // a minimum at an end: the lowest interior state on the even repeats is where a U's bottom would be
          let bottom = -1;
          for (let i = 1; i < layers.length - 1; i++) if (Number.isFinite(meanCurve[i]) && (bottom < 0 || meanCurve[i] < meanCurve[bottom])) bottom = i;
          const endBelow = () =>
            signedRankTest(`${id}:end-below`, `${m} ${PAIR_LABEL[q.pair]} at the end state ${layers[j]} < at the lowest interior state ${layers[bottom]} (odd repeats)`, test.map((c) => c.v[j] - c.v[bottom]), 'less', layers[j]);
          const claimed = interior ? [side(0, 'greater', 'low'), side(layers.length - 1, 'greater', 'high')] : [];
          const opposite = interior ? [side(0, 'less', 'low:opposite'), side(layers.length - 1, 'less', 'high:opposite')] : bottom >= 0 ? [endBelow()] : [];
          return { tests: claimed, opposite, intervals: [], decide: (fam) => uShape(interior, where, claimed, opposite, fam) };
        },
      };
    }
    case 'accuracy': {
      const val = (r: RepeatRecord) => r.accuracy?.[q.situation];
      const a = byRepeat(recs.filter((r) => matches(r, q.a)), val);
      const b = byRepeat(recs.filter((r) => matches(r, q.b)), val);
      if (a.size === 0 || b.size === 0) return `needs accuracy records with ${selectorText(q.a)} and with ${selectorText(q.b)}`;
      const diffs = pairedDifferences(a, b);
      const who = q.situation === 'icl' ? 'ICL' : 'IT';
      const test = signedRankTest(`${key}:raw`, `${who} accuracy with ${selectorText(q.a)} > with ${selectorText(q.b)} (the paper's one-tailed test)`, diffs, 'greater', null);
      const quantity = `${who} accuracy, ${selectorText(q.a)} − ${selectorText(q.b)}`;
      const ci90 = medianInterval(quantity, diffs, 0.9, { margin: ACCURACY_MARGIN });
      const ci95 = medianInterval(quantity, diffs, 0.95, { margin: ACCURACY_MARGIN });
      return {
        value: `mean ${who} accuracy ${selectorText(q.a)} ${pct(meanOf([...a.values()]))} vs ${selectorText(q.b)} ${pct(meanOf([...b.values()]))}; median difference ${pct(medianOf(diffs))} (n = ${diffs.length})`,
        under: (m) => (m === 'raw' ? { tests: [test], opposite: [], intervals: [ci90, ci95].filter((i): i is Interval => i !== null), decide: () => notSignificant(test, ci90, ci95) } : NA_REPR),
      };
    }
    case 'token-loss': {
      const withLoss = recs.filter((r) => r.lossDecrease !== undefined);
      if (withLoss.length === 0) return 'no records with per-token loss values';
      const diffs = withLoss.map((r) => r.lossDecrease!.example - r.lossDecrease!.instruction);
      const ev = pairedEval(`${key}:raw`, 'loss decrease on example tokens vs on instruction tokens', diffs, expect === 'less' ? 'less' : 'greater', null);
      const mean = (k: 'example' | 'instruction') => fmt(meanOf(withLoss.map((r) => r.lossDecrease![k])));
      return { value: `mean loss decrease example ${mean('example')} vs instruction ${mean('instruction')} nats/token`, under: (m) => (m === 'raw' ? ev : NA_REPR) };
    }
  }
}

function emptyRobust(status: RobustCheck['status'], note: string | null): Record<RobustMeasure, RobustCheck> {
  const out = {} as Record<RobustMeasure, RobustCheck>;
  for (const m of ROBUST_MEASURES) out[m] = { status, tests: [], note };
  return out;
}

/** The models of a run in the order their records first appear (the order the study ran them: the first is the paper's 7B). */
export function modelOrder(records: Records): string[] {
  return [...new Set(records.map((r) => r.model))];
}

/** Holm family sizes the rules need (the Bonferroni level of the opposite tests). */
export interface FamilySizes {
  findings: number;
  robustness: Record<RobustMeasure, number>;
}

export interface CheckedFindings {
  /** One Finding per claim and model (CLAIMS order); verdicts are set by `decide` once Holm has run. */
  findings: Finding[];
  decide(sizes: FamilySizes): void;
}

/**
 * The run's Findings: a row per claim and model it is about. `order`: every model of the report in the order the
 * study ran them (a report may hold each model as its own run); the first is the paper's 7B, the others its 13B.
 * A claim about a model this run does not hold is left out when another run holds one, else its row says why not.
 */
export function findingsOf(records: Records, rob: Robustness | undefined, order: readonly string[] = modelOrder(records)): CheckedFindings {
  const present = new Set(records.map((r) => r.model));
  const models = [...order.filter((m) => present.has(m)), ...modelOrder(records).filter((m) => !order.includes(m))];
  const all = [...order, ...models.filter((m) => !order.includes(m))];
  const findings: Finding[] = [];
  const evals = new Map<Finding, { raw: Evaluation | null; robust: Partial<Record<RobustMeasure, Evaluation>> }>();
  for (const claim of CLAIMS) {
    const wanted = claim.models === 'first' ? all.slice(0, 1) : claim.models === 'others' ? all.slice(1) : all;
    const targets: (string | null)[] = models.filter((m) => wanted.includes(m));
    if (targets.length === 0) {
      if (wanted.length > 0 && present.size > 0) continue; // another run of the report holds that model
      targets.push(null);
    }
    for (const model of targets) {
      const base = {
        id: claim.id, figure: claim.figure, claim: claim.claim, preset: claim.preset, model, expect: claim.expect, paper: claim.paper ?? null,
        tests: [] as TestSummary[], opposite: [] as TestSummary[], intervals: [] as Interval[], pValue: null, pHolm: null, effect: null, effectName: null, n: 0,
      };
      // the paper's claims are about the preset's own conditions: control conditions (extra.control) are not pooled in
      const recs = records.filter((r) => r.experiment === claim.preset && r.model === model && recordCondition(r).control === null);
      const plan =
        model === null
          ? claim.models === 'others'
            ? "needs a second model (the paper's LLaMA-2-13B: a second --model)"
            : 'this run has no records'
          : recs.length === 0
            ? `this run has no ${claim.preset} records`
            : planFor(claim, recs, rob, `${claim.id}${models.length > 1 ? `@${model}` : ''}`);
      if (typeof plan === 'string') {
        findings.push({ ...base, value: null, ran: false, verdict: 'inconclusive', note: `not run: ${plan}`, robust: emptyRobust('not run', plan) });
        continue;
      }
      const raw = plan.under('raw');
      const states = rob !== undefined && recs.some((r) => rob.of(r) !== undefined);
      const robust = {} as Record<RobustMeasure, RobustCheck>;
      const robustEvals: Partial<Record<RobustMeasure, Evaluation>> = {};
      for (const m of ROBUST_MEASURES) {
        const e = plan.under(m);
        if ('na' in e) robust[m] = { status: 'n/a', tests: [], note: e.na };
        else if (m !== 'update' && !states) robust[m] = { status: 'not run', tests: [], note: 'no stored hidden states' };
        else {
          robust[m] = { status: 'not run', tests: e.tests, note: null };
          robustEvals[m] = e;
        }
      }
      const f: Finding = 'na' in raw
        ? { ...base, value: plan.value, ran: false, verdict: 'inconclusive', note: raw.na, robust }
        : { ...base, value: plan.value, tests: raw.tests, opposite: raw.opposite, intervals: raw.intervals, ran: true, verdict: 'inconclusive', note: null, robust };
      findings.push(f);
      evals.set(f, { raw: 'na' in raw ? null : raw, robust: robustEvals });
    }
  }
  return {
    findings,
    decide(sizes) {
      for (const f of findings) {
        const e = evals.get(f);
        if (!e) continue;
        if (e.raw) {
          const d = e.raw.decide(sizes.findings);
          f.verdict = d.verdict;
          f.note = d.reason;
          const ran = f.tests.filter((t) => t.pValue !== null && t.pHolm !== null);
          if (f.tests.length > 0) {
            f.n = Math.min(...f.tests.map((t) => t.n));
            f.effect = f.tests[0].effect;
            f.effectName = f.tests[0].test === 'page' ? 'mean Spearman ρ (Page)' : 'rank-biserial r';
          } else if (f.intervals.length > 0) f.n = Math.min(...f.intervals.map((i) => i.n));
          if (ran.length === f.tests.length && ran.length > 0) {
            f.pValue = Math.max(...ran.map((t) => t.pValue!));
            f.pHolm = Math.max(...ran.map((t) => t.pHolm!));
          }
        }
        for (const m of ROBUST_MEASURES) {
          const r = e.robust[m];
          if (!r) continue;
          const d = r.decide(sizes.robustness[m]);
          f.robust[m].status = d.verdict;
          f.robust[m].note = d.reason;
        }
      }
    },
  };
}
