// Composite ops that run in one native call each: RMSNorm, RoPE, attention over packed sequences, segment LoRA, dropout masks.
import { binding } from './native.js';
import { call, handle, type Tensor } from './tensor.js';
import type { Device } from './ops.js';

/** LlamaRMSNorm: x normalised in float32, cast back to x's dtype, times `weight`. x [..., C], weight [C]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  return call('rmsNorm', handle(x), handle(weight), eps);
}

/** Rotary embedding: x·cos + rotate_half(x)·sin, rotate_half(x) = [−x2, x1]; cos and sin broadcast against x. */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return call('rope', handle(x), handle(cos), handle(sin));
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
 * Inverted-dropout mask [Σ lengths, width] (float32; entries 0 or 1/(1−p)) on `device`: the rows of sequence i are
 * drawn from a generator seeded with seeds[i] only (integers below 2^53).
 */
export function dropoutMask(seeds: readonly number[], lengths: readonly number[], width: number, p: number, device?: Device): Tensor {
  return call('dropoutMask', [...seeds], [...lengths], width, p, device);
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
