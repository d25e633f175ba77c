// What a pass costs on this device: a calibration of one decoder block of the model's own shapes and dtype, fitted as seconds = overhead + FLOPs / rate.
import { LlamaModel, blockFlops, headFlops, passFlops, type ComputeDType, type FlopsLora, type Pass } from '../models/index.js';
import type { DecoderConfig } from '../io/index.js';
import { applyLora, type LoraConfig } from '../lora/index.js';
import { trainLora } from '../train/index.js';
import { full, linear, randn, releaseCachedMemory, synchronize, tidy, tidyNoGrad, type Tensor } from '../torch/index.js';
import { median } from '../stats/index.js';

/** Seconds of a piece of work: a fixed part (per-op overhead, small elementwise ops) plus FLOPs at a marginal rate. */
export interface Rate {
  overhead: number;
  /** FLOP/s. */
  rate: number;
}

/**
 * A device's cost of the study's passes, per decoder block: `forward` one block's forward (read or training),
 * `step` one block's share of a training step (forward, backward, AdamW); `head` the LM head's GEMM rate.
 */
export interface CostModel {
  forward: Rate;
  step: Rate;
  /** FLOP/s of the LM head's GEMM (and of the plain GEMMs at the model's shapes, reported). */
  head: number;
  /** Seconds the calibration took. */
  seconds: number;
}

/** Seconds of one block's forward over `lengths`. */
export function blockForwardSeconds(c: DecoderConfig, cost: CostModel, lengths: readonly number[], lora?: FlopsLora): number {
  const b = blockFlops(c, lengths, lora);
  return cost.forward.overhead + (b.linear + b.attention + b.lora) / cost.forward.rate;
}

/** Seconds of one block's share of a training step over `lengths` (its forward included). */
export function blockStepSeconds(c: DecoderConfig, cost: CostModel, lengths: readonly number[], lora: FlopsLora): number {
  const b = blockFlops(c, lengths, lora);
  return cost.step.overhead + (2 * b.linear + 3 * b.attention + 3 * b.lora) / cost.step.rate;
}

/** Estimated seconds of a pass on the device `cost` was calibrated on. */
export function passSeconds(c: DecoderConfig, pass: Pass, cost: CostModel, lora: FlopsLora): number {
  if (pass.kind === 'read') return pass.blocks * blockForwardSeconds(c, cost, pass.lengths, pass.lora ? lora : undefined) + headFlops(c, pass.logitRows) / cost.head;
  return c.numLayers * blockStepSeconds(c, cost, pass.lengths, lora) + (2 * headFlops(c, pass.logitRows)) / cost.head;
}

/** FLOPs and estimated seconds of a list of passes. */
export function workCost(c: DecoderConfig, passes: readonly Pass[], cost: CostModel, lora: FlopsLora): { flops: number; seconds: number } {
  let flops = 0;
  let seconds = 0;
  for (const p of passes) {
    flops += passFlops(c, p, lora);
    seconds += passSeconds(c, p, cost, lora);
  }
  return { flops, seconds };
}

/**
 * The rate and overhead through two timed points (FLOPs, seconds). When timing noise makes the line meaningless (a
 * slope ≤ 0, a negative intercept or time, a marginal rate over 3× the larger point's mean rate, or over `most`: the
 * two points then differ by the noise more than by the work), the larger point's mean rate with no overhead, from
 * `fallback` (the block's own time there, without what a pass costs once: the calibration model's loss and optimiser
 * weigh on its one block as they do not on a deep model's).
 */
export function fit(small: [number, number], large: [number, number], fallback: [number, number], most = Infinity): Rate {
  const slope = (large[1] - small[1]) / (large[0] - small[0]);
  const overhead = small[1] - small[0] * slope;
  const mean = fallback[0] / fallback[1];
  if (!(slope > 0) || !Number.isFinite(slope) || !(overhead >= 0) || !(small[1] > 0) || 1 / slope > 3 * mean || 1 / slope > most) return { overhead: 0, rate: mean };
  return { overhead, rate: 1 / slope };
}

/** The median of `times` runs of fn, in seconds (medians, not minima: what a long run sharing the machine as now sees, not its luckiest moment). */
function seconds(fn: () => void, times = 1): number {
  const all: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    fn();
    synchronize();
    all.push((performance.now() - t0) / 1000);
  }
  return all.sort((a, b) => a - b)[Math.floor(times / 2)];
}

/** Timed runs per calibration point (the median counts), the points taken in turn round after round. */
const TIMES = 5;
/**
 * How far a block's marginal rate may exceed the LM head's GEMM rate before it counts as noise: the marginal cost of
 * a block is its GEMMs, which run no faster than one large GEMM of the same width (a fit at 262 GFLOP/s beside a
 * 139 GFLOP/s head was seen on a 2-core CPU whose GEMMs peak near 175).
 */
const MARGINAL_OVER_GEMM = 1.25;
/** Seconds of a warm-up block forward past which a block is timed once per point (see calibrate). */
const SLOW = 0.25;

/** The vocabulary of the one-block calibration model: its LM head is timed apart, at the real width. */
const CALIBRATION_VOCAB = 256;
/** The most FLOPs of one block's forward the calibration runs at its larger point (≈ 0.1–0.3 s on a 2-core CPU). */
const CALIBRATION_FLOPS = 60e9;

