// Wilcoxon signed-rank test on paired differences, following SciPy 1.10 `scipy.stats.wilcoxon` (zero_method "wilcox").
import { IclitError } from '../util/errors.js';
import { averageRanks, tieGroupSizes } from './ranks.js';
import { normalCdf, normalSf } from './special.js';
import { checkFinite } from './validate.js';

export type Alternative = 'two-sided' | 'greater' | 'less';
export type WilcoxonMethod = 'auto' | 'exact' | 'approx';

export interface WilcoxonOptions {
  /** H1: the differences' distribution is shifted above zero ('greater'), below ('less'), or either. Default 'two-sided'. */
  alternative?: Alternative;
  /**
   * 'exact': the exact null distribution of W+; 'approx': the normal approximation; 'auto' (default): exact when
   * n ≤ 50 and there are no ties and no zeros, else approx. 'exact' falls back to 'approx' when there are zeros
   * or ties (the exact distribution assumes neither); the result's `method` says which one ran.
   */
  method?: WilcoxonMethod;
  /** Only "wilcox" (zero differences are dropped before ranking) is supported. */
  zeroMethod?: 'wilcox';
  /** Continuity correction of the normal approximation (SciPy's `correction`). Default false. */
  correction?: boolean;
}

export interface WilcoxonResult {
  /** As SciPy reports it: min(W+, W−) for 'two-sided', W+ for 'greater' / 'less'. */
  statistic: number;
  pValue: number;
  /** Number of non-zero differences that were ranked. */
  n: number;
  /** Zero differences dropped before ranking. */
  nZeros: number;
  /** The method that actually ran. */
  method: 'exact' | 'approx';
  alternative: Alternative;
  /** Sum of the ranks of the positive / negative differences. */
  wPlus: number;
  wMinus: number;
  /** The z score of the normal approximation (only when method is 'approx'). */
  zStatistic?: number;
}

/** Above this n the exact distribution is not used by 'auto' (SciPy's threshold). */
export const WILCOXON_EXACT_MAX_N = 50;
/** Largest n for an explicit method 'exact': the O(n³) table and 2^n stay finite and fast below it. */
export const WILCOXON_EXACT_LIMIT = 1000;

const exactCountsCache = new Map<number, Float64Array>();

/**
 * counts[k] = number of the 2^n sign assignments of ranks 1..n whose positive ranks sum to k (k = 0..n(n+1)/2).
 * Dynamic programming adding one rank at a time. The counts stay below 2^53 for n ≤ 50+ so they are exact.
 */
export function signedRankCounts(n: number): Float64Array {
  const cached = exactCountsCache.get(n);
  if (cached) return cached;
  const max = (n * (n + 1)) / 2;
  const counts = new Float64Array(max + 1);
  counts[0] = 1;
  let top = 0;
  for (let r = 1; r <= n; r++) {
    top += r;
    for (let k = top; k >= r; k--) counts[k] += counts[k - r];
  }
  exactCountsCache.set(n, counts);
  return counts;
}

