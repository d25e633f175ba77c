// openStudy's phases 1–6 (src/study/study.ts draws them): each a function of the settings and what the phase before it handed on.
import { existsSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, resolve } from 'node:path';
import { TASK_SPECS, defaultInstructionPool, findTextPair, loadDataset, loadInstructionPool } from '../data/index.js';
import {
  STUDY_DEFAULTS, checkMethods, checkPromptLengths, drawRepeats, findPreset, openModelFolder, resolveConditions, taskMaterials, withControls,
  type Condition, type DrawnRepeats, type ModelFolder, type Preset, type StudyMaterials, type StudyPlan,
} from '../experiments/index.js';
import { checkCheckpointWeights, decoderWeightShapes, type DecoderConfig } from '../io/index.js';
import { checkLoraRank } from '../lora/index.js';
import { MAX_DEVICE_BATCH, checkSentenceEncoder, checkStudyBatch, defaultStudyBatch, resolveHiddenStates, studyMemory, type ComputeDType, type MemoryLora } from '../models/index.js';
import { ResultsStore, buildManifest, canonicalJson, sha256Hex, type ConfigExtension, type JsonValue, type Manifest, type ManifestAction } from '../results/index.js';
import { deviceInfo, nativeBf16, resolveDevice } from '../torch/index.js';
import { IclitError, UsageError } from '../util/errors.js';
import { checkInputDir } from '../util/fs.js';
import type { RunSettings } from './settings.js';

/** Phase 1's value: the preset and its conditions (the paper's shots and epochs unless overridden). */
export interface PresetPhase {
  preset: Preset;
  conditions: Condition[];
}

/** Phase 1: the preset, its conditions and the methods. */
export function presetPhase(s: RunSettings): PresetPhase {
  const preset = findPreset(s.preset);
  if (!s.data) throw new UsageError(`--data is required (${preset.task} data for preset ${preset.name})`);
  if (preset.needs.includes('demoData') && !s.demoData) throw new UsageError(`preset ${preset.name} needs --demo-data (EN→CS translation pairs)`);
  if (preset.needs.includes('encoder') && !s.encoder) throw new UsageError(`preset ${preset.name} needs --encoder (a sentence-transformers folder)`);
  if (preset.allLayers && s.layers !== 'all') throw new UsageError(`preset ${preset.name} measures every layer; drop --layers (or the config's layers)`);
  checkMethods(s.methods);
  const conditions = resolveConditions(preset, { shots: s.shots, epochs: s.epochs, bins: s.bins });
  if (s.controls.includes('shuffled-labels')) {
    if (!TASK_SPECS[conditions[0].demoTask].scoring) throw new UsageError(`--controls shuffled-labels needs labelled demonstrations; preset ${preset.name}'s first condition has ${conditions[0].demoTask} demonstrations, which have none`);
    if (s.repeats < 2) throw new UsageError('--controls shuffled-labels takes each repeat\'s labels from another repeat: it needs --repeats 2 or more');
  }
  return { preset, conditions: withControls(conditions, s.controls) };
}

/** Phase 2's value: the inputs read and every repeat drawn (the same draw the preflight check measures and the runner computes). */
export interface DataPhase {
  materials: StudyMaterials;
  drawn: DrawnRepeats;
}

/** Phase 2: the data sets and the instruction pool read, and every repeat drawn once (k, the evaluation set and the templates checked against the rows). */
export async function dataPhase(s: RunSettings, p: PresetPhase, shard?: { index: number; count: number }): Promise<DataPhase> {
  const { preset, conditions } = p;
  const data = await loadDataset(s.data!, preset.task);
  const demoData = preset.needs.includes('demoData') ? await loadDataset(s.demoData!, 'translation') : undefined;
  const instructions = s.instructions ? loadInstructionPool(s.instructions) : defaultInstructionPool(preset.task);
  const materials: StudyMaterials = { data, demoData, instructions, similarityCandidates: s.candidates };
  const drawn = drawRepeats(conditions, taskMaterials(materials, s.methods), s.seed, s.repeats, s.evalExamples, shard);
  if (preset.needs.includes('encoder') && data.examples.length < 2) throw new IclitError(`${s.data}: demo-similarity needs at least 2 rows`);
  return { materials, drawn };
}

/** Phase 3's value per model: its folder read once (weights not loaded; headers open until study.run loads them) and its longest prompt. */
export interface StudyModel {
  label: string;
  dir: string;
  folder: ModelFolder;
  /** The longest prompt of the drawn repeats in this model's tokens (what sizes a batch). */
  longest: number;
}

/** Model labels: folder names, made unique with a numeric suffix when two folders share a name. */
function modelLabels(dirs: string[]): string[] {
  const names = dirs.map((d) => basename(resolve(d)));
  return names.map((n, i) => (names.filter((m) => m === n).length > 1 ? `${n}-${i + 1}` : n));
}