/**
 * Times one decoder block of `config`'s shapes in `dtype` on `device` — its forward and a LoRA training step of
 * `sequences` sequences of `length` tokens (the workload's typical pass, cut down to CALIBRATION_FLOPS), and a
 * quarter of that — and the LM head's GEMM. What a pass costs once whatever its depth (embedding, the loss, the
 * calibration model's tiny head) is taken out by timing the small point with one and with two blocks. Each point
 * is the median of TIMES runs, the points interleaved round by round so that a slow moment of a shared machine falls
 * on all of them alike, after a warm-up. A block whose warm-up forward takes over SLOW seconds (a 7B block on
 * a CPU) is timed once per point and without the two-block point: its once-per-pass part is negligible beside it.
 * Weights are constants (speed does not depend on the values). About a second on the 135M shape on a 2-core CPU;
 * several seconds at 7B there (6.0 s measured on a shared machine; 16.8 s before the SLOW rule): one bfloat16 7B
 * block's forward alone takes about half a second on 2 cores.
 */
export function calibrate(config: DecoderConfig, dtype: ComputeDType, device: string, lora: LoraConfig, typical: { sequences: number; length: number }): CostModel {
  const t0 = performance.now();
  const shape = (layers: number): DecoderConfig => ({ ...config, numLayers: layers, vocabSize: CALIBRATION_VOCAB, tieWordEmbeddings: true });
  const c = shape(1);
  const length = Math.max(2, Math.min(typical.length, config.maxPositionEmbeddings));
  const perSequence = blockFlops(c, [length]);
  const fitting = Math.max(1, Math.floor(CALIBRATION_FLOPS / (perSequence.linear + perSequence.attention)));
  const large = Math.max(2, Math.min(typical.sequences, fitting));
  const small = Math.max(1, Math.floor(large / 4));
  // each weight made in its own scope: randn's float32 draw and its scaled copy are freed, only the weight is kept
  const weight = (name: string, sh: number[]): Tensor =>
    tidy(() => (name.includes('norm') ? full(sh, 1, dtype, device) : name.includes('embed') ? randn(sh, 'float32', device).mul(0.02).to(dtype) : full(sh, 0.02, dtype, device)));
  const build = (layers: number): LlamaModel => new LlamaModel(shape(layers), weight, dtype, device);
  const one = build(1);
  let two: LlamaModel | undefined;
  const fl = { r: lora.r, targets: lora.targets };
  try {
    const ids = (n: number): number[][] => Array.from({ length: n }, (_, s) => Array.from({ length }, (_, t) => 1 + ((s * 31 + t * 7) % (CALIBRATION_VOCAB - 1))));
    const forward = (model: LlamaModel, n: number): number => seconds(() => tidyNoGrad(() => void model.forward(ids(n), { hiddenStates: [model.config.numLayers] })));
    const step = (model: LlamaModel, n: number): number =>
      seconds(() => {
        const adapters = applyLora(model, lora, { adapters: n });
        try {
          trainLora(model, adapters, ids(n).map((x) => [{ ids: x }]), { epochs: 1, lr: 1e-4 });
        } finally {
          adapters.dispose();
        }
      });
    const slow = forward(one, small) > SLOW;
    const rounds = slow ? 1 : TIMES;
    if (!slow) step(one, small); // a slow block's first step costs more than a warm-up gains
    const lens = (n: number): number[] => new Array<number>(n).fill(length);
    const fwdFlops = (n: number): number => {
      const b = blockFlops(c, lens(n));
      return b.linear + b.attention;
    };
    const stepFlops = (n: number): number => {
      const b = blockFlops(c, lens(n), fl);
      return 2 * b.linear + 3 * b.attention + 3 * b.lora;
    };
    const head = headRate(config, dtype, device, large * length);
    /** Per-block points from one-block times at both sizes and (unless slow) a two-block time at the small one, medians of rounds. */
    const perBlock = (time: (model: LlamaModel, n: number) => number, flops: (n: number) => number): Rate => {
      const points: number[][] = [[], [], []];
      for (let r = 0; r < rounds; r++) {
        points[0].push(time(one, small));
        points[1].push(slow ? 2 * points[0][r] : time((two ??= build(2)), small));
        points[2].push(time(one, large));
      }
      const [oneSmall, twoSmall, oneLarge] = points.map((p) => median(p));
      const once = Math.min(Math.max(0, 2 * oneSmall - twoSmall), 0.5 * oneSmall);
      return fit([flops(small), oneSmall - once], [flops(large), oneLarge - once], [flops(large), oneLarge - once], MARGINAL_OVER_GEMM * head);
    };
    const fwd = perBlock(forward, fwdFlops);
    const stp = perBlock(step, stepFlops);
    return { forward: fwd, step: stp, head, seconds: (performance.now() - t0) / 1000 };
  } finally {
    one.dispose();
    two?.dispose();
    releaseCachedMemory();
  }
}

/** FLOP/s of the LM head's GEMM [rows, C]·[C, V′] in `dtype`, V′ the vocabulary cut to at most 8192 columns (one warm-up, one timed). */
function headRate(config: DecoderConfig, dtype: ComputeDType, device: string, rows: number): number {
  const V = Math.min(config.vocabSize, 8192);
  return tidy(() => {
    const x: Tensor = full([rows, config.hiddenSize], 0.5, dtype, device);
    const w: Tensor = full([V, config.hiddenSize], 0.02, dtype, device);
    tidy(() => void linear(x, w).to('float32'));
    const s = seconds(() => tidy(() => void linear(x, w).to('float32')), TIMES);
    return (2 * rows * config.hiddenSize * V) / s;
  });
}
