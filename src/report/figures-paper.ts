// The paper's figures that combine presets, laid out as the paper does: Fig. 3 (a convergence, b wrong labels, c cross-task) and Fig. 8 (a the larger model, b SL, c translation).
import { similarityBoxes } from './figures-similarity.js';
import { SCHEMA, baseConfig, safeId, type Figure, type VegaLiteSpec } from './figure-spec.js';
import type { ReportRun } from './types.js';

interface Panel {
  letter: string;
  experiment: string;
  /** Which runs the panel shows: every run, or those after the first (the paper's 13B: Fig. 8a). */
  runs: 'all' | 'others';
  what: string;
}

const PAPER_FIGURES: readonly { id: string; title: string; panels: Panel[] }[] = [
  {
    id: 'Fig. 3',
    title: "the paper's Fig. 3: the three similarities",
    panels: [
      { letter: 'a', experiment: 'convergence', runs: 'all', what: 'right labels (convergence)' },
      { letter: 'b', experiment: 'wrong-label', runs: 'all', what: 'wrong labels' },
      { letter: 'c', experiment: 'cross-task', runs: 'all', what: 'EN→CS demonstrations, sentiment inference (cross-task)' },
    ],
  },
  {
    id: 'Fig. 8',
    title: "the paper's Fig. 8: additional analyses",
    panels: [
      { letter: 'a', experiment: 'convergence', runs: 'others', what: 'the second model (the paper: LLaMA-2-13B)' },
      { letter: 'b', experiment: 'sl', runs: 'all', what: 'supervised learning: tuning without the instruction' },
      { letter: 'c', experiment: 'translation', runs: 'all', what: 'EN→CS translation as the task' },
    ],
  },
];

function asPanel(p: Figure, label: string): VegaLiteSpec {
  const { $schema: _s, config: _c, title, ...rest } = p.spec;
  const t = typeof title === 'object' && title !== null ? (title as Record<string, unknown>) : {};
  return { ...rest, title: { ...t, text: label, fontSize: 13 } };
}

/**
 * Fig. 3 and Fig. 8 as the paper lays them out, each panel the box plots of one preset (Fig. 8a: the runs after the
 * first, the second model); a figure is made when at least two of its panels have data, absent panels are named in
 * its notes. The per-preset figures stay as they are.
 */
export function paperFigures(runs: readonly ReportRun[]): Figure[] {
  const out: Figure[] = [];
  for (const pf of PAPER_FIGURES) {
    const drawn: { panel: Panel; fig: Figure }[] = [];
    const absent: string[] = [];
    for (const panel of pf.panels) {
      const rs = panel.runs === 'others' ? runs.slice(1) : runs;
      const has = rs.some((r) => r.records.some((x) => x.experiment === panel.experiment));
      if (!has) {
        absent.push(`(${panel.letter}) ${panel.what}: no ${panel.experiment} records${panel.runs === 'others' ? ' of a second model' : ''}`);
        continue;
      }
      drawn.push({ panel, fig: similarityBoxes(rs, panel.experiment) });
    }
    if (drawn.length < 2) continue;
    const caption =
      `As the paper's ${pf.id}: ` +
      drawn.map(({ panel, fig }) => `(${panel.letter}) ${panel.what} — ${fig.caption}`).join(' ');
    out.push({
      id: safeId(`paper-${pf.id}`),
      experiment: pf.id,
      kinds: drawn.map(() => 'boxes' as const),
      title: pf.title,
      caption,
      notes: [...absent, ...drawn.flatMap(({ fig }) => fig.notes)],
      noData: null,
      spec: {
        $schema: SCHEMA,
        title: { text: pf.title, fontSize: 15, anchor: 'start' },
        vconcat: drawn.map(({ panel, fig }) => asPanel(fig, `(${panel.letter}) ${panel.what}`)),
        resolve: { scale: { color: 'independent', x: 'independent', y: 'independent', xOffset: 'independent' } },
        config: baseConfig(),
      },
    });
  }
  return out;
}
