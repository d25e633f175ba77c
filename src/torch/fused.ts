// Composite ops that run in one native call each: RMSNorm, RoPE, SwiGLU, attention over packed sequences, segment LoRA, dropout masks, the LoRA update, AdamW.
import { binding, type NativeTensor } from './native.js';
import { call, handle, wrap, type Tensor } from './tensor.js';
import type { Device } from './ops.js';

/** LlamaRMSNorm: x normalised in float32, cast back to x's dtype, times `weight`. x [..., C], weight [C]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  return call('rmsNorm', handle(x), handle(weight), eps);
}

/** Rotary embedding: x·cos + rotate_half(x)·sin, rotate_half(x) = [−x2, x1]; cos and sin broadcast against x. */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return call('rope', handle(x), handle(cos), handle(sin));
}

/** SwiGLU's gate: silu(gate) ⊙ up, gate and up of one shape (CPU bfloat16: one float32 pass each way; elsewhere libtorch's silu and mul). */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  return call('swiglu', handle(gate), handle(up));
}

/**
 * Causal self-attention over sequences packed back to back: q [N, H, D], k and v [N, KV, D], N = Σ lengths →
 * [N, H·D]. Each sequence attends within itself (keys s ≤ t, and t − s < window when a window is given); grouped
 * key/value heads are shared by reshaping, softmax runs in float32. Scores are scaled by `scale`.
 */
export function packedAttention(q: Tensor, k: Tensor, v: Tensor, lengths: readonly number[], scale: number, window: number | null): Tensor {
  return call('packedAttention', handle(q), handle(k), handle(v), [...lengths], scale, window ?? 0);
}

/** LoRA update of row segments: h [N, in], A [G, r, in], B [G, out, r]; segment g (sizes[g] rows) uses adapter g → [N, out]. */
export function segmentLora(h: Tensor, A: Tensor, B: Tensor, sizes: readonly number[]): Tensor {
  return call('segmentLora', handle(h), handle(A), handle(B), [...sizes]);
}

/**
 * Inverted-dropout mask [Σ lengths, width] (float32; entries 0 or 1/(1−p)) on `device`: the rows of sequence i come
 * from its 32-bit seed seeds[i] only — entry j of its [lengths[i], width] block is kept when
 * mix32(mix32(j + a) ^ b) ≥ round(p·2³²), a = mix32(seed), b = mix32(seed ^ 0x5bd1e995) — so every device draws the
 * same mask. `tensorOps` computes a CPU mask through the formula the other devices use (for the test that both agree).
 */
export function dropoutMask(seeds: readonly number[], lengths: readonly number[], width: number, p: number, device?: Device, tensorOps = false): Tensor {
  return call('dropoutMask', [...seeds], [...lengths], width, p, device, tensorOps);
}

/**
 * Routes CPU bfloat16 GEMMs through float32 (exact widening, float32 accumulation, one rounding to bfloat16) — for
 * CPUs without native bfloat16, where libtorch's own bfloat16 GEMM is a scalar loop. See nativeBf16().
 */
export function setWidenedBf16(on: boolean): void {
  binding().setEmulateBf16(on);
}

export function widenedBf16(): boolean {
  return binding().emulateBf16();
}

/**
 * In float32 on the CPU, packed attention and the LoRA update call BLAS directly (GEMMs on strided views of their
 * tensors, the softmax as loops; when OpenBLAS is loaded), AdamW runs as one loop per parameter, and RMSNorm and RoPE
 * as row loops. CPU bfloat16 takes the same attention, RMSNorm and RoPE kernels, and a SwiGLU loop, on exactly widened
 * rows, each result rounded to bfloat16 once. Switched off, they run as libtorch ops like every other device. Both
 * compute the same definitions; tests compare them.
 */
export function setDirectKernels(on: boolean): void {
  binding().setDirectKernels(on);
}

/** Whether this build has the direct-BLAS kernels (OpenBLAS loaded). */
export function directBlasAvailable(): boolean {
  return binding().directBlas();
}

/**
 * y + scaling · (x ⊙ mask) A_aᵀ B_aᵀ as one native autograd node: y [..., out] a base layer's output for input
 * x [..., in], A [G, r, in], B [G, out, r]; the flattened rows of x split into segments, segment i (sizes[i] rows)
 * through adapter adapters[i]. The update runs in A's dtype, the sum is cast back to y's. With p > 0 the rows are
 * multiplied by dropoutMask(maskSeeds, maskLengths, in, p) first (the same mask dropoutMask returns).
 */
export function loraAdd(
  y: Tensor,
  x: Tensor,
  A: Tensor,
  B: Tensor,
  segments: { adapters: readonly number[]; sizes: readonly number[] },
  scaling: number,
  dropout?: { seeds: readonly number[]; lengths: readonly number[]; p: number },
): Tensor {
  const d = dropout && dropout.p > 0 ? dropout : { seeds: [], lengths: [], p: 0 };
  return call('loraAdd', handle(y), handle(x), handle(A), handle(B), [...segments.adapters], [...segments.sizes], scaling, [...d.seeds], [...d.lengths], d.p);
}

/**
 * One AdamW step over parameter i of the lists in one native call (float32 ops, torch.optim.AdamW's order), new
 * tensors: `scalars` = [1 − lr·wd, β1, 1 − β1, β2, 1 − β2, √(1 − β2^t), eps, lr / (1 − β1^t)].
 */
export function adamwStep(params: readonly Tensor[], grads: readonly Tensor[], expAvg: readonly Tensor[], expAvgSq: readonly Tensor[], scalars: readonly number[]): { params: Tensor[]; expAvg: Tensor[]; expAvgSq: Tensor[] } {
  const out = (binding().adamw as (...a: unknown[]) => NativeTensor[])(params.map(handle), grads.map(handle), expAvg.map(handle), expAvgSq.map(handle), [...scalars]).map(wrap);
  const n = params.length;
  return { params: out.slice(0, n), expAvg: out.slice(n, 2 * n), expAvgSq: out.slice(2 * n) };
}

/** The gradients of leaf tensors (null where none), in one native call. */
export function leafGrads(leaves: readonly Tensor[]): (Tensor | null)[] {
  return (binding().grads as (l: NativeTensor[]) => (NativeTensor | null)[])(leaves.map(handle)).map((g) => (g ? wrap(g) : null));
}

/** Copies values[i] into leaves[i] outside autograd and drops the leaves' gradients (after an optimiser step), in one native call. */
export function assignLeaves(leaves: readonly Tensor[], values: readonly Tensor[]): void {
  (binding().assignLeaves as (d: NativeTensor[], s: NativeTensor[]) => void)(leaves.map(handle), values.map(handle));
}
