// The report layer's public API: summarize runs, build figures, write report.html / report.md / summary.json.
export type * from './types.js';
export { summarize, summarizeRun, summarizeExperiment, summarizeCondition, summarizeAccuracy, similarityTests } from './summary.js';
export {
  similarityBoxes,
  binLines,
  shotsLine,
  layerLines,
  accuracyBars,
  tokenLossBoxes,
  figuresFor,
  allFigures,
  experimentsOf,
  noDataSpec,
  formatP,
  type Figure,
  type FigureKind,
  type VegaLiteSpec,
} from './figures.js';
export { renderSvg, svgToPng, fontFiles } from './render.js';
export { renderHtml, renderMarkdown, type RenderedFigure, type DocumentInput } from './document.js';
export { writeReport, toJson, type WrittenReport, type WriteReportOptions } from './write.js';
export { syntheticRecords, makeRecord, seededRandom, ALL_PRESETS } from './synthetic.js';
export { runsByModel, splitByModel, mergeMeta, distinctLabels } from './runs.js';
