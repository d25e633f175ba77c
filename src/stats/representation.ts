// Measures on sets of hidden-state vectors: update cosine, centring, massive dimensions, the permutation null, linear CKA.
import { IclitError } from '../util/errors.js';
import { cosine } from './cosine.js';
import { percentileOfSorted } from './percentiles.js';

type Vec = ArrayLike<number>;

function checkSameLength(vectors: readonly Vec[], where: string): number {
  if (vectors.length === 0) throw new IclitError(`${where}: no vectors`);
  const c = vectors[0].length;
  for (let i = 1; i < vectors.length; i++) {
    if (vectors[i].length !== c) throw new IclitError(`${where}: vector ${i} has ${vectors[i].length} dimensions, vector 0 has ${c}`);
  }
  return c;
}

/**
 * cos(icl − anchor, it − anchor): do ICL and IT move the anchor's state the same way? Differences are taken in
 * double precision; NaN where either update is all zeros (the angle is undefined).
 */
export function updateCosine(anchor: Vec, icl: Vec, it: Vec): number {
  const c = anchor.length;
  if (icl.length !== c || it.length !== c) throw new RangeError(`updateCosine: lengths differ (${c}, ${icl.length}, ${it.length})`);
  const du = new Float64Array(c);
  const dv = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    du[i] = icl[i] - anchor[i];
    dv[i] = it[i] - anchor[i];
  }
  return cosine(du, dv);
}

/** Per-dimension mean of the vectors, in double precision. */
export function meanVector(vectors: readonly Vec[]): Float64Array {
  const c = checkSameLength(vectors, 'meanVector');
  const m = new Float64Array(c);
  for (const v of vectors) for (let i = 0; i < c; i++) m[i] += v[i];
  for (let i = 0; i < c; i++) m[i] /= vectors.length;
  return m;
}

/** Per-dimension mean of |value| over the vectors. */
export function meanAbsVector(vectors: readonly Vec[]): Float64Array {
  const c = checkSameLength(vectors, 'meanAbsVector');
  const m = new Float64Array(c);
  for (const v of vectors) for (let i = 0; i < c; i++) m[i] += Math.abs(v[i]);
  for (let i = 0; i < c; i++) m[i] /= vectors.length;
  return m;
}

/** Default ratio to the median per-dimension mean |value| at which a dimension counts as massive. */
export const MASSIVE_RATIO = 100;

/**
 * Massive dimensions (Sun et al. 2024): indices whose mean |value| is ≥ `ratio` × the median of the per-dimension
 * mean |value| (`meanAbs`, e.g. from meanAbsVector), ascending. None when the median is zero or not finite.
 */
export function massiveDimensions(meanAbs: Vec, ratio = MASSIVE_RATIO): number[] {
  if (!(ratio > 0) || !Number.isFinite(ratio)) throw new IclitError(`massiveDimensions: ratio is ${ratio}; expected a positive number`);
  if (meanAbs.length === 0) return [];
  const sorted = Float64Array.from(meanAbs).sort();
  const med = percentileOfSorted(sorted, 50);
  if (!(med > 0) || !Number.isFinite(med)) return [];
  const out: number[] = [];
  for (let i = 0; i < meanAbs.length; i++) if (meanAbs[i] >= ratio * med) out.push(i);
  return out;
}

/** cos(a − mean, b − mean): the cosine after removing a shared offset (e.g. the mean state of a layer). */
export function centredCosine(a: Vec, b: Vec, mean: Vec): number {
  const c = mean.length;
  if (a.length !== c || b.length !== c) throw new RangeError(`centredCosine: lengths differ (${a.length}, ${b.length}, mean ${c})`);
  const x = new Float64Array(c);
  const y = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    x[i] = a[i] - mean[i];
    y[i] = b[i] - mean[i];
  }
  return cosine(x, y);
}