/** Wilcoxon signed-rank test of the paired differences `d` (e.g. x − y). See WilcoxonOptions for the choices. */
export function wilcoxon(d: ArrayLike<number>, options: WilcoxonOptions = {}): WilcoxonResult {
  const alternative = options.alternative ?? 'two-sided';
  const requested = options.method ?? 'auto';
  const correction = options.correction ?? false;
  const zeroMethod = options.zeroMethod ?? 'wilcox';
  if (!['two-sided', 'greater', 'less'].includes(alternative)) {
    throw new IclitError(`wilcoxon: alternative is ${JSON.stringify(alternative)}; expected "two-sided", "greater" or "less"`);
  }
  if (!['auto', 'exact', 'approx'].includes(requested)) {
    throw new IclitError(`wilcoxon: method is ${JSON.stringify(requested)}; expected "auto", "exact" or "approx"`);
  }
  if (zeroMethod !== 'wilcox') {
    throw new IclitError(`wilcoxon: zeroMethod is ${JSON.stringify(zeroMethod)}; only "wilcox" is supported`);
  }
  checkFinite(d, 'wilcoxon: d');

  const nonZero: number[] = [];
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) nonZero.push(d[i]);
  const nZeros = d.length - nonZero.length;
  const n = nonZero.length;
  if (n === 0) {
    throw new IclitError(`wilcoxon: all ${d.length} difference(s) are zero (or there are none); the test is undefined`);
  }

  const absD = nonZero.map(Math.abs);
  const ranks = averageRanks(absD);
  let wPlus = 0;
  let wMinus = 0;
  for (let i = 0; i < n; i++) {
    if (nonZero[i] > 0) wPlus += ranks[i];
    else wMinus += ranks[i];
  }
  const statistic = alternative === 'two-sided' ? Math.min(wPlus, wMinus) : wPlus;
  const ties = tieGroupSizes(absD);

  let method: 'exact' | 'approx';
  if (requested === 'approx') method = 'approx';
  else if (nZeros > 0 || ties.length > 0) method = 'approx';
  else if (requested === 'exact') {
    if (n > WILCOXON_EXACT_LIMIT) {
      throw new IclitError(`wilcoxon: method "exact" with n = ${n} > ${WILCOXON_EXACT_LIMIT}; use "approx" or "auto"`);
    }
    method = 'exact';
  }
  else method = n <= WILCOXON_EXACT_MAX_N ? 'exact' : 'approx';

  const base = { statistic, n, nZeros, alternative, wPlus, wMinus };
  if (method === 'exact') {
    return { ...base, method, pValue: exactPValue(wPlus, n, alternative) };
  }

  const mean = (n * (n + 1)) / 4;
  let variance = n * (n + 1) * (2 * n + 1);
  for (const t of ties) variance -= 0.5 * t * (t * t - 1); // tie correction
  const se = Math.sqrt(variance / 24);
  let shift = 0;
  if (correction) {
    if (alternative === 'two-sided') shift = 0.5 * Math.sign(statistic - mean);
    else shift = alternative === 'less' ? -0.5 : 0.5;
  }
  const z = (statistic - mean - shift) / se;
  let pValue: number;
  if (alternative === 'two-sided') pValue = 2 * normalSf(Math.abs(z));
  else if (alternative === 'greater') pValue = normalSf(z);
  else pValue = normalCdf(z);
  return { ...base, method, pValue, zStatistic: z };
}

/** Wilcoxon signed-rank test of paired samples: tests the differences x[i] − y[i]. */
export function wilcoxonPaired(x: ArrayLike<number>, y: ArrayLike<number>, options: WilcoxonOptions = {}): WilcoxonResult {
  if (x.length !== y.length) {
    throw new IclitError(`wilcoxonPaired: x has ${x.length} values but y has ${y.length}; paired samples need equal lengths`);
  }
  checkFinite(x, 'wilcoxonPaired: x');
  checkFinite(y, 'wilcoxonPaired: y');
  const d = Array.from({ length: x.length }, (_, i) => x[i] - y[i]);
  return wilcoxon(d, options);
}

/**
 * Matched-pairs rank-biserial correlation (Kerby 2014) of a signed-rank result: (W+ − W−) / (W+ + W−), in [−1, 1];
 * +1 when every non-zero difference is positive. The effect size that goes with the Wilcoxon signed-rank test.
 */
export function rankBiserial(r: Pick<WilcoxonResult, 'wPlus' | 'wMinus'>): number {
  const total = r.wPlus + r.wMinus;
  return total > 0 ? (r.wPlus - r.wMinus) / total : NaN;
}

/** Exact p-value from the null distribution of W+ (integer ranks: no ties). */
function exactPValue(wPlus: number, n: number, alternative: Alternative): number {
  const counts = signedRankCounts(n);
  const total = 2 ** n;
  const k = Math.round(wPlus);
  // Integer counts summed exactly, then one division: the p-value is correctly rounded.
  const lessOrEqual = (): number => {
    let s = 0;
    for (let i = 0; i <= k; i++) s += counts[i];
    return s / total;
  };
  const greaterOrEqual = (): number => {
    let s = 0;
    for (let i = k; i < counts.length; i++) s += counts[i];
    return s / total;
  };
  let p: number;
  if (alternative === 'greater') p = greaterOrEqual();
  else if (alternative === 'less') p = lessOrEqual();
  else if (k === Math.floor((counts.length - 1) / 2)) p = 1; // W+ at the centre (SciPy's convention)
  else p = 2 * Math.min(lessOrEqual(), greaterOrEqual());
  return Math.min(1, Math.max(0, p));
}