/** Phase 3: every model folder read once (config, checkpoint headers, tokenizer), its layers resolved and every drawn prompt measured against it; the encoder folder checked. */
export async function modelsPhase(s: RunSettings, d: DataPhase, names: string[] = s.models): Promise<StudyModel[]> {
  const labels = modelLabels(names);
  const models: StudyModel[] = [];
  try {
    for (const [i, dir] of s.models.entries()) {
      const folder = await openModelFolder(dir, { chat: s.methods.chatTemplate, label: labels[i] });
      models.push({ label: labels[i], dir, folder, longest: 0 });
      resolveHiddenStates(s.layers, folder.config.numLayers + 1);
      // every weight's shape, dtype and values, and the LoRA rank, before anything is written
      checkCheckpointWeights(dir, decoderWeightShapes(folder.config), { why: (n) => (/^model\.layers\./.test(n) ? ` (config.json says num_hidden_layers ${folder.config.numLayers})` : '') });
      checkLoraRank(folder.config, s.lora.r, s.lora.targets, '--lora-r (lora.r)');
      models[i].longest = checkPromptLengths(d.drawn, d.materials, folder).longest;
    }
    if (s.encoder) {
      checkInputDir(s.encoder, 'encoder folder');
      await checkSentenceEncoder(s.encoder);
    }
  } catch (e) {
    for (const m of models) m.folder.close();
    throw e;
  }
  return models;
}

/** Phase 4's value: where and how the study computes; `note` says why the device is not the one asked for. */
export interface ComputePhase {
  device: string;
  dtype: 'float32' | 'bfloat16';
  batch: number;
  note?: string;
  /** Why `--dtype auto` chose what it did, when that is not the device's usual choice (told to the user always). */
  dtypeNote?: string;
}

/** Phase 4: device and dtype resolved; --batch checked or defaulted (studyBatch) for the run's own LoRA. */
export function computePhase(s: RunSettings, models: readonly StudyModel[]): ComputePhase {
  const dev = resolveDevice(s.device);
  const shapes = models.map((m) => ({ config: m.folder.config, longest: m.longest }));
  const auto = s.dtype === 'auto' ? autoDtype(dev.device, shapes, s.lora) : undefined;
  const dtype = auto?.dtype ?? (s.dtype as ComputeDType);
  const batch = studyBatch({ asked: s.batch, device: dev.device, dtype, lora: s.lora, models: shapes, available: availableMemory(dev.device) });
  return { device: dev.device, dtype, batch, note: dev.note, dtypeNote: auto?.note };
}

/** The share of a device's total memory a float32 study may plan for before `--dtype auto` keeps the weights in bfloat16. */
const FLOAT32_MEMORY_SHARE = 0.85;

/**
 * `--dtype auto`: bfloat16 where the device computes it natively; otherwise float32 (faster there: no widening of
 * every GEMM), unless a float32 copy of the largest model would not fit the device — a 7B model is 27 GB in float32
 * and 13.5 GB in bfloat16, whose GEMMs are then widened to float32 block by block. Decided from the device's total
 * memory, not its free memory, so a resumed run on the same machine decides the same (the dtype is in the manifest).
 */
function autoDtype(device: string, models: readonly { config: DecoderConfig; longest: number }[], lora: MemoryLora): { dtype: ComputeDType; note?: string } {
  if (nativeBf16(device)) return { dtype: 'bfloat16' };
  const total = deviceInfo(device).totalMemory;
  if (total === undefined) return { dtype: 'float32' };
  const need = Math.max(0, ...models.map((m) => studyMemory(m.config, 'float32', lora, 1, Math.max(1, m.longest)).total));
  if (need <= FLOAT32_MEMORY_SHARE * total) return { dtype: 'float32' };
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
  return { dtype: 'bfloat16', note: `--dtype auto: float32 would need about ${gib(need)} of this device's ${gib(total)}, so the weights stay in bfloat16 (GEMMs widened to float32; --dtype float32 to insist)` };
}

/** Bytes a study may use on `device`: a CUDA device's free memory (else its total), the host's free memory on the CPU. */
function availableMemory(device: string): number | undefined {
  if (device === 'cpu') return freemem();
  const info = deviceInfo(device);
  return info.freeMemory ?? info.totalMemory;
}

/**
 * Phase 4's --batch for models of `config` whose longest prompt is `longest` tokens, each repeat tuning one adapter
 * of `lora`. Given: checked against a CUDA device's `available` memory (an error naming --batch). Not given: the
 * largest that fits every model — on the CPU capped at STUDY_DEFAULTS.batch (larger chunks gain little there) and
 * never below 1 (the estimate is conservative and the OS can page memory-mapped weights); elsewhere at
 * MAX_DEVICE_BATCH.
 */
export function studyBatch(o: { asked?: number; device: string; dtype: ComputeDType; lora: MemoryLora; models: { config: DecoderConfig; longest: number }[]; available: number | undefined }): number {
  const cpu = o.device === 'cpu';
  const available = o.available;
  if (o.asked !== undefined) {
    if (!cpu && available !== undefined) for (const m of o.models) checkStudyBatch(m.config, o.dtype, o.lora, o.asked, m.longest, available, o.device);
    return o.asked;
  }
  if (available === undefined) return STUDY_DEFAULTS.batch;
  const fit = (m: { config: DecoderConfig; longest: number }): number => {
    if (!cpu) return defaultStudyBatch(m.config, o.dtype, o.lora, m.longest, available, MAX_DEVICE_BATCH, o.device);
    try {
      return defaultStudyBatch(m.config, o.dtype, o.lora, m.longest, available, STUDY_DEFAULTS.batch, 'this machine');
    } catch (e) {
      if (e instanceof IclitError) return 1;
      throw e;
    }
  };
  return Math.min(...o.models.map(fit));
}

