// The public face of the libtorch binding: everything above src/torch imports tensors from here.
export { Tensor, tidy, keep, noGrad, type DType, type Shape, type Operand } from './tensor.js';
export * from './ops.js';
export { MappedFile } from './mmap.js';
export * from './device.js';
