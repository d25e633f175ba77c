// The tables of "Is ICL implicit IT here?" (one row per measure) and of its Findings rows (does each effect over its null exceed every control's), as plain string grids.
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

/** How the verdict cells read, and the tone the HTML colours them with (partial has its own, never the green of a full pass). */
const VERDICT: Record<ControlVerdict, { text: string; tone: string }> = {
  'exceeds-every-control': { text: 'exceeds every control', tone: 'replicates' },
  'exceeds-controls-run': { text: 'partial: exceeds the controls tested', tone: 'partial' },
  'not-above-every-control': { text: 'does not exceed every control', tone: 'does-not-replicate' },
  'not-above-null': { text: 'not shown above its null', tone: 'does-not-replicate' },
  'no-controls': { text: 'no controls run', tone: 'not-run' },
  'not-measured': { text: 'not measured', tone: 'not-run' },
};

export const IMPLICIT_IT_LEGEND =
  'One row per measure: the effect in the preset’s first condition (median / mean / IQR over repeats), its null, and the margin (the effect over its null, signed so that positive is more ICL–IT agreement than the null); ' +
  'each control condition the same way (untrained: the study on a randomly initialised copy of the model; random-adapter: IT through an adapter of the tuned one’s norm in a random direction; ' +
  'shuffled-labels: demonstrations labelled with another repeat’s gold labels). Controls are compared on the margin, not on the raw effect: an untrained model’s near-uniform outputs and attention ' +
  'make its raw KL ≈ 0 and attention cosine ≈ 1, and its null moves with them. Tests are one-sided Wilcoxon signed-rank tests: the margin against 0, and the margin against each control’s paired by repeat; ' +
  'Holm over the section’s tests as one family. “Exceeds every control” needs the margin above 0 and above every known control’s; with a known control not run it reads partial. docs/METHODS.md defines each measure and its source.';

const where = (r: ImplicitItRow): string => (r.experiment === null ? '' : ` (${r.experiment}/${r.condition}${r.layer === null ? '' : `, hidden state ${r.layer}`})`);

function effectCell(r: ImplicitItRow): string {
  if (r.effect === null) return r.effectName;
  const also = r.also.map((a) => `${a.name} ${fmt(a.dist.median)}`).join('; ');
  return `${r.effectName}${where(r)}: ${mmi(r.effect)}${also ? `; median ${also}` : ''}`;
}

/** A null summarised, or named when it is a constant (0 for the update cosine and patching). */
const nullCell = (name: string, d: ImplicitItRow['null']): string => (d && d.n > 0 && d.min === d.max ? name : `${name}: ${mmi(d)}`);

const multiModel = (summary: Summary): boolean => summary.runs.some((run) => new Set(run.implicitIt.rows.map((r) => r.model)).size > 1);

/** The controls any row of the summary compared with, known ones first. */
function controlsIn(summary: Summary): string[] {
  const names = new Set(summary.runs.flatMap((run) => run.implicitIt.rows.flatMap((r) => r.controls.map((c) => c.control))));
  return [...KNOWN_CONTROLS.filter((c) => names.has(c)), ...[...names].filter((c) => !KNOWN_CONTROLS.includes(c)).sort()];
}

/** The section's table: measure, effect, null, the margin and its test, each control present (effect, null, margin, the test against it), the reading. Null without rows. */
export function implicitItTable(summary: Summary): Table | null {
  const multi = summary.runs.length > 1;
  const models = multiModel(summary);
  const controls = controlsIn(summary);
  const head = [
    ...(multi ? ['run'] : []), ...(models ? ['model'] : []), 'measure', 'effect median / mean / IQR', 'null median / mean / IQR', 'margin over the null: median / mean / IQR; vs 0',
    ...controls.map((c) => `${c} control: effect, null (medians); margin median / mean / IQR; margin vs it`), 'reading',
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
        measured ? nullCell(r.nullName, r.null) : '–',
        measured ? `${mmi(r.overNull)}; ${pText(r.nullTest ?? undefined)}` : '–',
        ...controls.map((name) => {
          const c = r.controls.find((x) => x.control === name);
          if (!c) return measured ? 'not run' : '–';
          return `effect ${fmt(c.effect.median)}, null ${fmt(c.null?.median ?? null)}; margin ${mmi(c.overNull)}; ${pText(c.test)}`;
        }),
        r.reading,
      ]);
    }
  if (rows.length === 0) return null;
  return { head, rows, colClass: [...(multi ? ['nowrap'] : []), ...(models ? ['nowrap'] : []), 'nowrap', 'value', 'value', 'value', ...controls.map(() => 'value'), 'claim'] };
}

/** The controls a row compared with, and the known ones its run lacks (a measured row with controls only). */
function comparedCell(r: ImplicitItRow): string {
  if (r.controls.length === 0) return '–';
  const names = r.controls.map((c) => c.control).join(', ');
  return r.missingControls.length ? `${names}; missing: ${r.missingControls.join(', ')}` : names;
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
        comparedCell(r),
        VERDICT[r.verdict].text,
        r.reading,
      ]);
    }
  if (rows.length === 0) return null;
  return { head, rows, tones, colClass: [...(multi ? ['nowrap'] : []), ...(models ? ['nowrap'] : []), 'nowrap', 'nowrap', 'nowrap', 'claim'] };
}