/** cos(a, b) over every dimension except `excluded` (indices, any order); NaN when what remains is all zeros. */
export function cosineExcluding(a: Vec, b: Vec, excluded: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`cosineExcluding: vectors differ in length (${a.length} vs ${b.length})`);
  if (excluded.length === 0) return cosine(a, b);
  const skip = new Uint8Array(a.length);
  for (const d of excluded) {
    if (!Number.isInteger(d) || d < 0 || d >= a.length) throw new RangeError(`cosineExcluding: dimension ${d} is out of range 0..${a.length - 1}`);
    skip[d] = 1;
  }
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    if (skip[i]) continue;
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa === 0 || bb === 0) return NaN;
  return Math.max(-1, Math.min(1, dot / (Math.sqrt(aa) * Math.sqrt(bb))));
}

/**
 * The permutation null of matched ICL/IT pairs: for each r, the mean over r′ ≠ r of cos(icl[r], it[r′]) — what the
 * similarity looks like between an ICL state and an IT state that did not share a demonstration. NaN for every r
 * when there are fewer than two pairs; NaN cosines (zero vectors) are left out of a mean.
 */
export function mismatchedCosineMeans(icl: readonly Vec[], it: readonly Vec[]): number[] {
  if (icl.length !== it.length) throw new IclitError(`mismatchedCosineMeans: ${icl.length} ICL states but ${it.length} IT states`);
  const n = icl.length;
  if (n < 2) return Array.from({ length: n }, () => NaN);
  checkSameLength([...icl, ...it], 'mismatchedCosineMeans');
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    let sum = 0;
    let k = 0;
    for (let q = 0; q < n; q++) {
      if (q === r) continue;
      const s = cosine(icl[r], it[q]);
      if (Number.isNaN(s)) continue;
      sum += s;
      k++;
    }
    out.push(k > 0 ? sum / k : NaN);
  }
  return out;
}

/** The n × n Gram matrix of the column-centred rows of X (n vectors of C dimensions), row-major, in double precision. */
export function centredGram(x: readonly Vec[]): Float64Array {
  const n = x.length;
  const c = checkSameLength(x, 'centredGram');
  const mean = meanVector(x);
  const centred = x.map((v) => {
    const out = new Float64Array(c);
    for (let i = 0; i < c; i++) out[i] = v[i] - mean[i];
    return out;
  });
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      const a = centred[i];
      const b = centred[j];
      for (let k = 0; k < c; k++) s += a[k] * b[k];
      g[i * n + j] = s;
      g[j * n + i] = s;
    }
  return g;
}

/**
 * Linear CKA (Kornblith et al. 2019) between two sets of n paired states X and Y (rows = the same repeats), in the
 * Gram form that costs O(n²C) for n ≪ C: with K = X̃X̃ᵀ and L = ỸỸᵀ of the column-centred sets,
 * CKA = ⟨K, L⟩_F / (‖K‖_F ‖L‖_F) = ‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F). Invariant to orthogonal transforms and
 * isotropic scaling of either set. NaN when n < 2 or either set has no variance across repeats.
 */
export function linearCka(x: readonly Vec[], y: readonly Vec[]): number {
  if (x.length !== y.length) throw new IclitError(`linearCka: ${x.length} rows in X but ${y.length} in Y; rows must be paired`);
  if (x.length < 2) return NaN;
  // linear CKA is the cosine of the two centred Gram matrices (flattened); NaN when either is all zeros
  return Math.max(0, cosine(centredGram(x), centredGram(y)));
}

/**
 * SimAOU as Dai et al. (2023) compute it: the update cosine with each state L2-normalised first,
 * cos(icl/‖icl‖ − anchor/‖anchor‖, it/‖it‖ − anchor/‖anchor‖). Unlike updateCosine, a state's norm (which grows
 * with depth and differs between prompts) cannot dominate the update. NaN where a state or an update is all zeros.
 */
export function normalisedUpdateCosine(anchor: Vec, icl: Vec, it: Vec): number {
  const c = anchor.length;
  if (icl.length !== c || it.length !== c) throw new RangeError(`normalisedUpdateCosine: lengths differ (${c}, ${icl.length}, ${it.length})`);
  const norm = (v: Vec): number => {
    let s = 0;
    for (let i = 0; i < c; i++) s += v[i] * v[i];
    return Math.sqrt(s);
  };
  const na = norm(anchor);
  const ni = norm(icl);
  const nt = norm(it);
  if (na === 0 || ni === 0 || nt === 0) return NaN;
  const du = new Float64Array(c);
  const dv = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    const a = anchor[i] / na;
    du[i] = icl[i] / ni - a;
    dv[i] = it[i] / nt - a;
  }
  return cosine(du, dv);
}

