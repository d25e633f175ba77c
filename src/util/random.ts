// Deterministic pseudo-random numbers from an integer seed (sfc32 seeded through splitmix32); no global state.
import { IclitError } from './errors.js';

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit state (used only to seed sfc32). */
function splitmix32(state: number): [value: number, next: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return [z >>> 0, next];
}

/**
 * A generator of uniform numbers in [0, 1) determined entirely by `seed` (any safe integer; the high and low
 * 32-bit halves are both used, so seeds that differ only above bit 32 still give different streams).
 * The algorithm (sfc32) and its seeding are fixed: the same seed gives the same stream on every platform and version.
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isSafeInteger(seed)) throw new IclitError(`random seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  let s = lo ^ Math.imul(hi, 0x85ebca6b);
  let a: number, b: number, c: number, d: number;
  [a, s] = splitmix32(s);
  [b, s] = splitmix32(s ^ hi);
  [c, s] = splitmix32(s);
  [d] = splitmix32(s);
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Discard the first outputs so that nearby seeds decorrelate fully.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A uniform integer in [0, n) from `rng` (n a positive safe integer). */
export function randomInt(rng: () => number, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new IclitError(`randomInt needs a positive integer bound, got ${n}`);
  return Math.floor(rng() * n);
}

/** Standard normal draws (Box–Muller, the cosine branch: two uniforms per draw) from a uniform stream such as seededRandom's. */
export function standardNormal(rng: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()); // 1 − u ∈ (0, 1]: never log 0
}