/** Phase 5: the part of the settings that decides the records (hashed; not --batch: it changes only float rounding, so a resume or a shard may use another); every input fingerprinted. */
export function manifestPhase(s: RunSettings, p: PresetPhase, d: DataPhase, models: readonly StudyModel[], compute: ComputePhase): Manifest {
  const config: JsonValue = {
    preset: p.preset.name,
    conditions: p.conditions as unknown as JsonValue,
    layers: s.layers,
    dtype: compute.dtype,
    lr: s.lr,
    lrSchedule: s.lrSchedule,
    weightDecay: s.weightDecay,
    lora: s.lora as unknown as JsonValue,
    bins: s.bins,
    candidates: s.candidates ?? 'all',
    evalExamples: s.evalExamples,
    methods: s.methods as unknown as JsonValue,
    instructionPool: sha256Hex(d.materials.instructions.join('\n')),
    // absent without controls, so a run without them hashes as it always did (the control conditions are in `conditions` too)
    ...(s.controls.length > 0 ? { controls: [...s.controls] } : {}),
  };
  const dataEntries: { role: string; path: string }[] = [];
  const addData = (role: string, path: string): void => {
    // A text pair named by its prefix (newstest2016 → .en + .cs) is fingerprinted file by file.
    const pair = existsSync(path) ? undefined : findTextPair(path);
    if (pair) dataEntries.push({ role: `${role}.en`, path: pair.en }, { role: `${role}.cs`, path: pair.cs });
    else dataEntries.push({ role, path });
  };
  addData('data', s.data!);
  if (d.materials.demoData) addData('demo-data', s.demoData!);
  if (s.instructions) dataEntries.push({ role: 'instructions', path: s.instructions });
  if (p.preset.needs.includes('encoder')) dataEntries.push({ role: 'encoder', path: s.encoder! });
  return buildManifest({
    config,
    models: models.map((m) => ({ label: m.label, path: m.dir })),
    data: dataEntries,
    seed: s.seed,
    compute: { ...deviceInfo(compute.device), dtype: compute.dtype, batch: compute.batch } as unknown as JsonValue,
  });
}

/** Phase 6's value: the results folder, opened, and what beginRun decided. */
export interface FolderPhase {
  store: ResultsStore;
  action: ManifestAction;
  /** Where --force moved the earlier setup's files. */
  supersededTo?: string;
}

/**
 * A study config (manifestPhase's) that only adds controls to `existing`: the same settings and the same preset
 * conditions, and every control `existing` had. Its records for the preset's conditions and those controls are the
 * ones `existing` computed (a condition's numbers never depend on the others), so a rerun with more --controls keeps
 * the folder's records and computes only the added control conditions.
 */
export const controlsAdded: ConfigExtension = (existing, wanted) => {
  type Config = { controls?: string[]; conditions?: { control?: string }[] } & Record<string, unknown>;
  const parts = (c: JsonValue) => {
    const { controls = [], conditions = [], ...rest } = (c ?? {}) as Config;
    const own = Array.isArray(conditions) ? conditions.filter((x) => x?.control === undefined) : conditions;
    return { controls: Array.isArray(controls) ? controls : [], rest: canonicalJson({ ...rest, conditions: own }) };
  };
  const a = parts(existing);
  const b = parts(wanted);
  return a.rest === b.rest && a.controls.every((x) => b.controls.includes(x)) && b.controls.length > a.controls.length;
};

/** Phase 6: the results folder created only now; its manifest compared: new, resume, extend (controls added: controlsAdded), refused, or --force (the earlier setup moved to superseded/). */
export function folderPhase(out: string, manifest: Manifest, force: boolean | undefined): FolderPhase {
  const store = ResultsStore.open(out, { create: true });
  try {
    const begun = store.beginRun(manifest, { force, extension: controlsAdded });
    return { store, action: begun.action, supersededTo: begun.supersededTo };
  } catch (e) {
    store.close();
    throw e;
  }
}

/** The runner's plan of a study (its materials apart: the run adds the sentence encoder); src/study/estimate.ts counts the same plan. */
export function planOf(s: RunSettings, preset: PresetPhase, data: DataPhase, batch: number, configHash: string): Omit<StudyPlan, 'materials'> {
  return {
    experiment: preset.preset.name,
    conditions: preset.conditions,
    repeats: s.repeats,
    seed: s.seed,
    layers: s.layers,
    tune: { lr: s.lr, lrSchedule: s.lrSchedule, weightDecay: s.weightDecay, lora: s.lora },
    batch,
    methods: s.methods,
    evalExamples: s.evalExamples,
    configHash,
    save: { states: s.saveStates, adapters: s.saveAdapters },
    drawn: data.drawn,
  };
}
