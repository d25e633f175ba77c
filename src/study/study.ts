// One study run end to end: settings checked before anything is written, the manifest that makes resume safe, then the runner per model.
/*
 * openStudy(settings) checks everything that can be checked, then opens the results folder. Each phase is one
 * function (src/study/phases.ts) of the settings and what the phases before it handed on:
 *
 *   1. preset    presetPhase(s)                 → { preset, conditions }: the paper's shots and epochs unless
 *                                                 overridden, the methods checked
 *   2. data      dataPhase(s, 1)                → { materials, drawn }: --data, --demo-data and the instruction pool
 *                                                 read; every repeat drawn once (drawRepeats: k, the evaluation set
 *                                                 and the templates checked against the rows)
 *   3. models    modelsPhase(s, 2)              → StudyModel[]: every model folder read once (config, checkpoint
 *                                                 headers, tokenizer; openModelFolder), the layers resolved, every
 *                                                 drawn prompt measured against the model's longest sequence
 *   4. compute   computePhase(s, 3)             → { device, dtype, batch }: --batch defaulted to what fits the
 *                                                 device's free memory for the run's own LoRA (studyBatch);
 *                                                 with opts.onEstimate, estimateFromPhases(s, 1, 2, 3, 4) too
 *                                                 (told after phase 6, so a refused start says only why)
 *   5. manifest  manifestPhase(s, 1, 2, 3, 4)   → Manifest: what decides the records, hashed; inputs fingerprinted
 *   6. folder    folderPhase(out, 5, force)     → { store, action }: the results folder created only now; new,
 *                                                 resume, refused, or --force (the earlier setup to superseded/)
 *
 * study.run() then computes, per model:
 *
 *   7. load      the model's weights from its folder of phase 3 (and the sentence encoder of demo-similarity,
 *                with its cache)                  → StudyBackend; with the untrained control, after the model's
 *                run, a randomly initialised copy of it (LlamaStudyBackend.untrained) for the control's conditions
 *   8. run       runPlan (src/experiments/runner.ts) over phase 2's drawn repeats into the folder's sink → records
 *   9. finish    the manifest marked finished with the wall time
 */
import { LlamaStudyBackend, runPlan, type Preset, type ProgressEvent, type StudyPlan, type TextEmbedder, type WorkEvent } from '../experiments/index.js';
import { deriveSeed } from '../data/index.js';
import { SentenceEncoder } from '../models/index.js';
import { EmbeddingCache, type Manifest, type ManifestAction } from '../results/index.js';
import { checkOutputApart } from '../util/fs.js';
import { recordHubs, resolveStudyRefs } from './hub-refs.js';
import { estimateFromPhases, type StudyEstimate } from './estimate.js';
import { computePhase, dataPhase, folderPhase, manifestPhase, modelsPhase, planOf, presetPhase, type ComputePhase, type StudyModel } from './phases.js';
import type { RunSettings } from './settings.js';

export { studyBatch, type StudyModel } from './phases.js';

export interface OpenOptions {
  /** Replace a results folder's setup (the earlier one is moved to superseded/). */
  force?: boolean;
  /** One line for the user (notes such as the device fallback); default: nothing. */
  onNote?: (line: string) => void;
  /** The worker's share of the repeats (`--shard I/N`): only these are drawn and measured before the run. */
  shard?: { index: number; count: number };
  /** Told the study's estimate (src/study/estimate.ts) after the checks and before anything is written; not computed without it. */
  onEstimate?: (e: StudyEstimate) => void;
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
  readonly models: { label: string; dir: string }[];
  /** Where it computes; `note` says why the device is not the one asked for (auto falling back to the CPU). */
  readonly compute: ComputePhase;
  run(opts?: { shard?: { index: number; count: number }; onProgress?: (e: ProgressEvent, model: number) => void; onWork?: (e: WorkEvent, model: number) => void }): Promise<StudySummary>;
  close(): void;
}

