// The Tensor type: a libtorch tensor owned from TypeScript (its lifetime is governed by the scopes in scope.ts).
import { binding, nativeOp, type NativeTensor, type NativeMappedFile } from './native.js';
import { TENSOR, track } from './scope.js';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool';
export type Shape = readonly number[];
export type Operand = Tensor | number;

// ---------- the tensor ----------

const handles = new WeakMap<Tensor, NativeTensor>();

/** Wraps a native handle (internal to src/torch). */
export function wrap(h: NativeTensor): Tensor {
  return new Tensor(h);
}

/** The native handle of a tensor (internal to src/torch). */
export function handle(t: Tensor): NativeTensor {
  const h = handles.get(t);
  if (!h) throw new Error('not a tensor');
  return h;
}

function arg(x: Operand): NativeTensor | number {
  return typeof x === 'number' ? x : handle(x);
}

const ops = new Map<string, (...a: unknown[]) => NativeTensor>();
/** Calls a native op by name and wraps the result. */
export function call(name: string, ...args: unknown[]): Tensor {
  let fn = ops.get(name);
  if (!fn) {
    fn = nativeOp(name) as (...a: unknown[]) => NativeTensor;
    ops.set(name, fn);
  }
  return wrap(fn(...args));
}

export class Tensor {
  /** Brands tensors for scope.ts (on the prototype, not per instance). */
  get [TENSOR](): true {
    return true;
  }
  constructor(h: NativeTensor) {
    handles.set(this, h);
    track(this);
  }

