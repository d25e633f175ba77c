// Shaping results folders into report runs: one run per model (split multi-model folders, merge a model's per-preset folders), distinct labels.
import { basename } from 'node:path';
import type { StatesOf } from '../results/robustness.js';
import type { ReportRun } from './types.js';

type Meta = ReportRun['meta'];

function experimentsOf(run: ReportRun): Set<string> {
  return new Set(run.records.map((r) => r.experiment));
}

/** Splits a run whose records hold several models into one run per model (meta.model names which). */
export function splitByModel(run: ReportRun): ReportRun[] {
  const present = new Set(run.records.map((r) => r.model));
  const models = [...new Set([...(run.models ?? []).filter((m) => present.has(m)), ...present])];
  if (models.length <= 1) return [run];
  return models.map((m) => ({ label: m, meta: { ...run.meta, model: m }, records: run.records.filter((r) => r.model === m), models: [m], states: run.states }));
}

/** Meta of several folders: equal values once; differing ones as 'experiments: value; …' so each stays attributable. */
export function mergeMeta(parts: { meta: Meta; experiments: string[] }[]): Meta {
  const keys: string[] = [];
  for (const p of parts) for (const k of Object.keys(p.meta)) if (!keys.includes(k)) keys.push(k);
  const out: Meta = {};
  for (const k of keys) {
    const values = parts.map((p) => (k in p.meta ? p.meta[k] : undefined));
    const distinct = [...new Set(values.map((v) => (v === undefined ? '\u0000' : String(v))))];
    if (distinct.length === 1 && values[0] !== undefined) out[k] = values[0];
    else
      out[k] = parts
        .map((p, i) => (values[i] === undefined ? null : `${p.experiments.join(', ') || 'no records'}: ${values[i] === null ? '–' : String(values[i])}`))
        .filter((s): s is string => s !== null)
        .join('; ');
  }
  return out;
}

/** One states reader for the records of two runs: each record is read through its own folder's reader. */
function mergeStates(a: ReportRun, b: ReportRun): StatesOf | undefined {
  if (!a.states && !b.states) return undefined;
  const fromA = new Set(a.records);
  return (r) => (fromA.has(r) ? a.states?.(r) : b.states?.(r));
}

/**
 * One ReportRun per model, in first-seen order: a folder holding several models is split; folders of the same model
 * whose experiments do not overlap (the usual one folder per preset) are merged. Folders that overlap stay separate
 * and get distinct labels (see distinctLabels).
 */
export function runsByModel(runs: readonly ReportRun[]): ReportRun[] {
  const merged: { run: ReportRun; parts: { meta: Meta; experiments: string[] }[] }[] = [];
  for (const run of runs.flatMap(splitByModel)) {
    const exps = experimentsOf(run);
    const into = merged.find((m) => m.run.label === run.label && ![...exps].some((e) => experimentsOf(m.run).has(e)));
    const part = { meta: run.meta, experiments: [...exps].sort() };
    if (into) {
      into.parts.push(part);
      into.run = { label: into.run.label, meta: mergeMeta(into.parts), records: [...into.run.records, ...run.records], models: into.run.models, states: mergeStates(into.run, run) };
    } else {
      merged.push({ run, parts: [part] });
    }
  }
  return distinctLabels(merged.map((m) => m.run));
}

/** Makes labels unique: a repeated label gets its results folder's name (meta.results), then a counter. */
export function distinctLabels(runs: readonly ReportRun[]): ReportRun[] {
  const seen = new Set<string>();
  return runs.map((r) => {
    let label = r.label;
    if (runs.filter((x) => x.label === label).length > 1 && typeof r.meta.results === 'string') label = `${label} (${basename(r.meta.results)})`;
    const base = label;
    for (let k = 2; seen.has(label); k++) label = `${base} #${k}`;
    seen.add(label);
    return label === r.label ? r : { ...r, label };
  });
}
