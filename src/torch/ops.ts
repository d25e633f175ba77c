// Free functions over tensors: creation (on a device), multi-input ops, neural-network functions and the runtime.
import { binding, noteIntraOpThreads, type NativeCacheStats } from './native.js';
import { call, handle, Tensor, type DType, type Operand, type Shape } from './tensor.js';

const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, uint8: 1, int8: 1, bool: 1 };

export function elementBytes(dtype: DType): number {
  return ELEMENT_BYTES[dtype];
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float64';
}

/** Where a tensor lives: 'cpu', 'cuda' (the current CUDA device) or 'cuda:N'. */
export type Device = string;

/**
 * A tensor copied from raw bytes or a typed array whose bytes already are in `dtype` (e.g. Uint16Array for
 * bfloat16), on `device` (default the CPU).
 */
export function fromBytes(data: ArrayBufferView, dtype: DType, shape: Shape, device?: Device): Tensor {
  return call('fromBuffer', data, dtype, [...shape], device);
}

/** A tensor from numbers, converted to `dtype`, on `device` (default the CPU). */
export function tensor(values: ArrayLike<number> | Float32Array, shape: Shape, dtype: DType = 'float32', device?: Device): Tensor {
  if (dtype === 'float32') return fromBytes(values instanceof Float32Array ? values : Float32Array.from(values), 'float32', shape, device);
  if (dtype === 'float64') return fromBytes(values instanceof Float64Array ? values : Float64Array.from(values), 'float64', shape, device);
  if (dtype === 'int64') return fromBytes(BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))), 'int64', shape, device);
  if (dtype === 'int32') return fromBytes(Int32Array.from(values), 'int32', shape, device);
  if (dtype === 'bool' || dtype === 'uint8') return fromBytes(Uint8Array.from(values, (v) => (v ? (dtype === 'bool' ? 1 : v) : 0)), dtype, shape, device);
  const f = fromBytes(Float32Array.from(values), 'float32', shape, device);
  const out = f.to(dtype);
  f.dispose();
  return out;
}

export function zeros(shape: Shape, dtype: DType = 'float32', device?: Device): Tensor {
  return call('zeros', [...shape], dtype, device);
}
export function ones(shape: Shape, dtype: DType = 'float32', device?: Device): Tensor {
  return call('ones', [...shape], dtype, device);
}
export function full(shape: Shape, value: number, dtype: DType = 'float32', device?: Device): Tensor {
  return call('full', [...shape], value, dtype, device);
}
/** zeros with the shape and device of `t` (and its dtype unless given). */
export function zerosLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return zeros(t.shape, dtype, t.device);
}
export function arange(start: number, end: number, step = 1, dtype: DType = 'int64', device?: Device): Tensor {
  return call('arange', start, end, step, dtype, device);
}
/** Standard normal samples from libtorch's generator (seed with manualSeed). */
export function randn(shape: Shape, dtype: DType = 'float32', device?: Device): Tensor {
  return call('randn', [...shape], dtype, device);
}
export function rand(shape: Shape, dtype: DType = 'float32', device?: Device): Tensor {
  return call('rand', [...shape], dtype, device);
}
export function uniform(shape: Shape, low: number, high: number, dtype: DType = 'float32', device?: Device): Tensor {
  return call('uniform', [...shape], low, high, dtype, device);
}
/** 0/1 samples with the given per-element probabilities. */
export function bernoulli(p: Tensor): Tensor {
  return call('bernoulli', handle(p));
}

export function cat(xs: Tensor[], dim: number): Tensor {
  return call('cat', xs.map(handle), dim);
}
export function stack(xs: Tensor[], dim: number): Tensor {
  return call('stack', xs.map(handle), dim);
}
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  return call('where', handle(cond), typeof a === 'number' ? a : handle(a), typeof b === 'number' ? b : handle(b));
}
export function maximum(a: Tensor, b: Tensor): Tensor {
  return call('maximum', handle(a), handle(b));
}
export function minimum(a: Tensor, b: Tensor): Tensor {
  return call('minimum', handle(a), handle(b));
}
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return call('logicalAnd', handle(a), handle(b));
}
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return call('logicalOr', handle(a), handle(b));
}

/** `x @ weight.T + bias`, as torch.nn.functional.linear. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return call('linear', handle(x), handle(weight), bias ? handle(bias) : undefined);
}
/** Rows of `weight` picked by integer `ids`. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  return call('embedding', handle(weight), handle(ids));
}
export function layerNorm(x: Tensor, normalizedShape: Shape, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  return call('layerNorm', handle(x), [...normalizedShape], weight ? handle(weight) : undefined, bias ? handle(bias) : undefined, eps);
}
/** Inverted dropout; the identity when `training` is false or p is 0. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  return call('dropout', handle(x), p, training && p > 0);
}

const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;
/** Cross-entropy of logits [N, C] against integer targets [N]; targets equal to ignoreIndex are skipped. */
export function crossEntropy(logits: Tensor, targets: Tensor, reduction: keyof typeof REDUCTION = 'mean', ignoreIndex = -100): Tensor {
  return call('crossEntropy', handle(logits), handle(targets), REDUCTION[reduction], ignoreIndex);
}

// ---------- runtime ----------

export function manualSeed(seed: number): void {
  binding().manualSeed(seed);
}
/** Sets libtorch's intra-op (OpenMP) threads; `by` says who asked, for threadSetup(). */
export function setNumThreads(n: number, by = 'setNumThreads'): void {
  binding().setNumThreads(n);
  noteIntraOpThreads(n, by);
}
export function getNumThreads(): number {
  return binding().getNumThreads();
}
export function isGradEnabled(): boolean {
  return binding().isGradEnabled();
}
export function cudaIsAvailable(): boolean {
  return binding().cudaIsAvailable();
}
export function synchronize(): void {
  binding().cudaSynchronize();
}
export function torchVersion(): string {
  return binding().version();
}
export function parallelInfo(): string {
  return binding().parallelInfo();
}

// ---------- CPU memory ----------

/** Bytes of the CPU tensor cache: held for reuse, in live tensors, the peak of live since resetPeakMemory, the cap. */
export type CacheStats = NativeCacheStats;

export function cacheStats(): CacheStats {
  return binding().cacheStats();
}

/**
 * Returns the CPU buffers iclit's allocator keeps for reuse (and the C heap's free pages) to the system; call it
 * between chunks of work whose tensor sizes differ (e.g. after each chunk of repeats). Returns the bytes released
 * from the cache. Live tensors are untouched; the next ops refill the cache as they need. CUDA memory is managed by
 * libtorch's own caching allocator and is not affected.
 */
export function releaseCachedMemory(): number {
  return binding().trimCache();
}

/** Starts a new peak for cacheStats().peakLive. */
export function resetPeakMemory(): void {
  binding().resetPeak();
}

/**
 * Runs `fn` under libtorch's op profiler and writes a chrome trace of every op (forward and backward) to `file`
 * (libtorch 1.x; bench/profile.ts turns it into a table).
 */
export function profileOps<T>(file: string, fn: () => T): T {
  const b = binding();
  b.profileStart(file);
  try {
    return fn();
  } finally {
    b.profileStop();
  }
}
