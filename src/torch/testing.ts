// Test helpers of the tensor layer: run a check on every implementation of an op this build has.
import { blasAttentionAvailable, setBlasAttention } from './fused.js';

/** Runs `body` once per implementation of packed attention this build has (BLAS on the CPU, libtorch ops). */
export function eachAttentionPath(body: (path: string) => void): void {
  for (const blas of blasAttentionAvailable() ? [true, false] : [false]) {
    setBlasAttention(blas);
    try {
      body(blas ? 'BLAS' : 'libtorch ops');
    } finally {
      setBlasAttention(true);
    }
  }
}
