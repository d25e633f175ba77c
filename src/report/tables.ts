// The report's tables as plain string grids (Findings, similarities, robustness, accuracy, loss), written out as HTML or Markdown by document.ts.
import { PAIRS, PAIR_LABEL } from './groups.js';
import { formatP } from './figure-spec.js';
import { fmt } from './numbers.js';
import { MEASURE_LABEL, ROBUST_MEASURES } from './measures.js';
import { CLAIMS } from './paper.js';
import { RULES } from './verdicts.js';
import type { Dist, Finding, RobustCheck, RunSummary, Summary, TestSummary } from './types.js';

/** A table as header + rows of plain strings; `tone` marks cells the HTML colours (verdicts). */
export interface Table {
  head: string[];
  rows: string[][];
  /** Per row, the column index of a verdict cell and its class, for the HTML writer. */
  tones?: { row: number; col: number; tone: string }[];
  /** The first `merge` columns repeat within a group of rows: the HTML writer spans them, Markdown leaves repeats blank. */
  merge?: number;
  /** A CSS class per column for the HTML writer (widths, no wrapping). */
  colClass?: string[];
}

/** "median / mean / IQR" of a Dist, or "no data". */
export function mmi(d: Dist | null | undefined): string {
  if (!d) return 'no states';
  if (d.n === 0) return d.nanCount > 0 ? `no data (${d.nanCount} NaN)` : 'no data';
  return `${fmt(d.median)} / ${fmt(d.mean)} / ${fmt(d.iqr)}${d.nanCount ? ` (${d.nanCount} NaN)` : ''}`;
}

/** "p=… (p Holm=…, W=…, n=…)" of a test, or why it did not run. */
export function pText(t: TestSummary | undefined): string {
  if (!t) return '–';
  if (t.pValue === null) return t.note ?? 'n/a';
  const stat = t.test === 'page' ? 'L' : 'W';
  return `p=${formatP(t.pValue)}, Holm ${formatP(t.pHolm)} (${stat}=${fmt(t.statistic, 1)}, n=${t.n})`;
}

function intervalText(f: Finding): string {
  return f.intervals.map((i) => `${i.quantity}: median ${fmt(i.median)}, ${Math.round(100 * i.confidence)}% CI [${fmt(i.lower)}, ${fmt(i.upper)}] vs ${i.threshold !== null ? i.threshold : `±${i.margin}`}`).join('; ');
}

function testText(f: Finding): string {
  const t = f.tests[0];
  const ci = intervalText(f);
  if (!t || t.statistic === null) return ci || '–';
  const name = t.test === 'page' ? `Page L=${fmt(t.statistic, 1)}` : `Wilcoxon W=${fmt(t.statistic, 1)}`;
  const more = f.tests.length > 1 ? `; +${f.tests.length - 1} more (all must reject)` : '';
  return `${name}, ${t.method}${more}${ci ? `; ${ci}` : ''}`;
}

function robustCell(c: RobustCheck): string {
  if (c.status === 'n/a') return 'n/a';
  if (c.status === 'not run') return c.note === 'no stored hidden states' ? 'no states' : `not run${c.note ? `: ${c.note}` : ''}`;
  return c.status;
}

/** Claims no run of the report could test (nothing to test them on anywhere): listed in one line instead of rows. */
export function claimsNotRun(summary: Summary): string[] {
  return CLAIMS.filter((c) => summary.runs.every((r) => r.findings.filter((f) => f.id === c.id).every((f) => !f.ran))).map((c) => `${c.figure} (${c.id}, ${c.preset})`);
}

/** One row per claim and model (× run when several): the paper's expectation and numbers, this run's, the verdict and its robustness re-checks. */
export function findingsTable(summary: Summary): Table {
  const multi = summary.runs.length > 1;
  const multiModel = summary.runs.some((r) => r.models.length > 1);
  const head = [
    'claim (paper figure, preset)',
    'expect',
    "the paper's numbers",
    ...(multi ? ['run'] : []),
    ...(multiModel ? ['model'] : []),
    'this run',
    'test / interval',
    'n',
    'p (Holm)',
    'verdict',
    ...ROBUST_MEASURES.map((m) => MEASURE_LABEL[m]),
  ];
  const skip = new Set(claimsNotRun(summary));
  const rows: string[][] = [];
  const tones: NonNullable<Table['tones']> = [];
  for (const claim of CLAIMS) {
    if (skip.has(`${claim.figure} (${claim.id}, ${claim.preset})`)) continue;
    for (const run of summary.runs) {
      for (const f of run.findings.filter((x) => x.id === claim.id)) {
        const verdictCol = head.indexOf('verdict');
        tones.push({ row: rows.length, col: verdictCol, tone: f.ran ? f.verdict : 'not-run' });
        ROBUST_MEASURES.forEach((m, i) => tones.push({ row: rows.length, col: verdictCol + 1 + i, tone: f.robust[m].status.replace(' ', '-').replace('/', '') }));
        rows.push([
          `${claim.claim} (${claim.figure}, ${claim.preset})`,
          claim.expect,
          claim.paper ?? '–',
          ...(multi ? [run.label] : []),
          ...(multiModel ? [f.model ?? '–'] : []),
          f.value ?? (f.note ?? '–'),
          testText(f),
          f.n ? String(f.n) : '–',
          formatP(f.pHolm),
          f.ran ? `${f.verdict}${f.note ? ` (${f.note})` : ''}` : (f.note ?? 'not run'),
          ...ROBUST_MEASURES.map((m) => robustCell(f.robust[m])),
        ]);
      }
    }
  }
  const colClass = ['claim', 'nowrap', 'paper', ...(multi ? ['nowrap'] : []), ...(multiModel ? ['nowrap'] : []), 'value', 'test', 'nowrap', 'nowrap', 'value', ...ROBUST_MEASURES.map(() => 'robust')];
  return { head, rows, tones, merge: 3, colClass };
}

