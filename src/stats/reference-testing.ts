// Test support: brute-force references the statistics tests compare against (written apart from src/stats's own code).

/** Exact one-sided Wilcoxon signed-rank p by enumerating all 2^n sign assignments (no ties, no zeros); 'less' flips the signs. */
export function bruteForceSignedRankP(d: readonly number[], alternative: 'greater' | 'less' = 'greater'): number {
  const x = alternative === 'greater' ? [...d] : d.map((v) => -v);
  const order = x.map((v, i) => ({ a: Math.abs(v), i })).sort((p, q) => p.a - q.a);
  const rank = new Array<number>(x.length);
  order.forEach((o, r) => (rank[o.i] = r + 1));
  const wPlus = x.reduce((s, v, i) => s + (v > 0 ? rank[i] : 0), 0);
  const n = x.length;
  let atLeast = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let w = 0;
    for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) w += r;
    if (w >= wPlus) atLeast++;
  }
  return atLeast / 2 ** n;
}
