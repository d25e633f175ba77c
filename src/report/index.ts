// The report layer's public API: summarize runs (with the paper's findings), build figures, write report.html / report.md / summary.json.
export type * from './types.js';
export { summarize, summarizeRun, summarizeExperiment, summarizeCondition, summarizeAccuracy, similarityTests, type SummarizeOptions } from './summary.js';
export { findingsOf, modelOrder, ALPHA, type CheckedFindings, type FamilySizes } from './findings.js';
export { RULES, HIGH_THRESHOLD, FLAT_MARGIN, ACCURACY_MARGIN, directional, equivalent, high, uShape, medianInterval, type Decision } from './verdicts.js';
export { CLAIMS, EXPECTATIONS, paperFigureOf, type Claim, type Quantity, type Selector } from './paper.js';
export { similarityBoxes, binLines, shotsLine, layerLines } from './figures-similarity.js';
export { accuracyBars, tokenLossBoxes } from './figures-outcomes.js';
export { patchingLines, PATCH_CURVES } from './figures-patching.js';
export { CROSS_CURVES, patchingAt, patchPointsOf, type PatchingCurve } from './patching-values.js';
export { patchingSummaryOf } from './summary-patching.js';
export { panelsFor, presetFigure, allFigures, experimentsOf } from './figures.js';
export { noDataSpec, formatP, type Figure, type FigureKind, type VegaLiteSpec } from './figure-spec.js';
export { renderSvg, svgToPng, withDpi, crc32, PNG_DPI } from './render.js';
export { fontFiles, loadFontMetrics, textWidth, installTextMetrics, type FontMetrics } from './fonts.js';
export { renderHtml, renderMarkdown, type RenderedFigure, type DocumentInput } from './document.js';
export { writeReport, toJson, type WrittenReport, type WriteReportOptions } from './write.js';
export { syntheticRecords, syntheticRun, makeRecord, type SyntheticOptions } from './synthetic.js';
export { runsByModel, splitByModel, mergeMeta, distinctLabels } from './runs.js';
