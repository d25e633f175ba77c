// One combined figure per experiment, lettered panels like the paper's: which panels a preset gets and how they are stacked.
import { PRESET_NAMES } from '../experiments/conditions.js';
import { recordCondition } from '../experiments/record.js';
import { hasSimilarity, orderExperiments } from './groups.js';
import { binLines, layerLines, shotsLine, similarityBoxes } from './figures-similarity.js';
import { accuracyBars, tokenLossBoxes } from './figures-outcomes.js';
import { patchingLines } from './figures-patching.js';
import { SCHEMA, baseConfig, recordsOf, safeId, type Figure, type FigureKind, type VegaLiteSpec } from './figure-spec.js';
import { paperFigureOf } from './paper.js';
import { paperFigures } from './figures-paper.js';
import type { ReportRun } from './types.js';

/** The study presets' own panel (besides the box plots), drawn first as the paper's figure does. */
const OWN_PANEL: Readonly<Record<string, FigureKind>> = {
  'demo-similarity': 'bins',
  shots: 'shots',
  layers: 'layers',
  accuracy: 'accuracy',
  'token-loss': 'token-loss',
  patching: 'patching',
};

const BUILDERS: Record<FigureKind, (runs: readonly ReportRun[], experiment: string) => Figure> = {
  boxes: similarityBoxes,
  bins: binLines,
  shots: shotsLine,
  layers: layerLines,
  accuracy: accuracyBars,
  'token-loss': tokenLossBoxes,
  patching: patchingLines,
};

/** Experiments present in any run, in report order. */
export function experimentsOf(runs: readonly ReportRun[]): string[] {
  return orderExperiments(runs.flatMap((r) => r.records.map((x) => x.experiment)));
}

/**
 * The panels of one experiment: the preset's own panel, then the box plots (when it has similarities, or always for
 * a preset without a panel of its own). An experiment that is not a preset gets the panels its records carry data
 * for (bins, several shot counts, several layers, accuracy, loss values); a preset that measured accuracy or loss
 * values anyway gets those panels too. Every record carries shots, labels and (by default) all layers, so those alone
 * do not add panels to a preset.
 */
export function panelsFor(runs: readonly ReportRun[], experiment: string): Figure[] {
  const recs = runs.flatMap((r) => recordsOf(r, experiment));
  const own = OWN_PANEL[experiment];
  const custom = !PRESET_NAMES.includes(experiment);
  const hasAccuracy = recs.some((r) => r.accuracy !== undefined && recordCondition(r).labels !== null);
  const hasLoss = recs.some((r) => r.lossDecrease !== undefined);
  const kinds: FigureKind[] = [];
  if (own) kinds.push(own);
  if (custom) {
    if (recs.some((r) => recordCondition(r).bin !== null)) kinds.push('bins');
    if (new Set(recs.map((r) => recordCondition(r).shots)).size > 1) kinds.push('shots');
    if (recs.some((r) => r.layers.length > 1)) kinds.push('layers');
  }
  if (recs.some(hasSimilarity) || own === undefined) kinds.push('boxes');
  if (hasAccuracy && !kinds.includes('accuracy')) kinds.push('accuracy');
  if (hasLoss && !kinds.includes('token-loss')) kinds.push('token-loss');
  if (recs.some((r) => r.patching !== undefined) && !kinds.includes('patching')) kinds.push('patching');
  return kinds.map((k) => BUILDERS[k](runs, experiment));
}

/** A panel's spec inside a combined figure: no schema or config of its own, its title lettered. */
function asPanel(p: Figure, letter: string | null): VegaLiteSpec {
  const { $schema: _s, config: _c, title, ...rest } = p.spec;
  const t = typeof title === 'object' && title !== null ? (title as Record<string, unknown>) : { text: String(title ?? p.title) };
  return { ...rest, title: { ...t, text: letter ? `(${letter}) ${p.title}` : p.title, fontSize: 13 } };
}

/** The experiment's panels stacked into one figure (one file), with the paper's figure number in its title and caption. */
export function presetFigure(runs: readonly ReportRun[], experiment: string): Figure {
  const panels = panelsFor(runs, experiment);
  const fig = paperFigureOf(experiment);
  const title = fig ? `${experiment} (cf. the paper's ${fig})` : experiment;
  const letters = panels.length > 1 ? panels.map((_, i) => String.fromCharCode(97 + i)) : panels.map(() => null);
  const caption =
    (fig ? `Cf. the paper's ${fig}. ` : '') + panels.map((p, i) => (letters[i] ? `(${letters[i]}) ${p.caption}` : p.caption)).join(' ');
  const empty = panels.filter((p) => p.noData !== null);
  const spec: VegaLiteSpec = {
    $schema: SCHEMA,
    title: { text: title, fontSize: 15, anchor: 'start' },
    vconcat: panels.map((p, i) => asPanel(p, letters[i])),
    resolve: { scale: { color: 'independent', x: 'independent', y: 'independent', xOffset: 'independent' } },
    config: baseConfig(),
  };
  return {
    id: safeId(experiment),
    experiment,
    kinds: panels.flatMap((p) => p.kinds),
    title,
    caption,
    notes: [...panels.flatMap((p) => p.notes), ...(empty.length < panels.length ? empty.map((p) => `${p.title}: ${p.noData}`) : [])],
    noData: empty.length === panels.length ? empty.map((p) => p.noData).join('; ') : null,
    spec,
  };
}

/** All figures of a report: the paper's combined figures (Fig. 3, Fig. 8) when the runs hold their presets, then one per experiment in report order. */
export function allFigures(runs: readonly ReportRun[]): { experiment: string; figures: Figure[] }[] {
  const combined = paperFigures(runs).map((f) => ({ experiment: f.experiment, figures: [f] }));
  return [...combined, ...experimentsOf(runs).map((experiment) => ({ experiment, figures: [presetFigure(runs, experiment)] }))];
}
