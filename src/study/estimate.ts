// Before a study runs: its passes counted from the drawn prompts, their FLOPs, the time they take on this device (calibrated) and the peak memory.
import { planWorkByWeights, type ProgressEvent } from '../experiments/index.js';
import type { DecoderConfig } from '../io/index.js';
import { studyMemory, type ComputeDType, type FlopsLora, type Pass } from '../models/index.js';
import { resolveStudyRefs } from './hub-refs.js';
import { computePhase, dataPhase, modelsPhase, planOf, presetPhase, type ComputePhase, type DataPhase, type PresetPhase, type StudyModel } from './phases.js';
import { calibrate, workCost, type CostModel } from './cost.js';
import { formatDuration } from './progress-line.js';
import type { RunSettings } from './settings.js';

export interface ModelEstimate {
  dir: string;
  config: DecoderConfig;
  /** Every pass of the run on this model, in the runner's order. */
  passes: Pass[];
  flops: number;
  seconds: number;
  /** The part of `seconds` the untrained control's run on the model's untrained copy takes (absent or 0 without it). */
  untrainedSeconds?: number;
  /** Estimated peak bytes (src/models/study-memory.ts at the run's batch and longest prompt). */
  memory: number;
  cost: CostModel;
}

export interface StudyEstimate {
  preset: string;
  repeats: number;
  conditions: number;
  device: string;
  dtype: ComputeDType;
  batch: number;
  lora: FlopsLora;
  models: ModelEstimate[];
  flops: number;
  seconds: number;
  /** The largest model's peak. */
  memory: number;
}

/** The typical training step (or read, without training) of a work list: its sequences and mean length, for the calibration. */
function typicalPass(passes: readonly Pass[]): { sequences: number; length: number } {
  const steps = passes.filter((p) => p.kind === 'step');
  const pick = steps.length > 0 ? steps : passes;
  if (pick.length === 0) return { sequences: 1, length: 32 };
  const sizes = pick.map((p) => p.lengths.length).sort((a, b) => a - b);
  const tokens = pick.reduce((a, p) => a + p.lengths.reduce((x, y) => x + y, 0), 0);
  const seqs = pick.reduce((a, p) => a + p.lengths.length, 0);
  return { sequences: sizes[Math.floor(sizes.length / 2)], length: Math.round(tokens / seqs) };
}

/**
 * Runs a study's checks (phases 1–4 of openStudy: preset, data, models, compute; nothing is written) and estimates
 * it (estimateFromPhases). `iclit run` gets the same estimate from openStudy's own phases (OpenOptions.onEstimate).
 */
export async function estimateStudy(s: RunSettings, opts: { shard?: { index: number; count: number } } = {}): Promise<StudyEstimate> {
  const preset = presetPhase(s);
  const data = await dataPhase(s, preset, opts.shard);
  const refs = resolveStudyRefs(s); // hub ids resolved as openStudy resolves them
  s = refs.settings;
  const models = await modelsPhase(s, data, refs.names);
  try {
    return estimateFromPhases(s, preset, data, models, computePhase(s, models), opts.shard);
  } finally {
    for (const m of models) m.folder.close();
  }
}

/**
 * Counts every pass the runner will run on each model from the drawn prompts (src/experiments/work.ts), calibrates
 * this device on one block of each model's shapes (src/study/cost.ts), and adds up FLOPs, seconds and memory.
 */
export function estimateFromPhases(
  s: RunSettings,
  preset: PresetPhase,
  data: DataPhase,
  models: readonly StudyModel[],
  compute: ComputePhase,
  shard?: { index: number; count: number },
): StudyEstimate {
  const plan = { ...planOf(s, preset, data, compute.batch, ''), materials: data.materials };
  const lora = { r: s.lora.r, targets: s.lora.targets };
  const calibrated = new Map<string, CostModel>();
  const estimates: ModelEstimate[] = models.map((m) => {
    const config = m.folder.config;
    const work = planWorkByWeights(plan, { encode: m.folder.encode, numLayers: config.numLayers, vocabSize: config.vocabSize, maxPositions: config.maxPositionEmbeddings, chat: m.folder.chat }, { shard });
    const passes = [...work.trained, ...work.untrained];
    const shape = JSON.stringify(config);
    const cost = calibrated.get(shape) ?? calibrate(config, compute.dtype, compute.device, { ...s.lora }, typicalPass(passes));
    calibrated.set(shape, cost);
    const { flops, seconds } = workCost(config, passes, cost, lora);
    const untrainedSeconds = work.untrained.length > 0 ? workCost(config, work.untrained, cost, lora).seconds : 0;
    const memory = studyMemory(config, compute.dtype, s.lora, compute.batch, m.longest).total;
    return { dir: m.dir, config, passes, flops, seconds, untrainedSeconds, memory, cost };
  });
  return {
    preset: preset.preset.name,
    repeats: s.repeats,
    conditions: preset.conditions.length,
    device: compute.device,
    dtype: compute.dtype,
    batch: compute.batch,
    lora,
    models: estimates,
    flops: estimates.reduce((a, m) => a + m.flops, 0),
    seconds: estimates.reduce((a, m) => a + m.seconds, 0),
    memory: Math.max(...estimates.map((m) => m.memory)),
  };
}

const tflop = (f: number): string => (f >= 1e12 ? `${(f / 1e12).toFixed(2)} TFLOP` : `${(f / 1e9).toFixed(1)} GFLOP`);
const gflops = (r: number): string => `${(r / 1e9).toFixed(r < 1e10 ? 1 : 0)} GFLOP/s`;

/** The one line `iclit run` prints before any work. */
export function estimateLine(e: StudyEstimate): string {
  const passes = e.models.flatMap((m) => m.passes);
  const steps = passes.filter((p) => p.kind === 'step').length;
  const c = e.models[0].cost;
  const cal = e.models.reduce((a, m, i) => a + (e.models.findIndex((x) => x.cost === m.cost) === i ? m.cost.seconds : 0), 0);
  return (
    `estimate: ${e.repeats} repeat(s) × ${e.conditions} condition(s) of ${e.preset} on ${e.models.length} model(s): ` +
    `${tflop(e.flops)} (${passes.length - steps} forward reads, ${steps} training steps), ` +
    `≈ ${formatDuration(e.seconds * 1000)} on ${e.device} in ${e.dtype} at batch ${e.batch} ` +
    `(calibrated in ${cal.toFixed(1)} s: block forward ${gflops(c.forward.rate)}, training step ${gflops(c.step.rate)}, GEMM ${gflops(c.head)} at the model's shapes; model loading not counted), ` +
    `peak memory ≈ ${(e.memory / 2 ** 30).toFixed(1)} GiB`
  );
}

/** The fraction of a model's estimated work a run still has to do after `start` (its first progress event): resumed or sharded runs skip some. */
export function remainingShare(start: ProgressEvent): number {
  const all = start.total + start.skipped;
  return all === 0 ? 0 : start.total / all;
}
