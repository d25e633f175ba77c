// writeReport(runs, outDir): summary.json, figures/*.svg and 300-dpi *.png, report.html and report.md in one folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IclitError } from '../util/errors.js';
import { version } from '../util/version.js';
import { allFigures } from './figures.js';
import { renderHtml, renderMarkdown, type RenderedFigure } from './document.js';
import { renderSvg, svgToPng } from './render.js';
import { summarize } from './summary.js';
import type { ReportRun, Summary } from './types.js';

export interface WrittenReport {
  outDir: string;
  html: string;
  markdown: string;
  summaryJson: string;
  /** Absolute paths of every figure file written (svg and png). */
  figureFiles: string[];
  summary: Summary;
  /** Ids of figures that say "no data" instead of drawing. */
  emptyFigures: string[];
}

export interface WriteReportOptions {
  /** Fixed generation time (tests); defaults to now. */
  generatedAt?: string;
  /** PNG resolution; 300 dpi by default. */
  pngDpi?: number;
  /** Massive-dimension threshold for the robustness measures (see summarize); default 100. */
  massiveRatio?: number;
}

/** JSON with NaN/Infinity as null (JSON has no NaN). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** writeFileSync with a one-line IclitError naming the file. */
function writeOut(path: string, data: string | Buffer): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new IclitError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export async function writeReport(runs: readonly ReportRun[], outDir: string, opts: WriteReportOptions = {}): Promise<WrittenReport> {
  const dir = resolve(outDir);
  const figDir = join(dir, 'figures');
  try {
    mkdirSync(figDir, { recursive: true });
  } catch (e) {
    throw new IclitError(`cannot create report folder ${figDir}: ${(e as Error).message}`);
  }
  const labels = new Set<string>();
  for (const r of runs) {
    if (labels.has(r.label)) throw new IclitError(`two runs share the label '${r.label}'; give each results folder a distinct label`);
    labels.add(r.label);
  }
  const summary = summarize(runs, { massiveRatio: opts.massiveRatio });
  const groups = allFigures(runs);
  const figureFiles: string[] = [];
  const emptyFigures: string[] = [];
  const rendered: { experiment: string; figures: RenderedFigure[] }[] = [];
  const ids = new Set<string>();
  for (const g of groups) {
    const out: RenderedFigure[] = [];
    for (const f of g.figures) {
      // Experiment names that differ only in punctuation map to one file-safe id: keep file names distinct.
      let id = f.id;
      for (let k = 2; ids.has(id); k++) id = `${f.id}-${k}`;
      ids.add(id);
      const figure = id === f.id ? f : { ...f, id };
      const svg = await renderSvg(figure.spec, figure.id);
      const svgFile = `figures/${figure.id}.svg`;
      const pngFile = `figures/${figure.id}.png`;
      writeOut(join(dir, svgFile), svg);
      writeOut(join(dir, pngFile), svgToPng(svg, opts.pngDpi));
      figureFiles.push(join(dir, svgFile), join(dir, pngFile));
      if (figure.noData) emptyFigures.push(figure.id);
      out.push({ figure, svg, svgFile, pngFile });
    }
    rendered.push({ experiment: g.experiment, figures: out });
  }
  const doc = { summary, figures: rendered, generatedAt: opts.generatedAt ?? new Date().toISOString(), iclitVersion: version() };
  const html = join(dir, 'report.html');
  const markdown = join(dir, 'report.md');
  const summaryJson = join(dir, 'summary.json');
  writeOut(summaryJson, toJson(summary));
  writeOut(html, renderHtml(doc));
  writeOut(markdown, renderMarkdown(doc));
  return { outDir: dir, html, markdown, summaryJson, figureFiles, summary, emptyFigures };
}
