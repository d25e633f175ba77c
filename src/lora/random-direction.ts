// The random-adapter control: a copy of a set of adapters whose every module's weight change s·B'A' has the tuned s·BA's Frobenius norm in a seeded random direction.
import { keep, tensor, tidy, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { seededRandom, standardNormal } from '../util/random.js';
import { peftKey } from './config.js';
import { LoraAdapters } from './lora.js';


/**
 * ‖B·A‖_F² for B [out, r] and A [r, in] (row-major), in float64 without forming the product:
 * trace((BᵀB)(AAᵀ)), two r × r Gram matrices (cheap at LoRA ranks).
 */
function productNormSquared(B: ArrayLike<number>, A: ArrayLike<number>, r: number): number {
  const out = B.length / r;
  const inn = A.length / r;
  let sum = 0;
  for (let j = 0; j < r; j++) {
    for (let k = 0; k < r; k++) {
      let gb = 0;
      for (let o = 0; o < out; o++) gb += B[o * r + j] * B[o * r + k];
      let ga = 0;
      for (let i = 0; i < inn; i++) ga += A[j * inn + i] * A[k * inn + i];
      sum += gb * ga;
    }
  }
  return Math.max(0, sum);
}

/**
 * A new set of adapters (owned by the caller; `lora` is unchanged) of the tuned one's size in a random direction:
 * per adapter b and module, A' = g_A · ‖A‖_F / ‖g_A‖_F and B' = g_B scaled so that ‖B'A'‖_F = ‖BA‖_F, g standard
 * normal draws of the matrices' shapes. The weight change s·B'A' (s the LoRA scaling, shared) thus has the tuned
 * change's Frobenius norm. Matching the factors' norms instead would not: random factors are not aligned as trained
 * ones are, so their product is far smaller. Adapter b draws from `seeds[b]` alone, matrix after matrix in the set's
 * parameter order, so an adapter's draw does not depend on the other adapters of the batch. A module whose tuned
 * BA is zero (e.g. B = 0 as PEFT initialises it) gets B' = 0. Dropout seeds are the tuned set's.
 */
export function randomDirectionAdapters(lora: LoraAdapters, seeds: readonly number[]): LoraAdapters {
  if (seeds.length !== lora.count) throw new IclitError(`random-direction adapters: ${seeds.length} seeds for ${lora.count} adapters`);
  const rngs = seeds.map((s) => standardNormal(seededRandom(s)));
  // every matrix on the host: the tuned values and its draw g · ‖W‖_F / ‖g‖_F (float64), in parameter order
  const tuned = new Map<string, Float32Array>();
  const drawn = new Map<string, Float64Array>();
  for (const [key, p] of lora.params) {
    const [N, ...rest] = p.shape; // [N, r, in] or [N, out, r]
    const size = rest.reduce((a, b) => a * b, 1);
    const w = tidy(() => p.detach().toDevice('cpu').contiguous().toFloat32Array());
    const out = new Float64Array(w.length);
    for (let b = 0; b < N; b++) {
      let norm = 0;
      for (let i = b * size; i < (b + 1) * size; i++) norm += w[i] * w[i];
      const g = Float64Array.from({ length: size }, rngs[b]);
      let gNorm = 0;
      for (const v of g) gNorm += v * v;
      const scale = norm === 0 ? 0 : Math.sqrt(norm) / Math.sqrt(gNorm);
      for (let i = 0; i < size; i++) out[b * size + i] = g[i] * scale;
    }
    tuned.set(key, w);
    drawn.set(key, out);
  }
  // B' rescaled per adapter and module so the product has the tuned product's norm
  const r = lora.config.r;
  for (const name of lora.modules) {
    const [kA, kB] = [peftKey(name, 'A'), peftKey(name, 'B')];
    const [A, B, A2, B2] = [tuned.get(kA)!, tuned.get(kB)!, drawn.get(kA)!, drawn.get(kB)!];
    const sizeA = A.length / lora.count;
    const sizeB = B.length / lora.count;
    for (let b = 0; b < lora.count; b++) {
      const slice = <T extends Float32Array | Float64Array>(x: T, size: number): T => x.subarray(b * size, (b + 1) * size) as T;
      const target = Math.sqrt(productNormSquared(slice(B, sizeB), slice(A, sizeA), r));
      const now = Math.sqrt(productNormSquared(slice(B2, sizeB), slice(A2, sizeA), r));
      if (target > 0 && !(now > 0)) throw new IclitError(`random-direction adapters: ${name}'s random factors multiply to zero (adapter ${b})`);
      const scale = target === 0 ? 0 : target / now;
      const bSlice = slice(B2, sizeB);
      for (let i = 0; i < bSlice.length; i++) bSlice[i] *= scale;
    }
  }
  const params = new Map<string, Tensor>();
  try {
    for (const [key, p] of lora.params) params.set(key, keep(tensor(Float32Array.from(drawn.get(key)!), p.shape, 'float32', p.device)));
  } catch (e) {
    for (const t of params.values()) t.dispose();
    throw e;
  }
  return new LoraAdapters(lora.model, { ...lora.config, targets: [...lora.config.targets] }, [...lora.seeds], params, [...lora.modules]);
}
