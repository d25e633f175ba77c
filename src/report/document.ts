// report.html (self-contained, SVGs inline) and report.md (tables + PNG links): Findings first, sections per experiment, provenance last.
import type { Figure } from './figure-spec.js';
import { paperFigureOf } from './paper.js';
import {
  accuracyTable,
  claimsNotRun,
  conditionTable,
  findingsTable,
  FINDINGS_LEGEND,
  lossTable,
  massiveLines,
  provenance,
  robustnessTable,
  testingLine,
  type Table,
} from './tables.js';
import type { Summary } from './types.js';
import { IMPLICIT_IT_LEGEND, controlFindingsTable, implicitItTable } from './implicit-it-tables.js';

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

/** Rows a merged cell spans: how many rows from `r` down repeat the first `c + 1` cells. */
function spanOf(t: Table, r: number, c: number): number {
  const same = (a: number, b: number) => t.rows[a].slice(0, c + 1).every((x, i) => x === t.rows[b][i]);
  let n = 1;
  while (r + n < t.rows.length && same(r, r + n)) n++;
  return n;
}

function htmlTable(t: Table, cls = ''): string {
  const th = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tone = (r: number, c: number) => t.tones?.find((x) => x.row === r && x.col === c)?.tone;
  const merged = (r: number, c: number) => c < (t.merge ?? 0) && r > 0 && t.rows[r - 1].slice(0, c + 1).every((x, i) => x === t.rows[r][i]);
  const cell = (r: number, c: number, text: string) => {
    if (merged(r, c)) return '';
    const span = c < (t.merge ?? 0) ? spanOf(t, r, c) : 1;
    const classes = [t.colClass?.[c] ? `c-${t.colClass[c]}` : '', tone(r, c) ? `v-${tone(r, c)}` : ''].filter(Boolean).join(' ');
    const attrs = `${span > 1 ? ` rowspan="${span}"` : ''}${classes ? ` class="${classes}"` : ''}`;
    return `<td${attrs}>${escapeHtml(text)}</td>`;
  };
  const tr = t.rows.map((row, r) => `<tr>${row.map((text, c) => cell(r, c, text)).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${tr}\n</tbody>\n</table>`;
}

function mdTable(t: Table): string {
  const lines = [`| ${t.head.map(escapeMd).join(' | ')} |`, `|${t.head.map(() => ' --- ').join('|')}|`];
  t.rows.forEach((row, r) => {
    const cells = row.map((x, c) => (c < (t.merge ?? 0) && r > 0 && t.rows[r - 1].slice(0, c + 1).every((y, i) => y === row[i]) ? '〃' : x));
    lines.push(`| ${cells.map(escapeMd).join(' | ')} |`);
  });
  return lines.join('\n');
}

/** Inline SVG for HTML: drops the XML namespace attributes (HTML5 does not need them; the report stays free of URLs). */
export function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
}

const CSS = `
body{font-family:'DejaVu Sans',Arial,sans-serif;margin:1em auto;max-width:1500px;padding:0 1em;color:#222}
h1{font-size:1.4em;margin:0.2em 0}
.lead{font-size:0.85em;color:#444;margin:0.2em 0 0.6em}
table{border-collapse:collapse;margin:0.6em 0;font-size:0.8em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.c-claim{min-width:14em;max-width:20em}
td.c-paper{max-width:13em}
td.c-value{min-width:12em;max-width:18em}
td.c-test{max-width:9em}
td.c-nowrap{white-space:nowrap}
td.c-robust{max-width:8em}
.v-replicates{background:#e3f4e1}
.v-does-not-replicate{background:#fbe3e1}
.v-inconclusive{background:#fdf6dc}
.v-partial{background:#e3ecf8}
.v-not-run,.v-na{color:#777}
figure{margin:1.2em 0;border-top:1px solid #eee;padding-top:0.8em;overflow-x:auto}
figcaption{font-size:0.85em;color:#444;max-width:1000px}
.nodata{color:#8a1c1c;font-weight:bold}
.notes{color:#8a5a00;font-size:0.85em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 1em;font-size:0.85em}
dt{font-weight:bold}
dd{margin:0}
dd ul{margin:0;padding-left:1.2em}
code{background:#f6f6f6;padding:0 3px}
`;

function sectionTitle(ex: string): string {
  const fig = paperFigureOf(ex);
  return fig ? `${ex} (cf. the paper's ${fig})` : ex;
}

