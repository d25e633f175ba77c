// Small seeded helpers the synthetic corpus draws with (pick, chance), over src/util/random's generator.
import { seededRandom } from '../../util/random.js';

/** A seeded source of choices; the same seed gives the same corpus on every machine. */
export interface Draw {
  /** Uniform in [0, 1). */
  next(): number;
  pick<T>(items: readonly T[]): T;
  /** true with probability p. */
  chance(p: number): boolean;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
}

export function makeDraw(seed: number): Draw {
  const rng = seededRandom(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  return {
    next: rng,
    pick: <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)],
    chance: (p: number) => rng() < p,
    int,
  };
}
