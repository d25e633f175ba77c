// The study estimate against the measured study loop on the 135M shape: `npm run bench estimate` (float32 and bfloat16, ICLIT_BENCH_ESTIMATE_REPEATS repeats).
import { rmSync } from 'node:fs';
import { STUDY_DEFAULTS } from '../src/experiments/index.js';
import type { DecoderConfig } from '../src/io/index.js';
import type { ComputeDType, Pass } from '../src/models/index.js';
import { calibrate, workCost } from '../src/study/index.js';
import { SMOLLM2_135M, prepareSmolLM2 } from './forward.js';
import { studyChild } from './study.js';
import { STUDY_EPOCHS, STUDY_LORA } from './study-loop.js';
import { convergenceWorkload, workloadFile, type Workload } from './workload.js';
import type { BenchResult } from './types.js';

const REPEATS = Number(process.env.ICLIT_BENCH_ESTIMATE_REPEATS ?? 16);
const BATCH = Number(process.env.ICLIT_BENCH_STUDY_BATCH ?? STUDY_DEFAULTS.batch);

/**
 * The passes of bench/study-loop.ts's runStudyLoop (the runner's convergence chunk): per chunk the anchors and the
 * ICL prompts read at every layer, `epochs` training steps on one text per adapter, the anchors read through the
 * adapters.
 */
export function loopPasses(w: Workload, repeats: number, batch: number, config: DecoderConfig, epochs = STUDY_EPOCHS): Pass[] {
  const passes: Pass[] = [];
  const reps = w.repeats.slice(0, repeats);
  const read = (lengths: number[], lora: boolean): Pass => ({ kind: 'read', lengths, blocks: config.numLayers, logitRows: 0, lora });
  for (let i = 0; i < reps.length; i += batch) {
    const chunk = reps.slice(i, i + batch);
    passes.push(read(chunk.map((r) => r.anchor.length), false), read(chunk.map((r) => r.icl.length), false));
    for (let e = 0; e < epochs; e++) passes.push({ kind: 'step', lengths: chunk.map((r) => r.tuning.length), logitRows: chunk.reduce((a, r) => a + r.tuning.length - 1, 0) });
    passes.push(read(chunk.map((r) => r.anchor.length), true));
  }
  return passes;
}

/** The estimate of the study loop over `repeats` of `w` on `config`, calibrated now in this process. */
export function estimateLoop(w: Workload, repeats: number, batch: number, config: DecoderConfig, dtype: ComputeDType): { seconds: number; flops: number; calibration: number } {
  const passes = loopPasses(w, repeats, batch, config);
  const steps = passes.filter((p) => p.kind === 'step');
  const mean = steps.reduce((a, p) => a + p.lengths.reduce((x, y) => x + y, 0), 0) / steps.reduce((a, p) => a + p.lengths.length, 0);
  const cost = calibrate(config, dtype, 'cpu', STUDY_LORA, { sequences: Math.min(batch, repeats), length: Math.round(mean) });
  const { seconds, flops } = workCost(config, passes, cost, STUDY_LORA);
  process.stderr.write(
    `bench: calibration (${cost.seconds.toFixed(2)} s, ${dtype}): block forward ${(cost.forward.rate / 1e9).toFixed(1)} GFLOP/s + ${(cost.forward.overhead * 1e3).toFixed(2)} ms, ` +
      `training step ${(cost.step.rate / 1e9).toFixed(1)} GFLOP/s + ${(cost.step.overhead * 1e3).toFixed(2)} ms per block, head GEMM ${(cost.head / 1e9).toFixed(1)} GFLOP/s\n`,
  );
  return { seconds, flops, calibration: cost.seconds };
}

export async function benchEstimate(): Promise<BenchResult[]> {
  const { dir } = prepareSmolLM2('estimate');
  const w = await convergenceWorkload(REPEATS, SMOLLM2_135M.vocabSize, 0);
  const file = workloadFile(w);
  const workload = file.path;
  const rows: BenchResult[] = [];
  try {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const est = estimateLoop(w, REPEATS, BATCH, SMOLLM2_135M, dtype);
      const ours = studyChild(dir, workload, dtype, REPEATS, BATCH);
      const ratio = est.seconds / ours.seconds;
      process.stderr.write(`bench: study loop ${dtype}, ${REPEATS} repeats at batch ${BATCH}: estimate ${est.seconds.toFixed(1)} s (${(est.flops / 1e12).toFixed(2)} TFLOP), measured ${ours.seconds.toFixed(1)} s: ${ratio.toFixed(2)}× (bar 0.7–1.3)\n`);
      rows.push({ name: `study estimate / measured wall, ${dtype}, 135M, ${REPEATS} repeats, batch ${BATCH} (bar 0.7–1.3; estimate ${est.seconds.toFixed(1)} s, measured ${ours.seconds.toFixed(1)} s)`, unit: 'ratio', iclit: ratio });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    file.dispose();
  }
  return rows;
}