/** The line above the Findings table: how verdicts and robustness cells are read. */
export const FINDINGS_LEGEND =
  "One row per claim of the paper (and per model and run), with the paper's expectation (expect) and one rule per expectation (docs/METHODS.md, \"How a claim is judged\"): " +
  Object.entries(RULES).map(([k, v]) => `${k}: ${v}`).join('. ') +
  '. Robustness columns apply the same rule to the update similarity cos(ΔICL, ΔIT), SimAOU (the same with each state L2-normalised first, Dai et al. 2023), centred states, states standardised per dimension over the condition (Timkey & van Schijndel 2021), the massive dimensions left out, and s(ICL,IT) minus the permutation null (mismatched repeats).';

/** The multiple-testing sentence of one run. */
export function testingLine(run: RunSummary): string {
  const m = run.multipleTesting;
  const rob = ROBUST_MEASURES.map((k) => `${MEASURE_LABEL[k]} ${m.families.robustness[k]}`).join(', ');
  return `${run.label}: ${m.nTests} tests were run. p (Holm) adjusts within families (Holm's step-down method): the ${m.families.findings} tests behind the findings are one family; each robustness measure's re-tests of them are another (${rob}); the other ${m.families.tables} tests in the per-preset tables are an exploratory family; the ${m.families.implicitIt} tests of "Is ICL implicit IT here?" are a family of their own. Verdicts follow the rule of each claim's expectation at α = ${m.alpha}.`;
}

function perRun(summary: Summary, experiment: string, each: (run: RunSummary, multi: string[]) => string[][], width: number): string[][] {
  const multi = summary.runs.length > 1;
  const rows: string[][] = [];
  for (const run of summary.runs) {
    const ex = run.experiments.find((e) => e.experiment === experiment);
    const prefix = multi ? [run.label] : [];
    if (!ex) rows.push([...prefix, 'no data: this run has no records of this experiment', ...Array(Math.max(0, width - prefix.length - 1)).fill('')]);
    else rows.push(...each(run, prefix));
  }
  return rows;
}

export function conditionTable(summary: Summary, experiment: string): Table {
  const multi = summary.runs.length > 1;
  const head = [...(multi ? ['run'] : []), 'condition', 'n', 'layer', ...PAIRS.map((k) => `${PAIR_LABEL[k]} median / mean / IQR`), 's(ICL,IT) > s(anchor,ICL)', 's(ICL,IT) > s(anchor,IT)'];
  const rows = perRun(summary, experiment, (run, prefix) => {
    const ex = run.experiments.find((e) => e.experiment === experiment)!;
    const out: string[][] = ex.conditions.map((c) => [
      ...prefix,
      c.condition,
      String(c.n),
      c.lastLayer === null ? '–' : String(c.lastLayer),
      ...PAIRS.map((k) => mmi(c.last[k])),
      pText(c.tests.find((t) => t.id === 'iclIt>anchorIcl')),
      pText(c.tests.find((t) => t.id === 'iclIt>anchorIt')),
    ]);
    for (const m of ex.missingConditions) out.push([...prefix, m, '0', '–', 'no data: condition missing', ...Array(head.length - prefix.length - 4).fill('')]);
    return out;
  }, head.length);
  return { head, rows, colClass: multi ? ['nowrap'] : [] };
}

