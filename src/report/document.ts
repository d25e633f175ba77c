// report.html (self-contained, SVGs inline) and report.md (tables + PNG links) from a Summary and rendered figures.
import { PAIRS, PAIR_LABEL } from './groups.js';
import { formatP, type Figure } from './figures.js';
import type { Dist, ExperimentSummary, Summary, TestSummary } from './types.js';

/** A figure after rendering: its SVG text and the file names written under figures/. */
export interface RenderedFigure {
  figure: Figure;
  svg: string;
  svgFile: string;
  pngFile: string;
}

export interface DocumentInput {
  summary: Summary;
  figures: { experiment: string; figures: RenderedFigure[] }[];
  /** ISO time the report was generated. */
  generatedAt: string;
  iclitVersion: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** "median / mean / IQR" of a Dist, or "no data". */
function mmi(d: Dist): string {
  if (d.n === 0) return d.nanCount > 0 ? `no data (${d.nanCount} NaN)` : 'no data';
  return `${fmt(d.median)} / ${fmt(d.mean)} / ${fmt(d.iqr)}${d.nanCount ? ` (${d.nanCount} NaN)` : ''}`;
}

function pText(t: TestSummary | undefined): string {
  if (!t) return '–';
  if (t.pValue === null) return t.note ?? 'n/a';
  return `p=${formatP(t.pValue)} (W=${fmt(t.statistic, 1)}, n=${t.n})`;
}

/** A table as header + rows of plain strings (escaped by the writer). */
interface Table {
  head: string[];
  rows: string[][];
}

function metaTable(summary: Summary): Table {
  const keys: string[] = [];
  for (const r of summary.runs) for (const k of Object.keys(r.meta)) if (!keys.includes(k)) keys.push(k);
  const rows = keys.map((k) => [k, ...summary.runs.map((r) => (r.meta[k] === null || r.meta[k] === undefined ? '–' : String(r.meta[k])))]);
  rows.push(['records (finished repeats)', ...summary.runs.map((r) => String(r.nRecords))]);
  rows.push(['models in records', ...summary.runs.map((r) => r.models.join(', ') || '–')]);
  rows.push(['experiments', ...summary.runs.map((r) => r.experiments.map((e) => `${e.experiment} (${e.n})`).join(', ') || '–')]);
  return { head: ['', ...summary.runs.map((r) => r.label)], rows };
}

function conditionTable(summary: Summary, experiment: string): Table {
  const multi = summary.runs.length > 1;
  const head = [
    ...(multi ? ['run'] : []),
    'condition',
    'n',
    'layer',
    ...PAIRS.map((k) => `${PAIR_LABEL[k]} median / mean / IQR`),
    's(ICL,IT) > s(anchor,ICL)',
    's(ICL,IT) > s(anchor,IT)',
  ];
  const rows: string[][] = [];
  for (const run of summary.runs) {
    const ex = run.experiments.find((e) => e.experiment === experiment);
    if (!ex) {
      rows.push([...(multi ? [run.label] : []), 'no data: this run has no records of this experiment', ...Array(head.length - (multi ? 2 : 1)).fill('')]);
      continue;
    }
    for (const c of ex.conditions) {
      rows.push([
        ...(multi ? [run.label] : []),
        c.condition,
        String(c.n),
        c.lastLayer === null ? '–' : String(c.lastLayer),
        ...PAIRS.map((k) => mmi(c.last[k])),
        pText(c.tests.find((t) => t.id === 'iclIt>anchorIcl')),
        pText(c.tests.find((t) => t.id === 'iclIt>anchorIt')),
      ]);
    }
    for (const m of ex.missingConditions) rows.push([...(multi ? [run.label] : []), m, '0', '–', 'no data: condition missing', ...Array(head.length - (multi ? 5 : 4)).fill('')]);
  }
  return { head, rows };
}

function accuracyTable(summary: Summary, experiment: string): Table | null {
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
  return { head: [...(multi ? ['run'] : []), 'labels / test', 'n', 'zero-shot accuracy', 'ICL accuracy', 'IT accuracy'], rows };
}

function lossTable(summary: Summary, experiment: string): Table | null {
  const rows: string[][] = [];
  const multi = summary.runs.length > 1;
  for (const run of summary.runs) {
    const ex: ExperimentSummary | undefined = run.experiments.find((e) => e.experiment === experiment);
    if (!ex) continue;
    for (const c of ex.conditions)
      if (c.lossDecrease) rows.push([...(multi ? [run.label] : []), c.condition, String(c.n), mmi(c.lossDecrease.instruction), mmi(c.lossDecrease.example), pText(ex.tests[0])]);
  }
  if (rows.length === 0) return null;
  return {
    head: [...(multi ? ['run'] : []), 'condition', 'n', 'instruction tokens median / mean / IQR (nats/token)', 'example tokens median / mean / IQR (nats/token)', 'instruction ≠ example (two-sided)'],
    rows,
  };
}

function htmlTable(t: Table): string {
  const th = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${tr}\n</tbody>\n</table>`;
}

function mdTable(t: Table): string {
  const lines = [`| ${t.head.map(escapeMd).join(' | ')} |`, `|${t.head.map(() => ' --- ').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${r.map(escapeMd).join(' | ')} |`);
  return lines.join('\n');
}

/** Inline SVG for HTML: drops the XML namespace attributes (HTML5 does not need them; the report stays free of URLs). */
export function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
}

const CSS = `
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.8em 0;font-size:0.85em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
figure{margin:1.5em 0;border-top:1px solid #eee;padding-top:0.8em;overflow-x:auto}
figcaption{font-size:0.85em;color:#444;max-width:900px}
.nodata{color:#8a1c1c;font-weight:bold}
.notes{color:#8a5a00;font-size:0.85em}
code{background:#f6f6f6;padding:0 3px}
`;

export function renderHtml(input: DocumentInput): string {
  const { summary, figures } = input;
  const parts: string[] = [];
  const labels = summary.runs.map((r) => r.label).join(', ');
  parts.push(`<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>iclit report: ${escapeHtml(labels || 'no runs')}</title>\n<style>${CSS}</style>\n</head>\n<body>`);
  parts.push(`<h1>iclit report</h1>`);
  parts.push(
    `<p>Generated ${escapeHtml(input.generatedAt)} by iclit ${escapeHtml(input.iclitVersion)} from ${summary.runs.length} run(s): ${escapeHtml(labels || '–')}. ` +
      `Similarities are cosine similarities of hidden states (anchor = query alone, ICL = query after demonstrations, IT = query through the instruction-tuned model). ` +
      `Tests are Wilcoxon signed-rank tests on per-repeat paired differences (similarity and accuracy tests one-tailed, the token-loss test two-sided); the numbers are also in <code>summary.json</code>.</p>`,
  );
  parts.push(`<h2 id="provenance">What produced this report</h2>`);
  parts.push(summary.runs.length ? htmlTable(metaTable(summary)) : `<p class="nodata">no data: no results folders were given</p>`);
  const total = summary.runs.reduce((s, r) => s + r.nRecords, 0);
  if (total === 0) parts.push(`<p class="nodata">no data: the results hold no finished repeats, so there are no tables or figures.</p>`);
  for (const group of figures) {
    const ex = group.experiment;
    parts.push(`<section id="exp-${escapeHtml(ex)}">\n<h2>${escapeHtml(ex)}</h2>`);
    parts.push(`<h3>Similarities at the last measured layer</h3>`);
    parts.push(htmlTable(conditionTable(summary, ex)));
    const acc = accuracyTable(summary, ex);
    if (acc) parts.push(`<h3>Accuracy</h3>`, htmlTable(acc));
    const loss = lossTable(summary, ex);
    if (loss) parts.push(`<h3>Per-token loss decrease</h3>`, htmlTable(loss));
    for (const f of group.figures) {
      const fig = f.figure;
      parts.push(`<figure id="fig-${escapeHtml(fig.id)}" class="figure${fig.noData ? ' figure-nodata' : ''}" data-figure="${escapeHtml(fig.id)}">`);
      if (fig.noData) parts.push(`<p class="nodata">${escapeHtml(fig.noData)}</p>`);
      parts.push(inlineSvg(f.svg));
      parts.push(`<figcaption><b>${escapeHtml(fig.title)}.</b> ${escapeHtml(fig.caption)}</figcaption>`);
      if (fig.notes.length) parts.push(`<ul class="notes">${fig.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
      parts.push(`</figure>`);
    }
    parts.push(`</section>`);
  }
  parts.push(`</body>\n</html>\n`);
  return parts.join('\n');
}

export function renderMarkdown(input: DocumentInput): string {
  const { summary, figures } = input;
  const labels = summary.runs.map((r) => r.label).join(', ');
  const out: string[] = [];
  out.push(`# iclit report`, '');
  out.push(`Generated ${input.generatedAt} by iclit ${input.iclitVersion} from ${summary.runs.length} run(s): ${labels || '–'}.`);
  out.push(`Cells "median / mean / IQR" are cosine similarities at the last measured layer; tests are Wilcoxon signed-rank tests on paired per-repeat differences (similarity and accuracy tests one-tailed, the token-loss test two-sided). Full numbers: \`summary.json\`.`, '');
  out.push(`## What produced this report`, '');
  out.push(summary.runs.length ? mdTable(metaTable(summary)) : '**no data: no results folders were given**', '');
  if (summary.runs.reduce((s, r) => s + r.nRecords, 0) === 0) out.push('**no data: the results hold no finished repeats, so there are no tables or figures.**', '');
  for (const group of figures) {
    const ex = group.experiment;
    out.push(`## ${ex}`, '', mdTable(conditionTable(summary, ex)), '');
    const acc = accuracyTable(summary, ex);
    if (acc) out.push(`### Accuracy`, '', mdTable(acc), '');
    const loss = lossTable(summary, ex);
    if (loss) out.push(`### Per-token loss decrease`, '', mdTable(loss), '');
    for (const f of group.figures) {
      const fig = f.figure;
      if (fig.noData) out.push(`**${fig.noData}**`, '');
      out.push(`![${escapeMd(fig.title)}](${f.pngFile})`, '');
      out.push(`*${fig.title}.* ${fig.caption} ([SVG](${f.svgFile}))`, '');
      for (const n of fig.notes) out.push(`- ${n}`);
      if (fig.notes.length) out.push('');
    }
  }
  return out.join('\n');
}
