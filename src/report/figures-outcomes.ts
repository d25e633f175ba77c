// Figure panels of the outcomes beside the similarities: accuracy with right vs wrong labels, per-token loss decrease by prompt part.
import { summarizeAccuracy } from './summary.js';
import { byRun, figure, formatP, nRange, recordsOf, runPrefix, safeId, type Figure, type VegaLiteSpec } from './figure-spec.js';
import type { ReportRun } from './types.js';
import { isControl } from './groups.js';

const SITUATION_LABEL = { zeroShot: 'zero-shot', icl: 'ICL', it: 'IT' } as const;

/** Mean per-repeat accuracy (%) by situation and label setting, with the IQR over repeats. */
export function accuracyBars(runs: readonly ReportRun[], experiment = 'accuracy'): Figure {
  const rows: { run: string; situation: string; labels: string; accuracy: number; q1: number; q3: number; n: number }[] = [];
  const notes: string[] = [];
  const pLines: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const acc = summarizeAccuracy(recordsOf(run, experiment));
    if (!acc) continue;
    for (const g of acc.byLabels) {
      ns.push(g.n);
      for (const s of ['zeroShot', 'icl', 'it'] as const) {
        const d = g[s];
        if (d.mean !== null) rows.push({ run: run.label, situation: SITUATION_LABEL[s], labels: `${g.labels} labels`, accuracy: 100 * d.mean, q1: 100 * d.q1!, q3: 100 * d.q3!, n: d.n });
      }
    }
    const labelsSeen = acc.byLabels.map((g) => g.labels);
    for (const want of ['right', 'wrong']) if (!labelsSeen.includes(want)) notes.push(`${runPrefix(runs, run)}no records with ${want} labels`);
    pLines.push(
      `${runPrefix(runs, run)}right > wrong (one-tailed Wilcoxon, paired by repeat): ` +
        acc.tests.map((t) => `${t.id.includes('.icl') ? 'ICL' : 'IT'} p=${formatP(t.pValue)} (n=${t.n})`).join(', ') + '.',
    );
    for (const t of acc.tests) if (t.note) notes.push(`${runPrefix(runs, run)}${t.hypothesis}: ${t.note}`);
  }
  const title = 'accuracy with right vs wrong demonstration labels';
  const caption = `Mean accuracy per repeat (%, each repeat scored on its evaluation examples) by situation and label setting, bars = IQR over repeats; ${nRange(ns)} repeats per setting. ${pLines.join(' ')}`;
  const base = { id: safeId(`${experiment}-accuracy`), experiment, kinds: ['accuracy' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no accuracy values (records without \`accuracy\`) in ${experiment}`);
  const x = { field: 'situation', type: 'nominal', sort: ['zero-shot', 'ICL', 'IT'], title: 'situation', axis: { labelAngle: 0 } };
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: `${nRange(ns)} repeats per label setting` },
    width: 240,
    height: 220,
    encoding: { x, xOffset: { field: 'labels', type: 'nominal' } },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
          color: { field: 'labels', type: 'nominal', title: 'demonstration labels', legend: { orient: 'top', direction: 'horizontal' } },
          tooltip: [{ field: 'situation' }, { field: 'labels' }, { field: 'accuracy', format: '.1f' }, { field: 'n' }],
        },
      },
      { mark: { type: 'rule', color: '#333333' }, encoding: { y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' } } },
    ],
  };
  return figure(base, byRun(spec, rows, runs, 'accuracy values'), null);
}

/** Per-token loss decrease (base − tuned) on instruction vs example tokens. */
export function tokenLossBoxes(runs: readonly ReportRun[], experiment = 'token-loss'): Figure {
  const rows: { run: string; part: string; value: number }[] = [];
  const notes: string[] = [];
  const ns: number[] = [];
  for (const run of runs) {
    const recs = recordsOf(run, experiment).filter((r) => r.lossDecrease !== undefined && !isControl(r));
    if (recs.length === 0) continue;
    ns.push(recs.length);
    let nan = 0;
    for (const part of ['instruction', 'example'] as const) {
      for (const r of recs) {
        const v = r.lossDecrease![part];
        if (Number.isFinite(v)) rows.push({ run: run.label, part: `${part} tokens`, value: v });
        else nan++;
      }
    }
    if (nan > 0) notes.push(`${runPrefix(runs, run)}${nan} NaN loss value(s) left out`);
  }
  const title = 'per-token loss decrease after instruction tuning';
  const caption = `Mean per-token loss decrease (base − tuned, nats per token) on instruction vs example tokens; box = IQR, whiskers = min–max; ${nRange(ns)} repeats.`;
  const base = { id: safeId(`${experiment}-token-loss`), experiment, kinds: ['token-loss' as const], title, caption, notes };
  if (rows.length === 0) return figure(base, null, `no data: no per-token loss values (records without \`lossDecrease\`) in ${experiment}`);
  const spec: VegaLiteSpec = {
    title: { text: title, subtitle: `${nRange(ns)} repeats` },
    width: 200,
    height: 220,
    mark: { type: 'boxplot', extent: 'min-max', size: 30 },
    encoding: {
      x: { field: 'part', type: 'nominal', title: 'prompt part', sort: ['instruction tokens', 'example tokens'], axis: { labelAngle: 0 } },
      y: { field: 'value', type: 'quantitative', title: 'loss decrease (nats/token)' },
      color: { field: 'part', type: 'nominal', legend: null },
    },
  };
  return figure(base, byRun(spec, rows, runs, 'per-token loss values'), null);
}