/** Checks the settings, builds the manifest and opens the results folder `out` (see the phases at the top). */
export async function openStudy(s: RunSettings, out: string, opts: OpenOptions = {}): Promise<Study> {
  // 1. preset
  const preset = presetPhase(s);
  // 2. data
  const data = await dataPhase(s, preset, opts.shard);
  // 3. models (a hub id resolves from the local Hugging Face cache; a folder that exists wins)
  const refs = resolveStudyRefs(s);
  s = refs.settings;
  const models = await modelsPhase(s, data, refs.names);
  const closeModels = (): void => models.forEach((m) => m.folder.close());
  let folder: ReturnType<typeof folderPhase>;
  let compute: ComputePhase;
  let manifest: Manifest;
  let estimate: StudyEstimate | undefined;
  try {
    // 4. compute (and, when asked, the estimate of the run from the same phases: nothing read or checked twice; it
    //    is told once the folder is open, so a refused start says only why)
    compute = computePhase(s, models);
    estimate = opts.onEstimate && estimateFromPhases(s, preset, data, models, compute, opts.shard);
    // 5. manifest
    manifest = recordHubs(manifestPhase(s, preset, data, models, compute), refs);
    // 6. folder (never on or inside an input: a model folder's fingerprint would change under its own results)
    checkOutputApart(out, 'results folder', [...manifest.models.map((m) => ({ path: m.path, what: 'model folder' })), ...manifest.data.map((d) => ({ path: d.path, what: d.role }))]);
    folder = folderPhase(out, manifest, opts.force);
  } catch (e) {
    closeModels();
    throw e;
  }
  if (estimate) opts.onEstimate?.(estimate);
  const plan = planOf(s, preset, data, compute.batch, manifest.configHash);
  const run = (ro: Parameters<Study['run']>[0] = {}): Promise<StudySummary> => runStudy({ s, out, opts, plan, materials: data.materials, models, compute, folder }, ro);
  return {
    dir: out,
    preset: preset.preset,
    manifest,
    action: folder.action,
    supersededTo: folder.supersededTo,
    models: models.map((m) => ({ label: m.label, dir: m.dir })),
    compute,
    run,
    close: () => {
      closeModels();
      folder.store.close();
    },
  };
}

/** Phases 7–9 over what openStudy handed on. */
async function runStudy(
  o: { s: RunSettings; out: string; opts: OpenOptions; plan: Omit<StudyPlan, 'materials'>; materials: StudyPlan['materials']; models: StudyModel[]; compute: ComputePhase; folder: ReturnType<typeof folderPhase> },
  ro: Parameters<Study['run']>[0] = {},
): Promise<StudySummary> {
  const { s, out, models, compute } = o;
  const store = o.folder.store;
  const started = performance.now();
  let embedder: TextEmbedder | undefined;
  let encoder: SentenceEncoder | undefined;
  let computed = 0;
  let skipped = 0;
  try {
    // 7. load (the encoder once; each model in turn)
    if (s.encoder && o.plan.conditions.some((c) => c.bin !== undefined)) {
      const enc = (encoder = await SentenceEncoder.load(s.encoder, { device: compute.device }));
      const cache = EmbeddingCache.inResults(out);
      embedder = { fingerprint: enc.fingerprint, embed: (texts) => cache.embed(enc, texts) };
    }
    const plan: StudyPlan = { ...o.plan, materials: { ...o.materials, embedder } };
    const untrained = plan.conditions.some((c) => c.weights === 'untrained');
    for (const [i, m] of models.entries()) {
      const sink = store.sink({
        withModel: models.length > 1,
        baseModel: (label) => models.find((x) => x.label === label)?.dir ?? null,
        onDamaged: (d) => o.opts.onNote?.(`${out}: row ${d.rowid} (${d.unit}) is damaged (${d.problem}); recomputing it`),
      });
      // the model's own weights, then (the untrained control) a random copy of it: one model in memory at a time
      const backends = [() => LlamaStudyBackend.fromFolder(m.folder, { dtype: compute.dtype, device: compute.device })];
      // a repeat computed on both (its own conditions, then the untrained control's) counts once
      const computedRepeats = new Set<number>();
      let visited = 0;
      if (untrained) backends.push(() => LlamaStudyBackend.untrained(m.folder, deriveSeed(s.seed, 'untrained-weights'), { dtype: compute.dtype, device: compute.device }));
      for (const make of backends) {
        const backend = make();
        if (ro.onWork) backend.onWork = (e) => ro.onWork!(e, i);
        try {
          // 8. run (records keep the model's label: the untrained control compares within its model)
          const what = backend.weights === 'untrained' ? ' (untrained control)' : '';
          const summary = runPlan(plan, backend, sink, { shard: ro.shard, onProgress: (e) => ro.onProgress?.({ ...e, model: e.model + what }, i) });
          for (const r of summary.computedRepeats) computedRepeats.add(r);
          visited = summary.computed + summary.skipped;
        } finally {
          backend.dispose();
        }
      }
      computed += computedRepeats.size;
      skipped += visited - computedRepeats.size;
    }
  } finally {
    encoder?.dispose();
  }
  // 9. finish
  const wallSeconds = (performance.now() - started) / 1000;
  store.markFinished(wallSeconds);
  return { computed, skipped, wallSeconds };
}
