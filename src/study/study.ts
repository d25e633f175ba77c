// One study run end to end: settings checked before anything is written, the manifest that makes resume safe, then the runner per model.
/*
 * openStudy(settings) checks everything that can be checked, then opens the results folder:
 *
 *   1. preset     the preset, its conditions (the paper's shots and epochs unless overridden) and the methods
 *   2. data       --data, --demo-data and the instruction pool read; repeat 0 drawn as a dry run (k, the
 *                 evaluation set and the templates against the rows)
 *   3. models     every model folder inspected (config, checkpoint headers, tokenizer), the layers resolved, and
 *                 every repeat's prompts measured against the model's longest sequence
 *   4. compute    device and dtype resolved; --batch defaulted to what fits the device's free memory (on the CPU
 *                 at most STUDY_DEFAULTS.batch)
 *   5. manifest   what decides the records, hashed (not --batch: it changes only float rounding, so a resume or
 *                 a shard may use another); every input fingerprinted
 *   6. folder     the results folder created only now; its manifest compared: new, resume, refused, or --force
 *                 (the earlier setup moved to superseded/)
 *
 * study.run() then computes, per model:
 *
 *   7. load       the model and its tokenizer (and the sentence encoder of demo-similarity, with its cache)
 *   8. run        runPlan (src/experiments/runner.ts) into the folder's sink: every unfinished repeat
 *   9. finish     the manifest marked finished with the wall time
 */
import { existsSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, resolve } from 'node:path';
import { defaultInstructionPool, findTextPair, loadDataset, loadInstructionPool } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import {
  LlamaStudyBackend, STUDY_DEFAULTS, checkMethods, checkPromptLengths, findPreset, repeatUnits, resolveConditions, runPlan, studyViews,
  type Condition, type Preset, type PromptCodec, type ProgressEvent, type StudyPlan, type TextEmbedder,
} from '../experiments/index.js';
import { CheckpointWeights, readDecoderConfig, type DecoderConfig } from '../io/index.js';
import { SentenceEncoder, checkStudyBatch, defaultStudyBatch, readSentenceModules, resolveHiddenStates, type ComputeDType } from '../models/index.js';
import { EmbeddingCache, ResultsStore, buildManifest, sha256Hex, type JsonValue, type Manifest, type ManifestAction } from '../results/index.js';
import { ChatTemplate, Tokenizer } from '../tokenizers/index.js';
import { deviceInfo, nativeBf16, resolveDevice } from '../torch/index.js';
import { IclitError, UsageError } from '../util/errors.js';
import { checkInputDir } from '../util/fs.js';
import type { RunSettings } from './settings.js';

export interface OpenOptions {
  /** Replace a results folder's setup (the earlier one is moved to superseded/). */
  force?: boolean;
  /** One line for the user (notes such as the device fallback); default: nothing. */
  onNote?: (line: string) => void;
}

export interface StudyModel {
  label: string;
  dir: string;
}

export interface StudySummary {
  computed: number;
  skipped: number;
  wallSeconds: number;
}

/** An opened study: checked settings, its manifest, its results folder. */
export interface Study {
  readonly dir: string;
  readonly preset: Preset;
  readonly manifest: Manifest;
  readonly action: ManifestAction;
  /** Where --force moved the earlier setup's files. */
  readonly supersededTo?: string;
  readonly models: StudyModel[];
  /** Where it computes; `note` says why the device is not the one asked for (auto falling back to the CPU). */
  readonly compute: { device: string; dtype: 'float32' | 'bfloat16'; batch: number; note?: string };
  run(opts?: { shard?: { index: number; count: number }; onProgress?: (e: ProgressEvent, model: number) => void }): Promise<StudySummary>;
  close(): void;
}

/** Model labels: folder names, made unique with a numeric suffix when two folders share a name. */
function modelLabels(dirs: string[]): string[] {
  const names = dirs.map((d) => basename(resolve(d)));
  return names.map((n, i) => (names.filter((m) => m === n).length > 1 ? `${n}-${i + 1}` : n));
}

/** Phase 1: the preset, its conditions and the methods. */
function presetPhase(s: RunSettings): { preset: Preset; conditions: Condition[] } {
  const preset = findPreset(s.preset);
  if (!s.data) throw new UsageError(`--data is required (${preset.task} data for preset ${preset.name})`);
  if (preset.needs.includes('demoData') && !s.demoData) throw new UsageError(`preset ${preset.name} needs --demo-data (EN→CS translation pairs)`);
  if (preset.needs.includes('encoder') && !s.encoder) throw new UsageError(`preset ${preset.name} needs --encoder (a sentence-transformers folder)`);
  if (preset.allLayers && s.layers !== 'all') throw new UsageError(`preset ${preset.name} measures every layer; drop --layers (or the config's layers)`);
  checkMethods(s.methods);
  return { preset, conditions: resolveConditions(preset, { shots: s.shots, epochs: s.epochs, bins: s.bins }) };
}

