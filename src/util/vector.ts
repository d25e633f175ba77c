// Small vector math on plain number arrays shared by several layers (the study's similarity measure).

/**
 * cos(a, b) = a·b / (‖a‖ ‖b‖), accumulated in double precision and clamped to [-1, 1] (rounding can push it a
 * hair past). NaN when either vector is all zeros: the angle is undefined there. Lengths must match.
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine: vectors differ in length (${a.length} vs ${b.length})`);
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 || bb === 0) return NaN;
  return Math.max(-1, Math.min(1, dot / (Math.sqrt(aa) * Math.sqrt(bb))));
}
