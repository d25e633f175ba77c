// The public face of the libtorch binding: everything above src/torch imports tensors from here.
export { Tensor, type DType, type Shape, type Operand } from './tensor.js';
export { tidy, keep, noGrad, tidyNoGrad } from './scope.js';
export { treeLeaves, disposeTree, keepTree, type TensorTree } from './tree.js';
export * from './ops.js';
export * from './fused.js';
export * from './device.js';
export { threadSetup } from './native.js';
export { MappedFile } from './mmap.js';
export * from './device.js';
