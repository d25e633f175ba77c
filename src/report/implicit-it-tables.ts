// The tables of "Is ICL implicit IT here?" (one row per measure) and of its Findings rows (does each effect exceed every control), as plain string grids.
import { fmt } from './numbers.js';
import { mmi, pText, type Table } from './tables.js';
import { KNOWN_CONTROLS, type ControlVerdict, type ImplicitItRow } from './implicit-it.js';
import type { Summary } from './types.js';

const MEASURE_NAME: Record<ImplicitItRow['measure'], string> = {
  hidden: 'hidden state',
  update: 'update',
  attention: 'attention',
  output: 'output',
  patching: 'patching',
};

/** How the verdict cells read, and the tone the HTML colours them with. */
const VERDICT: Record<ControlVerdict, { text: string; tone: string }> = {
  'exceeds-every-control': { text: 'exceeds every control', tone: 'replicates' },
  'not-above-every-control': { text: 'does not exceed every control', tone: 'does-not-replicate' },
  'no-controls': { text: 'no controls run', tone: 'not-run' },
  'not-measured': { text: 'not measured', tone: 'not-run' },
};

export const IMPLICIT_IT_LEGEND =
  'One row per measure: the effect in the preset’s first condition (median / mean / IQR over repeats), its null, and the same number in each control condition ' +
  '(untrained: the study on a randomly initialised copy of the model; random-adapter: IT through an adapter of the tuned one’s norm in a random direction; ' +
  'shuffled-labels: demonstrations labelled with another repeat’s gold labels). Tests are one-sided Wilcoxon signed-rank tests in the direction of more ICL–IT agreement: ' +
  'effect against its null within each repeat, and against each control paired by repeat; Holm over the section’s tests as one family. docs/METHODS.md defines each measure and its source.';

const where = (r: ImplicitItRow): string =>
  r.experiment === null ? '' : ` (${r.experiment}/${r.condition}${r.layer === null ? '' : r.measure === 'patching' ? `, patch point ${r.layer}` : `, hidden state ${r.layer}`})`;

function effectCell(r: ImplicitItRow): string {
  if (r.effect === null) return r.effectName;
  const also = r.also.map((a) => `${a.name} ${fmt(a.dist.median)}`).join('; ');
  return `${r.effectName}${where(r)}: ${mmi(r.effect)}${also ? `; median ${also}` : ''}`;
}

const multiModel = (summary: Summary): boolean => summary.runs.some((run) => new Set(run.implicitIt.rows.map((r) => r.model)).size > 1);

/** The controls any row of the summary compared with, known ones first. */
function controlsIn(summary: Summary): string[] {
  const names = new Set(summary.runs.flatMap((run) => run.implicitIt.rows.flatMap((r) => r.controls.map((c) => c.control))));
  return [...KNOWN_CONTROLS.filter((c) => names.has(c)), ...[...names].filter((c) => !KNOWN_CONTROLS.includes(c)).sort()];
}

/** The section's table: measure, effect, null and its test, each control present (its value and the test against it), the reading. Null without rows. */
export function implicitItTable(summary: Summary): Table | null {
  const multi = summary.runs.length > 1;
  const models = multiModel(summary);
  const controls = controlsIn(summary);
  const head = [
    ...(multi ? ['run'] : []), ...(models ? ['model'] : []), 'measure', 'effect median / mean / IQR', 'null median / mean / IQR', 'effect vs null',
    ...controls.map((c) => `${c} control: median / mean / IQR; effect vs it`), 'reading',
  ];
  const rows: string[][] = [];
  for (const run of summary.runs)
    for (const r of run.implicitIt.rows) {
      const measured = r.experiment !== null;
      rows.push([
        ...(multi ? [run.label] : []),
        ...(models ? [r.model ?? '–'] : []),
        MEASURE_NAME[r.measure],
        effectCell(r),
        // a constant null (0 for the update cosine and patching) is named, not summarised
        !measured ? '–' : r.null && r.null.n > 0 && r.null.min === r.null.max ? r.nullName : `${r.nullName}: ${mmi(r.null)}`,
        measured ? pText(r.nullTest ?? undefined) : '–',
        ...controls.map((name) => {
          const c = r.controls.find((x) => x.control === name);
          return c ? `${mmi(c.effect)}; ${pText(c.test)}` : measured ? 'not run' : '–';
        }),
        r.reading,
      ]);
    }
  if (rows.length === 0) return null;
  return { head, rows, colClass: [...(multi ? ['nowrap'] : []), ...(models ? ['nowrap'] : []), 'nowrap', 'value', 'value', 'test', ...controls.map(() => 'value'), 'claim'] };
}

/** The Findings rows of the section: per measure (and model, run) whether its effect exceeds every control. Null without rows. */
export function controlFindingsTable(summary: Summary): Table | null {
  const multi = summary.runs.length > 1;
  const models = multiModel(summary);
  const head = [...(multi ? ['run'] : []), ...(models ? ['model'] : []), 'measure (Is ICL implicit IT here?)', 'controls compared', 'exceeds every control?', 'reading'];
  const rows: string[][] = [];
  const tones: NonNullable<Table['tones']> = [];
  const verdictCol = head.indexOf('exceeds every control?');
  for (const run of summary.runs)
    for (const r of run.implicitIt.rows) {
      tones.push({ row: rows.length, col: verdictCol, tone: VERDICT[r.verdict].tone });
      rows.push([
        ...(multi ? [run.label] : []),
        ...(models ? [r.model ?? '–'] : []),
        MEASURE_NAME[r.measure],
        r.controls.length ? r.controls.map((c) => c.control).join(', ') : '–',
        VERDICT[r.verdict].text,
        r.reading,
      ]);
    }
  if (rows.length === 0) return null;
  return { head, rows, tones, colClass: [...(multi ? ['nowrap'] : []), ...(models ? ['nowrap'] : []), 'nowrap', 'nowrap', 'nowrap', 'claim'] };
}