/** Phase 2: the data sets and the instruction pool, checked by drawing repeat 0 of every condition but the bins. */
async function dataPhase(s: RunSettings, preset: Preset, conditions: Condition[]): Promise<{ data: Dataset; demoData?: Dataset; instructions: readonly string[] }> {
  const data = await loadDataset(s.data!, preset.task);
  let demoData: Dataset | undefined;
  if (preset.needs.includes('demoData')) {
    demoData = await loadDataset(s.demoData!, 'translation');
  }
  const instructions = s.instructions ? loadInstructionPool(s.instructions) : defaultInstructionPool(preset.task);
  const views = studyViews({ data, demoData, instructions }, s.methods);
  repeatUnits(conditions.filter((c) => c.bin === undefined), views, s.seed, 0, { all: conditions, evalExamples: s.evalExamples });
  if (preset.needs.includes('encoder') && data.examples.length < 2) throw new IclitError(`${s.data}: demo-similarity needs at least 2 rows`);
  return { data, demoData, instructions };
}

/** Phase 3: a model folder inspected without loading its weights: its number of hidden states and its tokenizer. */
async function inspectModel(dir: string, chat: boolean): Promise<{ config: DecoderConfig; codec: PromptCodec }> {
  checkInputDir(dir, 'model folder');
  const config = readDecoderConfig(dir);
  CheckpointWeights.open(dir).close();
  if (!existsSync(resolve(dir, 'tokenizer.json'))) throw new IclitError(`${dir} has no tokenizer.json (the study tokenizes with the model folder's own tokenizer)`);
  const tokenizer = await Tokenizer.load(dir);
  if (tokenizer.vocabSize > config.vocabSize) throw new IclitError(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but config.json's vocab_size is ${config.vocabSize}`);
  const template = chat ? ChatTemplate.load(dir) : undefined;
  const codec: PromptCodec = { encode: (text) => tokenizer.encode(text, { addSpecialTokens: !template }), maxPositions: config.maxPositionEmbeddings, chat: template };
  return { config, codec };
}

/**
 * Phase 4's --batch. Given: checked against a CUDA device's free memory (an error naming --batch). Not given: the
 * largest that fits every model (estimated from its config and the longest prompt) in the device's free memory —
 * on the CPU the host's available memory, capped at STUDY_DEFAULTS.batch (larger chunks gain little there) and
 * never below 1 (the estimate is conservative and the OS can page memory-mapped weights).
 */
function studyBatch(asked: number | undefined, device: string, dtype: ComputeDType, models: { config: DecoderConfig; longest: number }[]): number {
  const cpu = device === 'cpu';
  const info = cpu ? undefined : deviceInfo(device);
  const available = cpu ? freemem() : (info!.freeMemory ?? info!.totalMemory);
  if (asked !== undefined) {
    if (!cpu && available !== undefined) for (const m of models) checkStudyBatch(m.config, dtype, asked, m.longest, available, device);
    return asked;
  }
  if (available === undefined) return STUDY_DEFAULTS.batch;
  const fit = (m: { config: DecoderConfig; longest: number }): number => {
    if (!cpu) return defaultStudyBatch(m.config, dtype, m.longest, available, 64, device);
    try {
      return defaultStudyBatch(m.config, dtype, m.longest, available, STUDY_DEFAULTS.batch, 'this machine');
    } catch (e) {
      if (e instanceof IclitError) return 1;
      throw e;
    }
  };
  return Math.min(...models.map(fit));
}

/** Phase 5: the part of the settings that decides the records (hashed); paths are fingerprinted apart. */
function manifestConfig(s: RunSettings, preset: Preset, conditions: Condition[], instructions: readonly string[], dtype: string): JsonValue {
  return {
    preset: preset.name,
    conditions: conditions as unknown as JsonValue,
    layers: s.layers,
    dtype,
    lr: s.lr,
    lrSchedule: s.lrSchedule,
    weightDecay: s.weightDecay,
    lora: s.lora,
    bins: s.bins,
    candidates: s.candidates ?? 'all',
    evalExamples: s.evalExamples,
    methods: s.methods as unknown as JsonValue,
    instructionPool: sha256Hex(instructions.join('\n')),
  };
}

/** Checks the settings, builds the manifest and opens the results folder `out` (see the phases at the top). */
export async function openStudy(s: RunSettings, out: string, opts: OpenOptions = {}): Promise<Study> {
  // 1. preset
  const { preset, conditions } = presetPhase(s);
  // 2. data
  const { data, demoData, instructions } = await dataPhase(s, preset, conditions);
  // 3. models
  const labels = modelLabels(s.models);
  const inspected: { config: DecoderConfig; longest: number }[] = [];
  for (const dir of s.models) {
    const m = await inspectModel(dir, s.methods.chatTemplate);
    resolveHiddenStates(s.layers, m.config.numLayers + 1);
    const { longest } = checkPromptLengths({ conditions, repeats: s.repeats, seed: s.seed, materials: { data, demoData, instructions }, methods: s.methods, evalExamples: s.evalExamples }, m.codec);
    inspected.push({ config: m.config, longest });
  }
  if (s.encoder) {
    checkInputDir(s.encoder, 'encoder folder');
    readSentenceModules(s.encoder);
  }
  // 4. compute
  const dev = resolveDevice(s.device);
  const dtype = s.dtype === 'auto' ? (nativeBf16(dev.device) ? 'bfloat16' : 'float32') : s.dtype;
  const batch = studyBatch(s.batch, dev.device, dtype, inspected);
  // 5. manifest
  const dataEntries: { role: string; path: string }[] = [];
  const addData = (role: string, path: string): void => {
    // A text pair named by its prefix (newstest2016 → .en + .cs) is fingerprinted file by file.
    const pair = existsSync(path) ? undefined : findTextPair(path);
    if (pair) dataEntries.push({ role: `${role}.en`, path: pair.en }, { role: `${role}.cs`, path: pair.cs });
    else dataEntries.push({ role, path });
  };
  addData('data', s.data!);
  if (demoData) addData('demo-data', s.demoData!);
  if (s.instructions) dataEntries.push({ role: 'instructions', path: s.instructions });
  if (preset.needs.includes('encoder')) dataEntries.push({ role: 'encoder', path: s.encoder! });
  const manifest = buildManifest({
    config: manifestConfig(s, preset, conditions, instructions, dtype),
    models: s.models.map((path, i) => ({ label: labels[i], path })),
    data: dataEntries,
    seed: s.seed,
    compute: { ...deviceInfo(dev.device), dtype, batch } as unknown as JsonValue,
  });
  // 6. folder
  const store = ResultsStore.open(out, { create: true });
  let begun: ReturnType<ResultsStore['beginRun']>;
  try {
    begun = store.beginRun(manifest, { force: opts.force });
  } catch (e) {
    store.close();
    throw e;
  }
  const models = s.models.map((dir, i) => ({ label: labels[i], dir }));
  const plan: Omit<StudyPlan, 'materials'> = {
    experiment: preset.name,
    conditions,
    repeats: s.repeats,
    seed: s.seed,
    layers: s.layers,
    tune: { lr: s.lr, lrSchedule: s.lrSchedule, weightDecay: s.weightDecay, ...s.lora },
    batch,
    methods: s.methods,
    evalExamples: s.evalExamples,
    configHash: manifest.configHash,
    save: { states: s.saveStates, adapters: s.saveAdapters },
  };

  async function run(ro: Parameters<Study['run']>[0] = {}): Promise<StudySummary> {
    const started = performance.now();
    let embedder: TextEmbedder | undefined;
    let encoder: SentenceEncoder | undefined;
    let computed = 0;
    let skipped = 0;
    try {
      // 7. load (the encoder once; each model in turn)
      if (preset.needs.includes('encoder')) {
        const enc = (encoder = await SentenceEncoder.load(s.encoder!, { device: dev.device }));
        const cache = EmbeddingCache.inResults(out);
        embedder = { fingerprint: enc.fingerprint, embed: (texts) => cache.embed(enc, texts) };
      }
      const full: StudyPlan = { ...plan, materials: { data, demoData, instructions, embedder, similarityCandidates: s.candidates } };
      for (const [i, m] of models.entries()) {
        const backend = await LlamaStudyBackend.load(m.dir, { dtype, device: dev.device, label: m.label, chat: s.methods.chatTemplate });
        try {
          // 8. run
          const sink = store.sink({
            withModel: models.length > 1,
            baseModel: (label) => models.find((x) => x.label === label)?.dir ?? null,
            onDamaged: (d) => opts.onNote?.(`${out}: row ${d.rowid} (${d.unit}) is damaged (${d.problem}); recomputing it`),
          });
          const summary = runPlan(full, backend, sink, { shard: ro.shard, onProgress: (e) => ro.onProgress?.(e, i) });
          computed += summary.computed;
          skipped += summary.skipped;
        } finally {
          backend.dispose();
        }
      }
    } finally {
      encoder?.dispose();
    }
    // 9. finish
    const wallSeconds = (performance.now() - started) / 1000;
    store.markFinished(wallSeconds);
    return { computed, skipped, wallSeconds };
  }

  return {
    dir: out,
    preset,
    manifest,
    action: begun.action,
    supersededTo: begun.supersededTo,
    models,
    compute: { device: dev.device, dtype, batch, note: dev.note },
    run,
    close: () => store.close(),
  };
}
