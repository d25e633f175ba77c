// Memory-mapped files whose byte ranges become tensors without a copy (used for safetensors weights).
import { binding, type NativeMappedFile } from './native.js';
import { call, type DType, type Shape, type Tensor } from './tensor.js';

/** A read-only memory map of a file; tensors made from it keep the mapping alive after close(). */
export class MappedFile {
  readonly #file: NativeMappedFile;
  constructor(readonly path: string) {
    this.#file = new (binding().MappedFile)(path);
  }
  get size(): number {
    return this.#file.size;
  }
  /** A tensor viewing `shape` elements of `dtype` at `byteOffset` (no copy; never write to it). */
  tensor(byteOffset: number, dtype: DType, shape: Shape): Tensor {
    return call('fromMapping', this.#file, byteOffset, dtype, [...shape]);
  }
  close(): void {
    this.#file.close();
  }
}
