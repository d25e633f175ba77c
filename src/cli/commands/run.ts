// `iclit run`: one preset (or a YAML config) over one or more models, resumable, into a results folder.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { list, num, oneOf, str, type Command } from '../args.js';
import { applyThreads, progress } from '../common.js';
import { UsageError, IclitError } from '../../util/errors.js';
import { defaultInstructionPool, findTextPair, loadDataset, loadInstructionPool } from '../../data/index.js';
import type { Dataset } from '../../data/types.js';
import {
  LlamaStudyBackend, PRESET_NAMES, findPreset, loadSettingsFile, mergeSettings, parseLayerList, resolveConditions, runStudy,
  type PartialSettings, type ProgressEvent, type RunSettings, type SentenceEmbedder, type StudyPlan,
} from '../../experiments/index.js';
import { ResultsStore, buildManifest, sha256Hex, type JsonValue } from '../../results/index.js';
import { EmbeddingCache, SentenceEncoder } from '../../models/sentence-encoder.js';

function isConfigFile(arg: string): boolean {
  return /\.ya?ml$/i.test(arg) || (existsSync(arg) && statSync(arg).isFile());
}

/** The flags as settings (only those given). */
function flagSettings(flags: Record<string, unknown>): PartialSettings {
  const out: PartialSettings = {};
  const models = flags.model as string[] | undefined;
  if (models && models.length > 0) out.models = models;
  for (const [flag, key] of [['data', 'data'], ['demo-data', 'demoData'], ['encoder', 'encoder'], ['instructions', 'instructions']] as const) {
    const v = str(flags, flag);
    if (v !== undefined) out[key] = v;
  }
  const ints: [string, 'repeats' | 'shots' | 'epochs' | 'batch' | 'bins', number][] = [['repeats', 'repeats', 1], ['shots', 'shots', 1], ['epochs', 'epochs', 1], ['batch', 'batch', 1], ['bins', 'bins', 1]];
  for (const [flag, key, min] of ints) {
    const v = num(flags, flag, { integer: true, min });
    if (v !== undefined) out[key] = v;
  }
  const seed = num(flags, 'seed', { integer: true, min: 0 });
  if (seed !== undefined) out.seed = seed;
  const lr = num(flags, 'lr', { min: Number.MIN_VALUE });
  if (lr !== undefined) out.lr = lr;
  const dtype = oneOf(flags, 'dtype', ['float32', 'bfloat16'] as const);
  if (dtype) out.dtype = dtype;
  const layers = str(flags, 'layers');
  if (layers !== undefined) {
    try {
      out.layers = parseLayerList(layers, '--layers');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const targets = list(flags, 'lora-targets');
  if (targets) out.lora = { targets };
  return out;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One progress line: bar, counts, elapsed, ETA. */
export function progressLine(e: ProgressEvent, modelIndex: number, models: number): string {
  const width = 24;
  const frac = e.total === 0 ? 1 : e.done / e.total;
  const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
  const skipped = e.skipped > 0 ? ` (${e.skipped} already done)` : '';
  const which = models > 1 ? ` [model ${modelIndex + 1}/${models}]` : '';
  return `${e.model}${which} [${bar}] ${e.done}/${e.total} repeats${skipped}  elapsed ${duration(e.elapsedMs)}  ETA ${duration(e.etaMs)}`;
}

/** Model labels: folder names, made unique with a numeric suffix when two folders share a name. */
function modelLabels(dirs: string[]): string[] {
  const names = dirs.map((d) => basename(resolve(d)));
  return names.map((n, i) => (names.filter((m) => m === n).length > 1 ? `${n}-${i + 1}` : n));
}

/** The part of the settings that decides the records (hashed into the manifest); paths are fingerprinted apart. */
function manifestConfig(s: RunSettings, plan: Omit<StudyPlan, 'materials'>, instructions: readonly string[]): JsonValue {
  return {
    preset: s.preset,
    conditions: plan.conditions as unknown as JsonValue,
    layers: s.layers,
    dtype: s.dtype,
    lr: s.lr,
    weightDecay: s.weightDecay,
    lora: s.lora,
    batch: s.batch,
    bins: s.bins,
    candidates: s.candidates,
    instructionPool: sha256Hex(instructions.join('\n')),
  };
}

/** `--shard I/N` → {index, count}. */
function parseShard(spec: string | undefined): { index: number; count: number } | undefined {
  if (spec === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be I/N with 0 ≤ I < N, got '${spec}'`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

export const run: Command = {
  name: 'run',
  summary: 'run a study preset (or a YAML config) and store every repeat in a results folder (resumable)',
  usage:
    'run <preset|config.yaml> --model DIR [--model DIR2] --data PATH [--demo-data PATH] [--encoder DIR] [--instructions FILE] ' +
    '[--repeats 30] [--seed N] [--dtype float32|bfloat16] [--epochs N] [--shots K] [--shard I/N] [--force] --out RESULTS_DIR',
  flags: {
    model: { type: 'string', multiple: true, value: 'DIR', description: 'model folder (config.json, safetensors, tokenizer.json); repeat to compare models' },
    data: { type: 'string', value: 'PATH', description: 'data of the preset\'s task (SST-2 for sentiment presets, WMT16 EN–CS for translation)' },
    'demo-data': { type: 'string', value: 'PATH', description: 'EN→CS demonstrations (cross-task)' },
    encoder: { type: 'string', value: 'DIR', description: 'sentence-transformers folder (demo-similarity)' },
    instructions: { type: 'string', value: 'FILE', description: 'instruction pool, one per line (default: the built-in pool of the task)' },
    repeats: { type: 'string', value: 'N', description: 'seeded repeats (default 30)' },
    seed: { type: 'string', value: 'N', description: 'run seed (default 0)' },
    dtype: { type: 'string', value: 'float32|bfloat16', description: 'compute dtype (default float32)' },
    epochs: { type: 'string', value: 'N', description: 'LoRA epochs (default 10)' },
    shots: { type: 'string', value: 'K', description: 'demonstrations per repeat (default 5)' },
    layers: { type: 'string', value: 'all|0,4,8', description: 'hidden states to measure (default all)' },
    batch: { type: 'string', value: 'N', description: 'repeats tuned together as one batch of adapters (default 4)' },
    bins: { type: 'string', value: 'N', description: 'similarity bins (demo-similarity, default 10)' },
    lr: { type: 'string', value: 'LR', description: 'AdamW learning rate (default 1e-4)' },
    'lora-targets': { type: 'string', value: 'q_proj,v_proj', description: 'modules LoRA wraps' },
    threads: { type: 'string', value: 'N', description: 'CPU threads for libtorch (default: all cores)' },
    shard: { type: 'string', value: 'I/N', description: 'compute only worker I of N (0-based) of the repeats; combine the folders with iclit merge' },
    force: { type: 'boolean', description: 'replace a results folder\'s manifest when the setup differs (and recompute)' },
    out: { type: 'string', short: 'o', value: 'RESULTS_DIR', description: 'results folder (created; re-running resumes it)' },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UsageError(`expected one preset (${PRESET_NAMES.join(', ')}) or config.yaml, got ${positionals.length} arguments`);
    const target = positionals[0];
    const out = str(flags, 'out');
    if (!out) throw new UsageError('--out RESULTS_DIR is required');
    const fromFile = isConfigFile(target) ? loadSettingsFile(target) : { preset: target };
    if (isConfigFile(target) && !fromFile.preset) throw new IclitError(`${target}: key 'preset' is missing (one of ${PRESET_NAMES.join(', ')})`);
    const s = mergeSettings(fromFile, flagSettings(flags));
    const preset = findPreset(s.preset);
    if (!s.data) throw new UsageError(`--data is required (${preset.task} data for preset ${preset.name})`);
    if (preset.needs.includes('demoData') && !s.demoData) throw new UsageError(`preset ${preset.name} needs --demo-data (EN→CS translation pairs)`);
    if (preset.needs.includes('encoder') && !s.encoder) throw new UsageError(`preset ${preset.name} needs --encoder (a sentence-transformers folder)`);
    for (const m of s.models) if (!existsSync(m)) throw new IclitError(`model folder ${m} does not exist`);
    if (preset.allLayers && s.layers !== 'all') throw new UsageError(`preset ${preset.name} measures every layer; drop --layers (or the config's layers)`);
    const shard = parseShard(str(flags, 'shard'));
    const conditions = resolveConditions(preset, { shots: s.shots, epochs: s.epochs, bins: s.bins });

    const data = await loadDataset(s.data, preset.task);
    let demoData: Dataset | undefined;
    if (preset.needs.includes('demoData')) demoData = await loadDataset(s.demoData!, 'translation');
    const instructions = s.instructions ? loadInstructionPool(s.instructions) : defaultInstructionPool(preset.task);

    const base: Omit<StudyPlan, 'materials'> = {
      experiment: preset.name,
      conditions,
      repeats: s.repeats,
      seed: s.seed,
      layers: s.layers,
      tune: { lr: s.lr, weightDecay: s.weightDecay, ...s.lora },
      batch: s.batch,
    };
    const labels = modelLabels(s.models);
    const dataEntries: { role: string; path: string }[] = [];
    // A text pair named by its prefix (newstest2016 → .en + .cs) is fingerprinted file by file.
    const addData = (role: string, path: string): void => {
      const pair = existsSync(path) ? undefined : findTextPair(path);
      if (pair) dataEntries.push({ role: `${role}.en`, path: pair.en }, { role: `${role}.cs`, path: pair.cs });
      else dataEntries.push({ role, path });
    };
    addData('data', s.data);
    if (demoData) addData('demo-data', s.demoData!);
    if (s.instructions) dataEntries.push({ role: 'instructions', path: s.instructions });
    if (preset.needs.includes('encoder')) dataEntries.push({ role: 'encoder', path: s.encoder! });
    const manifest = buildManifest({
      config: manifestConfig(s, base, instructions),
      models: s.models.map((path, i) => ({ label: labels[i], path })),
      data: dataEntries,
      seed: s.seed,
    });

    applyThreads(flags);
    const store = ResultsStore.open(out, { create: true });
    const started = performance.now();
    let encoder: SentenceEncoder | undefined;
    try {
      const action = store.beginRun(manifest, { force: Boolean(flags.force) });
      if (action === 'replace') process.stderr.write(`iclit: --force: ${out} gets a new manifest; every unit is recomputed\n`);
      let embedder: SentenceEmbedder | undefined;
      if (preset.needs.includes('encoder')) {
        encoder = await SentenceEncoder.load(s.encoder!);
        const cache = EmbeddingCache.inResults(out);
        const enc = encoder;
        embedder = { embed: (texts) => cache.embed(enc, texts) };
      }
      const plan: StudyPlan = { ...base, materials: { data, demoData, instructions, embedder, similarityCandidates: s.candidates }, configHash: manifest.configHash };
      let computed = 0;
      let skipped = 0;
      for (const [i, dir] of s.models.entries()) {
        const backend = await LlamaStudyBackend.load(dir, { dtype: s.dtype, label: labels[i] });
        try {
          const summary = runStudy(plan, backend, store.sink(), {
            recompute: action === 'replace',
            shard,
            onProgress: (e) => progress(progressLine(e, i, s.models.length)),
          });
          computed += summary.computed;
          skipped += summary.skipped;
        } finally {
          backend.dispose();
        }
        if (process.stderr.isTTY) process.stderr.write('\n');
      }
      const wall = (performance.now() - started) / 1000;
      store.markFinished(wall);
      process.stderr.write(`${preset.name}: ${computed} repeat(s) computed, ${skipped} already done, ${s.models.length} model(s) → ${out} (${duration(wall * 1000)})\n`);
    } finally {
      encoder?.dispose();
      store.close();
    }
    return 0;
  },
};
