// The random-adapter control: a copy of a set of adapters with every matrix turned to a seeded random direction of the same Frobenius norm.
import { keep, tensor, tidy, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import { LoraAdapters } from './lora.js';

/** `n` standard normal numbers from `rng` (Box–Muller), in float64. */
function normals(n: number, rng: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng())); // 1 − u ∈ (0, 1]: never log 0
    const t = 2 * Math.PI * rng();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/**
 * A new set of adapters (owned by the caller; `lora` is unchanged) where each adapter b's every lora_A and lora_B
 * matrix is g · ‖W‖_F / ‖g‖_F, g a standard normal draw of W's shape: the tuned norm in a random direction. Adapter
 * b draws from `seeds[b]` alone, matrix after matrix in the set's parameter order, so an adapter's draw does not
 * depend on the other adapters of the batch. A zero matrix stays zero. Dropout seeds are the tuned set's.
 */
export function randomDirectionAdapters(lora: LoraAdapters, seeds: readonly number[]): LoraAdapters {
  if (seeds.length !== lora.count) throw new IclitError(`random-direction adapters: ${seeds.length} seeds for ${lora.count} adapters`);
  const rngs = seeds.map((s) => seededRandom(s));
  const params = new Map<string, Tensor>();
  try {
    for (const [key, p] of lora.params) {
      const [N, ...rest] = p.shape; // [N, r, in] or [N, out, r]
      const size = rest.reduce((a, b) => a * b, 1);
      const tuned = tidy(() => p.detach().toDevice('cpu').contiguous().toFloat32Array());
      const out = new Float32Array(tuned.length);
      for (let b = 0; b < N; b++) {
        const w = tuned.subarray(b * size, (b + 1) * size);
        let norm = 0;
        for (const v of w) norm += v * v;
        const g = normals(size, rngs[b]);
        let gNorm = 0;
        for (const v of g) gNorm += v * v;
        const scale = norm === 0 ? 0 : Math.sqrt(norm) / Math.sqrt(gNorm);
        for (let i = 0; i < size; i++) out[b * size + i] = g[i] * scale;
      }
      params.set(key, keep(tensor(out, p.shape, 'float32', p.device)));
    }
  } catch (e) {
    for (const t of params.values()) t.dispose();
    throw e;
  }
  return new LoraAdapters(lora.model, { ...lora.config, targets: [...lora.config.targets] }, [...lora.seeds], params, [...lora.modules]);
}
