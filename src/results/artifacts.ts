// What a results folder keeps beside its records: each record's hidden states (safetensors) and tuned adapter (PEFT folder).
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AdapterWeights, SituationStates, UnitKey } from '../experiments/index.js';
import type { RepeatRecord } from '../experiments/record.js';
import { SafetensorsFile, writeSafetensors, type TensorBytes } from '../io/index.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, writePeftFolder } from '../lora/index.js';
import { IclitError } from '../util/errors.js';

export const STATES_DIR = 'states';
export const ADAPTERS_DIR = 'adapters';
export const STATES_FORMAT = 'iclit-states/1';

/** A path segment from a name (experiment, condition, model label): kept readable, '/' and other risky characters escaped. */
function segment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._=+-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s === '.' || s === '..' ? `%2e${s.slice(1)}` : s;
}

/**
 * Where a unit's files live, relative to the results folder: `<kind>/[<model>/]<experiment>/<condition>/repeat-<r>`
 * (the model level only in folders of several models), `.safetensors` appended for states.
 */
export function artifactPath(kind: typeof STATES_DIR | typeof ADAPTERS_DIR, key: UnitKey, withModel: boolean): string {
  const parts = [kind, ...(withModel ? [segment(key.model)] : []), segment(key.experiment), segment(key.condition), `repeat-${key.repeat}`];
  return parts.join('/') + (kind === STATES_DIR ? '.safetensors' : '');
}

/** The three situations' states as one safetensors file: `anchor`, `icl`, `it`, each float32 [L, C], layers in metadata. */
export function writeStates(file: string, s: SituationStates): void {
  const layers = s.layers;
  const tensors: Record<string, TensorBytes> = {};
  for (const name of ['anchor', 'icl', 'it'] as const) {
    const rows = s[name];
    if (rows.length !== layers.length) throw new IclitError(`states: ${name} has ${rows.length} layers, the record measures ${layers.length}`);
    const C = rows[0]?.length ?? 0;
    const flat = new Float32Array(rows.length * C);
    rows.forEach((r, l) => {
      if (r.length !== C) throw new IclitError(`states: ${name} layer ${layers[l]} has ${r.length} values, layer ${layers[0]} has ${C}`);
      flat.set(r, l * C);
    });
    tensors[name] = { dtype: 'float32', shape: [rows.length, C], data: flat };
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeSafetensors(tmp, tensors, { format: STATES_FORMAT, layers: layers.join(',') });
  renameSync(tmp, file);
}

/** Reads a states file written by writeStates, checking its format and shapes (errors name the file). */
export function readStatesFile(file: string): SituationStates {
  if (!existsSync(file)) throw new IclitError(`${file}: the stored hidden states are missing (was the folder copied without states/?)`);
  // The header is parsed and checked by the safetensors reader; the float32 rows are read straight from the file.
  const f = SafetensorsFile.open(file);
  try {
    const meta = f.header.metadata;
    if (meta.format !== STATES_FORMAT) throw new IclitError(`${file} is not an iclit states file (format ${JSON.stringify(meta.format)})`);
    const layers = (meta.layers ?? '').split(',').filter(Boolean).map(Number);
    const read = (name: string): Float32Array[] => {
      const info = f.info(name);
      if (!info || info.dtype !== 'float32' || info.shape.length !== 2 || info.shape[0] !== layers.length) throw new IclitError(`${file}: tensor '${name}' must be float32 [${layers.length}, C]`);
      const [L, C] = info.shape;
      const flat = new Float32Array(L * C);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, new Uint8Array(flat.buffer), 0, flat.byteLength, info.byteOffset);
      } finally {
        closeSync(fd);
      }
      const bad = flat.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new IclitError(`${file}: tensor '${name}' holds ${flat[bad]} (layer ${layers[Math.floor(bad / C)]}, dimension ${bad % C}); the stored states are damaged: run the same \`iclit run\` again to recompute them`);
      return Array.from({ length: L }, (_, l) => flat.slice(l * C, (l + 1) * C));
    };
    return { layers, anchor: read('anchor'), icl: read('icl'), it: read('it') };
  } finally {
    f.close();
  }
}

/** The stored states of a record of the results folder `dir`, or undefined when the record has none. */
export function readRecordStates(dir: string, r: RepeatRecord): SituationStates | undefined {
  if (!r.states) return undefined;
  const s = readStatesFile(join(dir, r.states));
  if (s.layers.join(',') !== r.layers.join(',')) throw new IclitError(`${join(dir, r.states)}: holds layers ${s.layers.join(',')}, the record measures ${r.layers.join(',')}`);
  return s;
}

/** Writes a PEFT adapter folder atomically (into a temporary sibling, then renamed over any earlier copy). */
export function writeAdapter(folder: string, a: AdapterWeights, baseModel: string | null): void {
  const tensors = new Map<string, TensorBytes>();
  for (const [k, t] of a.tensors) tensors.set(k, { dtype: 'float32', shape: t.shape, data: t.data });
  const tmp = `${folder}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  writePeftFolder(tmp, a.config, tensors, baseModel);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(dirname(folder), { recursive: true });
  renameSync(tmp, folder);
}

/**
 * What is wrong with the stored states file and adapter folder a record names, or undefined when both are there
 * (states: read whole — format, shapes, layers and every value finite — as the report will read them; adapter: its
 * config and a readable weights header). A states file is a few layers of three vectors, so a resume can afford to
 * read each; a record whose artifacts are gone or damaged counts as not done and is recomputed.
 */
export function artifactProblem(dir: string, r: RepeatRecord): string | undefined {
  if (r.states) {
    const file = join(dir, r.states);
    if (!existsSync(file)) return `its states file ${file} is missing`;
    try {
      readRecordStates(dir, r);
    } catch (e) {
      return `its states file ${file} is damaged (${(e as Error).message})`;
    }
  }
  if (r.adapter) {
    const folder = join(dir, r.adapter);
    for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) if (!existsSync(join(folder, f))) return `its adapter file ${join(folder, f)} is missing`;
    try {
      SafetensorsFile.open(join(folder, ADAPTER_WEIGHTS)).close();
    } catch (e) {
      return `its adapter ${folder} is damaged (${(e as Error).message})`;
    }
  }
  return undefined;
}