/** Per-dimension mean and (population) standard deviation over a set of states, in double precision. */
export function dimensionMoments(vectors: readonly Vec[]): { mean: Float64Array; std: Float64Array } {
  const mean = meanVector(vectors);
  const c = mean.length;
  const std = new Float64Array(c);
  for (const v of vectors)
    for (let i = 0; i < c; i++) {
      const d = v[i] - mean[i];
      std[i] += d * d;
    }
  for (let i = 0; i < c; i++) std[i] = Math.sqrt(std[i] / vectors.length);
  return { mean, std };
}

/**
 * cos(z(a), z(b)) with z(v)_i = (v_i − mean_i) / std_i (Timkey & van Schijndel 2021): every dimension weighs the
 * same, so a few rogue dimensions cannot decide the cosine. Dimensions without variance (std 0) are left out.
 */
export function standardisedCosine(a: Vec, b: Vec, moments: { mean: Vec; std: Vec }): number {
  const { mean, std } = moments;
  const c = mean.length;
  if (a.length !== c || b.length !== c || std.length !== c) throw new RangeError(`standardisedCosine: lengths differ (${a.length}, ${b.length}, moments ${c})`);
  const x = new Float64Array(c);
  const y = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    if (!(std[i] > 0)) continue;
    x[i] = (a[i] - mean[i]) / std[i];
    y[i] = (b[i] - mean[i]) / std[i];
  }
  return cosine(x, y);
}

/**
 * The unbiased HSIC estimator (Song et al. 2012) of two n × n Gram matrices, row-major: with K̃, L̃ the Grams with
 * zeroed diagonals, [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1 / ((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3)). Needs n ≥ 4.
 */
export function unbiasedHsic(k: Float64Array, l: Float64Array, n: number): number {
  if (n < 4) throw new IclitError(`unbiasedHsic: needs at least 4 samples, got ${n}`);
  if (k.length !== n * n || l.length !== n * n) throw new IclitError(`unbiasedHsic: Gram matrices must be ${n}×${n}`);
  let trace = 0;
  let sumK = 0;
  let sumL = 0;
  let cross = 0; // 1ᵀ K̃ L̃ 1 = Σ_j (Σ_i K̃_ij)(Σ_q L̃_jq)
  const rowK = new Float64Array(n);
  const rowL = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const kv = k[i * n + j];
      const lv = l[i * n + j];
      trace += kv * lv; // tr(K̃L̃) = Σ_ij K̃_ij L̃_ji, both symmetric
      sumK += kv;
      sumL += lv;
      rowK[j] += kv;
      rowL[i] += lv;
    }
  for (let j = 0; j < n; j++) cross += rowK[j] * rowL[j];
  return (trace + (sumK * sumL) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * cross) / (n * (n - 3));
}

/**
 * Debiased linear CKA: linear CKA with the unbiased HSIC estimator in place of the biased one. Biased CKA between
 * unrelated sets is far above zero when n ≪ dimensions (Murphy et al. 2024: iclit's 30 repeats × thousands of
 * dimensions); the debiased one is ≈ 0 there. Can be slightly negative; NaN for n < 4 or a set without variance.
 */
export function debiasedLinearCka(x: readonly Vec[], y: readonly Vec[]): number {
  if (x.length !== y.length) throw new IclitError(`debiasedLinearCka: ${x.length} rows in X but ${y.length} in Y; rows must be paired`);
  const n = x.length;
  if (n < 4) return NaN;
  const k = centredGram(x);
  const l = centredGram(y);
  const kl = unbiasedHsic(k, l, n);
  const kk = unbiasedHsic(k, k, n);
  const ll = unbiasedHsic(l, l, n);
  if (!(kk > 0) || !(ll > 0)) return NaN;
  return kl / Math.sqrt(kk * ll);
}
