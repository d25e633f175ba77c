// Page's L trend test for ordered treatments with repeated blocks, following SciPy 1.17 `scipy.stats.page_trend_test`.
import { IclitError } from '../util/errors.js';
import { averageRanks } from './ranks.js';
import { normalSf } from './special.js';

export interface PageResult {
  /** Page's L = Σ_j j · (sum over rows of the rank of column j within its row). */
  statistic: number;
  /** One-sided p of H1: the columns' values rise in column order. */
  pValue: number;
  method: 'exact' | 'asymptotic';
  /** Rows (blocks, e.g. repeats) and columns (ordered treatments, e.g. k = 1, 2, 5, 10). */
  rows: number;
  columns: number;
  /**
   * (L − E0) / (Lmax − E0) = 12 (L − E0) / (m n (n² − 1)): the mean over rows of Spearman's ρ between the column
   * order and the row's ranks (exact without ties), 1 = every row rises, 0 = no trend.
   */
  meanRankCorrelation: number;
}

export type PageMethod = 'auto' | 'exact' | 'asymptotic';

/** Largest column count for an explicit 'exact' (9! = 362 880 rankings are enumerated once and cached). */
export const PAGE_EXACT_MAX_COLUMNS = 9;

/** SciPy's choice: asymptotic for n > 8 columns, or m > 12 rows with n > 3, or m > 20; else exact. */
function chooseMethod(m: number, n: number): 'exact' | 'asymptotic' {
  return n > 8 || (m > 12 && n > 3) || m > 20 ? 'asymptotic' : 'exact';
}

const singleRowCache = new Map<number, Float64Array>();

/** P(L_row = a + i) for one row of n columns under H0 (every permutation of ranks 1..n equally likely). */
function singleRowPmf(n: number): Float64Array {
  const cached = singleRowCache.get(n);
  if (cached) return cached;
  const a = (n * (n + 1) * (n + 2)) / 6;
  const b = (n * (n + 1) * (2 * n + 1)) / 6;
  const counts = new Float64Array(b - a + 1);
  const perm = Array.from({ length: n }, (_, i) => i + 1);
  const used = new Uint8Array(n + 1);
  let total = 0;
  const walk = (pos: number, sum: number): void => {
    if (pos > n) {
      counts[sum - a]++;
      total++;
      return;
    }
    for (let v = 1; v <= n; v++) {
      if (used[v]) continue;
      used[v] = 1;
      perm[pos - 1] = v;
      walk(pos + 1, sum + pos * v);
      used[v] = 0;
    }
  };
  walk(1, 0);
  for (let i = 0; i < counts.length; i++) counts[i] /= total;
  singleRowCache.set(n, counts);
  return counts;
}

/** Exact P(L ≥ floor(l)) for m rows of n columns: the single-row distribution convolved m times (Odeh 1977). */
function exactSf(l: number, m: number, n: number): number {
  const one = singleRowPmf(n);
  const a = (n * (n + 1) * (n + 2)) / 6;
  let dist = Float64Array.from(one);
  for (let r = 1; r < m; r++) {
    const next = new Float64Array(dist.length + one.length - 1);
    for (let i = 0; i < dist.length; i++) {
      if (dist[i] === 0) continue;
      for (let j = 0; j < one.length; j++) next[i + j] += dist[i] * one[j];
    }
    dist = next;
  }
  // SciPy truncates a tied (half-integer) L to an integer before summing the upper tail.
  const start = Math.trunc(l) - m * a;
  let p = 0;
  for (let i = Math.max(0, start); i < dist.length; i++) p += dist[i];
  return Math.min(1, Math.max(0, p));
}

/**
 * Page's L test that the column means rise in column order (one-sided), on an m × n table (rows = blocks, columns =
 * treatments in their predicted order). Each row is ranked with ties averaged. Needs m ≥ 2 rows, n ≥ 3 columns and no
 * NaN. 'auto' picks exact or asymptotic as SciPy does; the exact p ignores ties (conservative, as SciPy).
 */
export function pageTrendTest(data: readonly ArrayLike<number>[], method: PageMethod = 'auto'): PageResult {
  if (!['auto', 'exact', 'asymptotic'].includes(method)) {
    throw new IclitError(`pageTrendTest: method is ${JSON.stringify(method)}; expected "auto", "exact" or "asymptotic"`);
  }
  const m = data.length;
  const n = m > 0 ? data[0].length : 0;
  if (m < 2 || n < 3) throw new IclitError(`pageTrendTest: needs at least 2 rows and 3 columns, got ${m} × ${n}`);
  const colSums = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    const row = data[i];
    if (row.length !== n) throw new IclitError(`pageTrendTest: row ${i} has ${row.length} values, row 0 has ${n}`);
    for (let j = 0; j < n; j++) {
      if (typeof row[j] !== 'number' || Number.isNaN(row[j])) throw new IclitError(`pageTrendTest: row ${i}, column ${j} is ${String(row[j])}; expected a number`);
    }
    const ranks = averageRanks(row);
    for (let j = 0; j < n; j++) colSums[j] += ranks[j];
  }
  let l = 0;
  for (let j = 0; j < n; j++) l += (j + 1) * colSums[j];
  const e0 = (m * n * (n + 1) ** 2) / 4;
  const v0 = (m * n ** 2 * (n + 1) * (n ** 2 - 1)) / 144;
  const chosen = method === 'auto' ? chooseMethod(m, n) : method;
  if (chosen === 'exact' && n > PAGE_EXACT_MAX_COLUMNS) {
    throw new IclitError(`pageTrendTest: method "exact" with ${n} columns > ${PAGE_EXACT_MAX_COLUMNS} (it enumerates n! rankings); use "auto" or "asymptotic"`);
  }
  const pValue = chosen === 'exact' ? exactSf(l, m, n) : normalSf((l - e0) / Math.sqrt(v0));
  return { statistic: l, pValue, method: chosen, rows: m, columns: n, meanRankCorrelation: (12 * (l - e0)) / (m * n * (n * n - 1)) };
}