/** Per condition at the last layer: the update similarity and SimAOU, centred, standardised and massive-out s(ICL,IT), the null and its test, CKA biased and debiased. */
export function robustnessTable(summary: Summary, experiment: string): Table {
  const multi = summary.runs.length > 1;
  const head = [
    ...(multi ? ['run'] : []), 'condition', 'states', 'update similarity', 'SimAOU (Dai)', 'centred s(ICL,IT)', 'standardised s(ICL,IT)', 'massive dims out s(ICL,IT)',
    'null s(ICL_r, IT_r′)', 's(ICL,IT) > null', 'CKA(ICL, IT)', 'debiased CKA(ICL, IT)',
  ];
  const rows = perRun(summary, experiment, (run, prefix) =>
    run.experiments.find((e) => e.experiment === experiment)!.conditions.map((c) => [
      ...prefix,
      c.condition,
      `${c.nStates}/${c.n}`,
      mmi(c.last.update),
      mmi(c.last.simAou),
      mmi(c.last.centred?.simIclIt),
      mmi(c.last.standardised?.simIclIt),
      mmi(c.last.massiveOut?.simIclIt),
      mmi(c.last.nullIclIt),
      pText(c.tests.find((t) => t.id === 'iclIt>null')),
      fmt(c.last.cka),
      fmt(c.last.ckaDebiased),
    ]), head.length);
  return { head, rows, colClass: multi ? ['nowrap'] : [] };
}

/** Massive dimensions per layer (compact: layers with the same dims share a line), per run. */
export function massiveLines(summary: Summary, experiment: string): string[] {
  const out: string[] = [];
  for (const run of summary.runs) {
    const st = run.experiments.find((e) => e.experiment === experiment)?.states;
    if (!st) continue;
    const byDims = new Map<string, number[]>();
    for (const m of st.massiveDims) {
      // a control's states are searched on their own (robustness.ts), so they are named apart
      const k = `${m.control ? `${m.control} control, ` : ''}\u0000${m.dims.length ? m.dims.join(', ') : 'none'}`;
      byDims.set(k, [...(byDims.get(k) ?? []), m.layer]);
    }
    const parts = [...byDims].map(([key, layers]) => {
      const [who, dims] = key.split('\u0000');
      return `${who}hidden state${layers.length > 1 ? 's' : ''} ${layers.join(', ')}: ${dims}`;
    });
    out.push(
      `${summary.runs.length > 1 ? `${run.label}: ` : ''}massive dimensions (mean |value| ≥ ${st.massiveRatio} × median, over ${st.nWithStates} records' states) — ${parts.join('; ')}. ` +
        `Largest difference between a stored similarity and the same recomputed from the states: ${st.maxDeviation.toExponential(1)}.`,
    );
  }
  return out;
}

export function accuracyTable(summary: Summary, experiment: string): Table | null {
  const rows: string[][] = [];
  const multi = summary.runs.length > 1;
  for (const run of summary.runs) {
    const acc = run.experiments.find((e) => e.experiment === experiment)?.accuracy;
    if (!acc) continue;
    for (const g of acc.byLabels)
      rows.push([...(multi ? [run.label] : []), `${g.labels} labels`, String(g.n), ...[g.zeroShot, g.icl, g.it].map((d) => (d.mean === null ? 'no data' : `${(100 * d.mean).toFixed(1)}%`))]);
    for (const t of acc.tests) rows.push([...(multi ? [run.label] : []), t.hypothesis, String(t.n), pText(t), '', '']);
  }
  if (rows.length === 0) return null;
  return { head: [...(multi ? ['run'] : []), 'labels / test', 'n', 'zero-shot accuracy (mean)', 'ICL accuracy (mean)', 'IT accuracy (mean)'], rows, colClass: multi ? ['nowrap'] : [] };
}

export function lossTable(summary: Summary, experiment: string): Table | null {
  const rows: string[][] = [];
  const multi = summary.runs.length > 1;
  for (const run of summary.runs) {
    const ex = run.experiments.find((e) => e.experiment === experiment);
    if (!ex) continue;
    for (const c of ex.conditions)
      if (c.lossDecrease) rows.push([...(multi ? [run.label] : []), c.condition, String(c.n), mmi(c.lossDecrease.instruction), mmi(c.lossDecrease.example), pText(ex.tests[0])]);
  }
  if (rows.length === 0) return null;
  return {
    head: [...(multi ? ['run'] : []), 'condition', 'n', 'instruction tokens median / mean / IQR (nats/token)', 'example tokens median / mean / IQR (nats/token)', 'instruction ≠ example (two-sided)'],
    rows,
    colClass: multi ? ['nowrap'] : [],
  };
}

/** Provenance of one run as (term, values) pairs: values joined with '; ' by mergeMeta become a list. */
export function provenance(run: RunSummary): [string, string[]][] {
  const items: [string, string[]][] = Object.entries(run.meta).map(([k, v]) => [k, v === null || v === undefined ? ['–'] : String(v).split('; ')]);
  items.push(['records (finished repeats)', [String(run.nRecords)]]);
  items.push(['models in records', [run.models.join(', ') || '–']]);
  items.push(['experiments', run.experiments.length ? run.experiments.map((e) => `${e.experiment} (${e.n} records)`) : ['–']]);
  return items;
}