  get shape(): number[] {
    return handle(this).shape;
  }
  get rank(): number {
    return this.shape.length;
  }
  get dtype(): DType {
    return handle(this).dtype as DType;
  }
  get device(): string {
    return handle(this).device;
  }
  get disposed(): boolean {
    return handle(this).disposed;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get requiresGrad(): boolean {
    return handle(this).requiresGrad;
  }
  /** The accumulated gradient of a leaf tensor, or null. */
  get grad(): Tensor | null {
    const g = handle(this).grad;
    return g ? wrap(g) : null;
  }

  /** Frees the tensor's memory now (safe to call twice). */
  dispose(): void {
    handle(this).dispose();
  }

  // conversions (PyTorch's names: `to` returns this very tensor's storage when nothing changes)
  /** This tensor in `dtype`: a new handle on the same storage when the dtype already matches (as PyTorch's .to). */
  to(dtype: DType): Tensor {
    return call('to', handle(this), dtype);
  }
  /** Always a new tensor with its own memory, in `dtype` (PyTorch's .to(dtype, copy=True)). */
  cloneAs(dtype: DType): Tensor {
    return call('cloneAs', handle(this), dtype);
  }
  /** This tensor on `device` ('cpu', 'cuda', 'cuda:N'); the same storage when it already is there. */
  toDevice(device: string): Tensor {
    return call('toDevice', handle(this), device);
  }
  /** Moved to `device` first, then converted there (no converted copy on the host). */
  toDeviceAs(device: string, dtype: DType): Tensor {
    return call('toDeviceAs', handle(this), device, dtype);
  }
  contiguous(): Tensor {
    return call('contiguous', handle(this));
  }
  clone(): Tensor {
    return call('clone', handle(this));
  }
  detach(): Tensor {
    return call('detach', handle(this));
  }
  /** Raw bytes in this tensor's dtype (row-major). */
  toBuffer(): Buffer {
    return binding().toBuffer(handle(this));
  }
  toFloat32Array(): Float32Array {
    const src = this.dtype === 'float32' ? this : this.to('float32');
    const buf = binding().toBuffer(handle(src));
    if (src !== this) src.dispose();
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
  }
  toFloat64Array(): Float64Array {
    const src = this.dtype === 'float64' ? this : this.to('float64');
    const buf = binding().toBuffer(handle(src));
    if (src !== this) src.dispose();
    return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8).slice();
  }
  /** Integer tensors as plain numbers (exact up to 2^53). */
  toIntArray(): number[] {
    const src = this.dtype === 'int64' ? this : this.to('int64');
    const buf = binding().toBuffer(handle(src));
    if (src !== this) src.dispose();
    return Array.from(new BigInt64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8), Number);
  }
  toArray(): number[] {
    return Array.from(this.toFloat64Array());
  }
  item(): number {
    return binding().item(handle(this));
  }

  // elementwise
  add(o: Operand): Tensor {
    return call('add', handle(this), arg(o));
  }
  sub(o: Operand): Tensor {
    return call('sub', handle(this), arg(o));
  }
  mul(o: Operand): Tensor {
    return call('mul', handle(this), arg(o));
  }
  div(o: Operand): Tensor {
    return call('div', handle(this), arg(o));
  }
  pow(o: Operand): Tensor {
    return call('pow', handle(this), arg(o));
  }
  eq(o: Operand): Tensor {
    return call('eq', handle(this), arg(o));
  }
  ne(o: Operand): Tensor {
    return call('ne', handle(this), arg(o));
  }
  lt(o: Operand): Tensor {
    return call('lt', handle(this), arg(o));
  }
  le(o: Operand): Tensor {
    return call('le', handle(this), arg(o));
  }
  gt(o: Operand): Tensor {
    return call('gt', handle(this), arg(o));
  }
  ge(o: Operand): Tensor {
    return call('ge', handle(this), arg(o));
  }
  neg(): Tensor {
    return call('neg', handle(this));
  }
  exp(): Tensor {
    return call('exp', handle(this));
  }
  log(): Tensor {
    return call('log', handle(this));
  }
  sqrt(): Tensor {
    return call('sqrt', handle(this));
  }
  rsqrt(): Tensor {
    return call('rsqrt', handle(this));
  }
  abs(): Tensor {
    return call('abs', handle(this));
  }
  tanh(): Tensor {
    return call('tanh', handle(this));
  }
  sigmoid(): Tensor {
    return call('sigmoid', handle(this));
  }
  silu(): Tensor {
    return call('silu', handle(this));
  }
  relu(): Tensor {
    return call('relu', handle(this));
  }
  /** GELU; 'none' is the exact erf form, 'tanh' the approximation. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return call('gelu', handle(this), approximate);
  }
  sin(): Tensor {
    return call('sin', handle(this));
  }
  cos(): Tensor {
    return call('cos', handle(this));
  }
  square(): Tensor {
    return call('square', handle(this));
  }
  logicalNot(): Tensor {
    return call('logicalNot', handle(this));
  }
  isFinite(): Tensor {
    return call('isFinite', handle(this));
  }
  clamp(min?: number, max?: number): Tensor {
    return call('clamp', handle(this), min, max);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return call('maskedFill', handle(this), handle(mask), value);
  }
  triu(k = 0): Tensor {
    return call('triu', handle(this), k);
  }
  tril(k = 0): Tensor {
    return call('tril', handle(this), k);
  }

  // linear algebra
  matmul(o: Tensor): Tensor {
    return call('matmul', handle(this), handle(o));
  }
  bmm(o: Tensor): Tensor {
    return call('bmm', handle(this), handle(o));
  }

  // reductions; dims undefined = all elements
  sum(dims?: number | number[], keepdim = false): Tensor {
    return call('sum', handle(this), dims, keepdim);
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return call('mean', handle(this), dims, keepdim);
  }
  amax(dims: number | number[], keepdim = false): Tensor {
    return call('amax', handle(this), dims, keepdim);
  }
  amin(dims: number | number[], keepdim = false): Tensor {
    return call('amin', handle(this), dims, keepdim);
  }
  argmax(dim: number, keepdim = false): Tensor {
    return call('argmax', handle(this), dim, keepdim);
  }
  softmax(dim: number): Tensor {
    return call('softmax', handle(this), dim);
  }
  logSoftmax(dim: number): Tensor {
    return call('logSoftmax', handle(this), dim);
  }
  cumsum(dim: number): Tensor {
    return call('cumsum', handle(this), dim);
  }

  // shapes and indexing
  reshape(shape: Shape): Tensor {
    return call('reshape', handle(this), [...shape]);
  }
  permute(dims: Shape): Tensor {
    return call('permute', handle(this), [...dims]);
  }
  transpose(a: number, b: number): Tensor {
    return call('transpose', handle(this), a, b);
  }
  unsqueeze(dim: number): Tensor {
    return call('unsqueeze', handle(this), dim);
  }
  squeeze(dim: number): Tensor {
    return call('squeeze', handle(this), dim);
  }
  expand(shape: Shape): Tensor {
    return call('expand', handle(this), [...shape]);
  }
  repeatInterleave(repeats: number, dim: number): Tensor {
    return call('repeatInterleave', handle(this), repeats, dim);
  }
  /** Python's `x[..., start:end:step, ...]` along `dim`; negative indices count from the end. */
  slice(dim: number, start: number, end: number = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
    return call('slice', handle(this), dim, start, end, step);
  }
  /** `x.select(dim, index)`: drops `dim`. */
  select(dim: number, index: number): Tensor {
    return call('select', handle(this), dim, index);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return call('indexSelect', handle(this), dim, handle(index));
  }
  gather(dim: number, index: Tensor): Tensor {
    return call('gather', handle(this), dim, handle(index));
  }

  // autograd
  /** Marks this tensor as a leaf that accumulates gradients (in place; returns this). */
  requiresGrad_(on = true): this {
    binding().setRequiresGrad(handle(this), on);
    return this;
  }
  backward(grad?: Tensor): void {
    binding().backward(handle(this), grad ? handle(grad) : undefined);
  }
  zeroGrad(): void {
    binding().zeroGrad(handle(this));
  }
  /** Overwrites this tensor's values with `src` (outside autograd); used by optimisers on leaves. */
  copy_(src: Tensor): this {
    binding().copyInto(handle(this), handle(src));
    return this;
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}], ${this.device})`;
  }
}

export { type NativeMappedFile };
