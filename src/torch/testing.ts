// Test helpers of the tensor layer: run a check on every implementation of an op this build has.
import { setDirectKernels } from './fused.js';

/** Runs `body` once per implementation of the float32 CPU kernels (written out in C++, then libtorch ops). */
export function eachKernelPath(body: (path: string) => void): void {
  for (const direct of [true, false]) {
    setDirectKernels(direct);
    try {
      body(direct ? 'direct kernels' : 'libtorch ops');
    } finally {
      setDirectKernels(true);
    }
  }
}
