// How much device memory the study needs for a model: weights plus, per repeat tuned together, adapters and activations.
import { decoderWeightShapes, type DecoderConfig } from '../io/index.js';
import { elementBytes } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import type { ComputeDType } from './llama.js';

const GiB = 2 ** 30;

/** What the estimate needs of the run's LoRA (src/lora's LoraConfig; models sits below lora, so only its shape). */
export type MemoryLora = { readonly r: number; readonly targets: readonly string[] };

export interface StudyMemory {
  /** Bytes of the weights in the compute dtype. */
  weights: number;
  /** Bytes per repeat (one adapter tuned, its activations kept for backward, its optimiser state). */
  perRepeat: number;
  /** Fixed overhead: CUDA context, allocator slack, workspaces. */
  overhead: number;
  /** weights + batch · perRepeat + overhead. */
  total: number;
}

/**
 * Estimated peak bytes of one study chunk: `batch` repeats, each tuning one adapter of `lora`, tuned together on sequences of up to `tokens` tokens
 * (the longest tuning text or prompt). Counted per token and layer, in the compute dtype unless noted: the norms'
 * inputs and outputs (4C, with the float32 copies of RMSNorm), q/k/v/o inputs and outputs (2C + 2·H·D + 2·KV·D),
 * the MLP's gate, up, SiLU and product (4I), attention scores and probabilities (2·H·T, float32 and the dtype),
 * and each LoRA module's float32 input, dropout mask and dropped input (3·in); then the float32 logits, their
 * log-softmax and gradient at every token (3V), the adapter's parameters, gradients, AdamW moments and update
 * temporaries (6 × 4 bytes each). An upper bound by design: libtorch frees some of these before backward.
 */
export function studyMemory(config: DecoderConfig, dtype: ComputeDType, lora: MemoryLora, batch: number, tokens: number): StudyMemory {
  if (!Number.isInteger(batch) || batch < 1) throw new IclitError(`batch must be a positive integer, got ${batch}`);
  if (!Number.isInteger(tokens) || tokens < 1) throw new IclitError(`tokens must be a positive integer, got ${tokens}`);
  const c = config;
  const e = elementBytes(dtype);
  let weights = 0;
  for (const shape of decoderWeightShapes(c).values()) weights += shape.reduce((a, b) => a * b, 1) * e;
  const C = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const modules: { in: number; out: number }[] = [];
  const sizes: Record<string, { in: number; out: number }> = {
    q_proj: { in: C, out: q }, k_proj: { in: C, out: kv }, v_proj: { in: C, out: kv }, o_proj: { in: q, out: C },
    gate_proj: { in: C, out: I }, up_proj: { in: C, out: I }, down_proj: { in: I, out: C },
  };
  for (const t of lora.targets) if (sizes[t]) modules.push(sizes[t]);
  const perTokenLayer =
    e * (4 * C + 2 * C + 2 * q + 2 * kv + 4 * I) + 4 * 2 * C + (4 + e) * c.numHeads * tokens + modules.reduce((s, m) => s + 4 * 3 * m.in, 0);
  const activations = tokens * (c.numLayers * perTokenLayer + 3 * 4 * c.vocabSize);
  const adapter = c.numLayers * modules.reduce((s, m) => s + lora.r * (m.in + m.out), 0) * 4 * 6;
  const perRepeat = activations + adapter;
  const overhead = 0.5 * GiB + 0.05 * weights;
  return { weights, perRepeat, overhead, total: weights + batch * perRepeat + overhead };
}

/** Estimated peak bytes of a study chunk of `batch` repeats on sequences of up to `tokens` tokens (see studyMemory). */
export function estimateStudyMemory(config: DecoderConfig, dtype: ComputeDType, lora: MemoryLora, batch: number, tokens: number): number {
  return studyMemory(config, dtype, lora, batch, tokens).total;
}

/**
 * The most repeats a default device batch holds however much memory is free: a chunk's repeats are saved only when
 * the chunk ends, so this bounds the work a killed run loses. A chosen bound, not a measured optimum (no GPU
 * throughput has been measured for it; BENCHMARKS.md).
 */
export const MAX_DEVICE_BATCH = 64;

const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/**
 * The largest --batch (at most `max`) whose estimate fits in `available` bytes (90% of it, for fragmentation);
 * an IclitError naming --batch when not even one repeat fits.
 */
export function defaultStudyBatch(config: DecoderConfig, dtype: ComputeDType, lora: MemoryLora, tokens: number, available: number, max = MAX_DEVICE_BATCH, device = 'the device'): number {
  const m = studyMemory(config, dtype, lora, 1, tokens);
  const room = 0.9 * available - m.weights - m.overhead;
  const fit = Math.min(max, Math.floor(room / m.perRepeat));
  if (fit < 1) {
    throw new IclitError(`the study needs about ${gib(m.total)} on ${device} at --batch 1 (${gib(m.weights)} of weights, ${gib(m.perRepeat)} per repeat of ${tokens} tokens) but only ${gib(available)} is available`);
  }
  return fit;
}

/** Throws an IclitError naming --batch when `batch` repeats of `tokens` tokens do not fit in `available` bytes. */
export function checkStudyBatch(config: DecoderConfig, dtype: ComputeDType, lora: MemoryLora, batch: number, tokens: number, available: number, device = 'the device'): void {
  const m = studyMemory(config, dtype, lora, batch, tokens);
  if (m.total <= available) return;
  const room = 0.9 * available - m.weights - m.overhead;
  const fit = Math.floor(room / m.perRepeat);
  const advice = fit >= 1 ? `use --batch ${fit} or less` : 'not even --batch 1 fits: use a larger device or --dtype bfloat16';
  throw new IclitError(`--batch ${batch} needs about ${gib(m.total)} on ${device} (${gib(m.weights)} of weights + ${gib(m.perRepeat)} per repeat of ${tokens} tokens), ${gib(available)} available: ${advice}`);
}