/** Whether a figure group is an experiment of the runs (not one of the paper's combined figures, which has no tables of its own). */
function isExperiment(summary: Summary, ex: string): boolean {
  return summary.runs.some((r) => r.experiments.some((e) => e.experiment === ex));
}

const METHOD_NOTE =
  'Similarities are cosine similarities of last-token hidden states (anchor = query alone, ICL = query after the demonstrations, IT = query through the model tuned on them). ' +
  "Tests are Wilcoxon signed-rank tests on per-repeat paired differences and Page's L trend tests over ordered levels (repeats as blocks), one-tailed unless marked two-sided. Every number is also in summary.json.";

export function renderHtml(input: DocumentInput): string {
  const { summary, figures } = input;
  const labels = summary.runs.map((r) => r.label).join(', ');
  const total = summary.runs.reduce((s, r) => s + r.nRecords, 0);
  const parts: string[] = [];
  parts.push(`<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>iclit report: ${escapeHtml(labels || 'no runs')}</title>\n<style>${CSS}</style>\n</head>\n<body>`);
  parts.push(`<h1>iclit report</h1>`);
  parts.push(`<p class="lead">${summary.runs.length} run(s): ${escapeHtml(labels || '–')}. Generated ${escapeHtml(input.generatedAt)} by iclit ${escapeHtml(input.iclitVersion)}; provenance in the <a href="#appendix">appendix</a>.</p>`);
  parts.push(`<section id="findings">\n<h2>Findings</h2>`);
  if (summary.runs.length === 0) parts.push(`<p class="nodata">no data: no results folders were given</p>`);
  else if (total === 0) parts.push(`<p class="nodata">no data: the results hold no finished repeats, so there are no findings, tables or figures.</p>`);
  else {
    parts.push(`<p class="lead">${escapeHtml(FINDINGS_LEGEND)}</p>`, htmlTable(findingsTable(summary), 'findings'));
    const controls = controlFindingsTable(summary);
    if (controls) parts.push(`<h3>Does each measure of ICL ≈ IT exceed every control?</h3>`, htmlTable(controls, 'findings'));
    const notRun = claimsNotRun(summary);
    if (notRun.length) parts.push(`<p class="lead">Not run (no records of their preset): ${escapeHtml(notRun.join(', '))}.</p>`);
    parts.push(`<p class="lead">${summary.runs.map((r) => escapeHtml(testingLine(r))).join('<br>')}</p>`);
  }
  parts.push(`<p class="lead">${escapeHtml(METHOD_NOTE)}</p>\n</section>`);
  const implicitIt = implicitItTable(summary);
  if (implicitIt) parts.push(`<section id="implicit-it">\n<h2>Is ICL implicit IT here?</h2>`, `<p class="lead">${escapeHtml(IMPLICIT_IT_LEGEND)}</p>`, htmlTable(implicitIt), `</section>`);
  for (const group of figures) {
    const ex = group.experiment;
    parts.push(`<section id="exp-${escapeHtml(ex)}">\n<h2>${escapeHtml(sectionTitle(ex))}</h2>`);
    for (const f of group.figures) {
      const fig = f.figure;
      parts.push(`<figure id="fig-${escapeHtml(fig.id)}" class="figure${fig.noData ? ' figure-nodata' : ''}" data-figure="${escapeHtml(fig.id)}">`);
      if (fig.noData) parts.push(`<p class="nodata">${escapeHtml(fig.noData)}</p>`);
      parts.push(inlineSvg(f.svg));
      parts.push(`<figcaption>${escapeHtml(fig.caption)}</figcaption>`);
      if (fig.notes.length) parts.push(`<ul class="notes">${fig.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
      parts.push(`</figure>`);
    }
    if (!isExperiment(summary, ex)) {
      parts.push(`</section>`);
      continue;
    }
    parts.push(`<h3>Similarities at the last measured layer</h3>`, htmlTable(conditionTable(summary, ex)));
    parts.push(`<h3>Robustness at the last measured layer</h3>`, htmlTable(robustnessTable(summary, ex)));
    for (const line of massiveLines(summary, ex)) parts.push(`<p class="lead">${escapeHtml(line)}</p>`);
    const acc = accuracyTable(summary, ex);
    if (acc) parts.push(`<h3>Accuracy</h3>`, htmlTable(acc));
    const loss = lossTable(summary, ex);
    if (loss) parts.push(`<h3>Per-token loss decrease</h3>`, htmlTable(loss));
    parts.push(`</section>`);
  }
  parts.push(`<section id="appendix">\n<h2>Appendix: what produced this report</h2>`);
  parts.push(`<p class="lead">Generated ${escapeHtml(input.generatedAt)} by iclit ${escapeHtml(input.iclitVersion)}.</p>`);
  for (const run of summary.runs) {
    parts.push(`<h3>${escapeHtml(run.label)}</h3>\n<dl>`);
    for (const [term, values] of provenance(run)) {
      const dd = values.length > 1 ? `<ul>${values.map((v) => `<li>${escapeHtml(v)}</li>`).join('')}</ul>` : escapeHtml(values[0]);
      parts.push(`<dt>${escapeHtml(term)}</dt><dd>${dd}</dd>`);
    }
    parts.push(`</dl>`);
  }
  if (summary.runs.length === 0) parts.push(`<p class="nodata">no data: no results folders were given</p>`);
  parts.push(`</section>\n</body>\n</html>\n`);
  return parts.join('\n');
}

export function renderMarkdown(input: DocumentInput): string {
  const { summary, figures } = input;
  const labels = summary.runs.map((r) => r.label).join(', ');
  const total = summary.runs.reduce((s, r) => s + r.nRecords, 0);
  const out: string[] = [];
  out.push(`# iclit report`, '', `${summary.runs.length} run(s): ${labels || '–'}. Generated ${input.generatedAt} by iclit ${input.iclitVersion}; provenance in the appendix at the end.`, '');
  out.push(`## Findings`, '');
  if (summary.runs.length === 0) out.push('**no data: no results folders were given**', '');
  else if (total === 0) out.push('**no data: the results hold no finished repeats, so there are no findings, tables or figures.**', '');
  else {
    out.push(FINDINGS_LEGEND, '', mdTable(findingsTable(summary)), '');
    const controls = controlFindingsTable(summary);
    if (controls) out.push(`### Does each measure of ICL ≈ IT exceed every control?`, '', mdTable(controls), '');
    const notRun = claimsNotRun(summary);
    if (notRun.length) out.push(`Not run (no records of their preset): ${notRun.join(', ')}.`, '');
    for (const r of summary.runs) out.push(`- ${testingLine(r)}`);
    out.push('');
  }
  out.push(METHOD_NOTE, '');
  const implicitIt = implicitItTable(summary);
  if (implicitIt) out.push(`## Is ICL implicit IT here?`, '', IMPLICIT_IT_LEGEND, '', mdTable(implicitIt), '');
  for (const group of figures) {
    const ex = group.experiment;
    out.push(`## ${sectionTitle(ex)}`, '');
    for (const f of group.figures) {
      const fig = f.figure;
      if (fig.noData) out.push(`**${fig.noData}**`, '');
      out.push(`![${escapeMd(fig.title)}](${f.pngFile})`, '');
      out.push(`${fig.caption} ([SVG](${f.svgFile}))`, '');
      for (const n of fig.notes) out.push(`- ${n}`);
      if (fig.notes.length) out.push('');
    }
    if (!isExperiment(summary, ex)) continue;
    out.push(`### Similarities at the last measured layer`, '', mdTable(conditionTable(summary, ex)), '');
    out.push(`### Robustness at the last measured layer`, '', mdTable(robustnessTable(summary, ex)), '');
    for (const line of massiveLines(summary, ex)) out.push(line, '');
    const acc = accuracyTable(summary, ex);
    if (acc) out.push(`### Accuracy`, '', mdTable(acc), '');
    const loss = lossTable(summary, ex);
    if (loss) out.push(`### Per-token loss decrease`, '', mdTable(loss), '');
  }
  out.push(`## Appendix: what produced this report`, '', `Generated ${input.generatedAt} by iclit ${input.iclitVersion}.`, '');
  for (const run of summary.runs) {
    out.push(`### ${run.label}`, '');
    for (const [term, values] of provenance(run)) {
      if (values.length === 1) out.push(`- **${term}**: ${values[0]}`);
      else out.push(`- **${term}**:`, ...values.map((v) => `  - ${v}`));
    }
    out.push('');
  }
  if (summary.runs.length === 0) out.push('**no data: no results folders were given**', '');
  return out.join('\n');
}
