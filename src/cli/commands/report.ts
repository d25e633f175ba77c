// `iclit report`: one or more results folders → report.html, report.md, summary.json and figures/ in one folder.
import { basename, resolve } from 'node:path';
import type { Command } from '../args.js';
import { required } from '../args.js';
import { UsageError } from '../../util/errors.js';
import { checkOutputApart, checkOutputDir } from '../../util/fs.js';
import { ResultsStore, readRecordStates, resultsFolders, resultsInputs, type Manifest } from '../../results/index.js';
import { PAPER_ORDER } from '../../study/index.js';
import { runsByModel, writeReport, toJson, type ReportRun } from '../../report/index.js';

type Meta = ReportRun['meta'];

/** A config list item in one short line: a named object (a condition) as 'name (key=value, …)' with its scalar settings. */
function itemText(x: unknown): string {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return JSON.stringify(x);
  const o = x as Record<string, unknown>;
  const scalars = Object.entries(o).filter(([k, v]) => k !== 'name' && v !== null && typeof v !== 'object');
  const text = scalars.map(([k, v]) => `${k}=${String(v)}`).join(', ');
  return typeof o.name === 'string' ? `${o.name}${text ? ` (${text})` : ''}` : `{${text}}`;
}

/** Top-level and one-level-nested scalar config values as 'config.a.b' entries (what settings produced the run). */
function flattenConfig(config: unknown, meta: Meta, prefix = 'config', depth = 0): void {
  if (config === null || typeof config !== 'object') {
    meta[prefix] = typeof config === 'number' || typeof config === 'string' ? config : config === null ? null : String(config);
    return;
  }
  if (Array.isArray(config)) {
    meta[prefix] = config.every((x) => x === null || typeof x !== 'object') ? config.join(', ') : config.map(itemText).join('; ');
    return;
  }
  for (const [k, v] of Object.entries(config)) {
    if (depth >= 2 && v !== null && typeof v === 'object') meta[`${prefix}.${k}`] = JSON.stringify(v);
    else flattenConfig(v, meta, `${prefix}.${k}`, depth + 1);
  }
}

/** What the report states about one results folder: where, which model and data (with fingerprints), settings, seed, time. */
export function metaOf(dir: string, m: Manifest | undefined): Meta {
  const meta: Meta = { results: resolve(dir) };
  if (!m) {
    meta.manifest = 'none (the folder has no manifest; model, data and settings unknown)';
    return meta;
  }
  meta.models = m.models.map((x) => `${x.label} (${x.path}, ${x.fingerprint.slice(0, 12)})`).join('; ') || null;
  meta.data = m.data.map((x) => `${x.role}: ${x.path} (${x.fingerprint.slice(0, 12)})`).join('; ') || null;
  meta.configHash = m.configHash;
  meta.seed = m.seed;
  meta.iclitVersion = m.iclitVersion;
  meta.createdAt = m.createdAt;
  meta.finishedAt = m.finishedAt ?? 'not finished (partial results)';
  meta.wallSeconds = m.wallSeconds ?? null;
  flattenConfig(m.config, meta);
  return meta;
}

/** Reads one results folder (read-only) into a ReportRun. */
export function readRun(dir: string): ReportRun {
  const store = ResultsStore.open(dir, { readonly: true });
  try {
    const manifest = store.manifest();
    const records = store.records();
    const models = manifest?.models.map((x) => x.label) ?? [...new Set(records.map((r) => r.model))];
    const label = models.length === 1 ? models[0] : basename(resolve(dir));
    // The records' stored hidden states feed the robustness measures (centred, massive dims out, null, CKA).
    return { label, meta: metaOf(dir, manifest), records, models: manifest?.models.map((x) => x.label), states: (r) => readRecordStates(dir, r) };
  } finally {
    store.close();
  }
}

export const report: Command = {
  name: 'report',
  summary: 'write report.html, report.md, summary.json and figures from one or more results folders (side by side)',
  usage: 'report RESULTS_DIR [RESULTS_DIR2 ...] --out REPORT_DIR [--note TEXT ...] [--json]   (a results tree of `iclit run paper` reads every preset folder in it)',
  flags: {
    note: { type: 'string', multiple: true, value: 'TEXT', description: 'a line the report states under "What produced this report" (repeatable)' },
    out: { type: 'string', short: 'o', value: 'DIR', description: 'folder to write the report into (created if missing)' },
    json: { type: 'boolean', description: 'print a JSON summary (paths and summary.json content) instead of the report path' },
  },
  async run(flags, positionals) {
    if (positionals.length === 0) throw new UsageError('expected at least one RESULTS_DIR (see iclit report --help)');
    const out = required(flags, 'out');
    checkOutputDir(out, 'report folder');
    // A results tree of `iclit run paper` stands for its per-preset folders, in the paper's order.
    const folders = positionals.flatMap((d) => resultsFolders(d, PAPER_ORDER));
    checkOutputApart(out, 'report folder', folders.flatMap(resultsInputs));
    // One run per model: a model's per-preset folders merge, a two-model folder splits (runs side by side).
    const notes = (flags.note as string[] | undefined) ?? [];
    const runs = runsByModel(folders.map(readRun)).map((r) => (notes.length ? { ...r, meta: { notes: notes.join(' · '), ...r.meta } } : r));
    const written = await writeReport(runs, out);
    if (flags.json === true) {
      process.stdout.write(
        toJson({
          report: written.html,
          markdown: written.markdown,
          summaryJson: written.summaryJson,
          figures: written.figureFiles.length,
          emptyFigures: written.emptyFigures,
          summary: written.summary,
        }),
      );
    } else {
      process.stdout.write(written.html + '\n');
    }
    return 0;
  },
};
