// Next-token distributions compared: log-softmax, KL and Jensen–Shannon divergences, top-1 and the mass on chosen tokens (float64).
import { IclitError } from '../util/errors.js';

type Vec = ArrayLike<number>;

function checkPair(p: Vec, q: Vec, where: string): void {
  if (p.length !== q.length) throw new IclitError(`${where}: distributions differ in length (${p.length} vs ${q.length})`);
  if (p.length === 0) throw new IclitError(`${where}: empty distributions`);
}

/**
 * log softmax(logits) in double precision, shifted by the maximum so large logits do not overflow. Throws on
 * non-finite logits: a NaN here would otherwise make every divergence NaN without saying where it came from.
 */
export function logSoftmax(logits: Vec): Float64Array {
  if (logits.length === 0) throw new IclitError('logSoftmax: empty logits');
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (!Number.isFinite(v)) throw new IclitError(`logSoftmax: logit ${i} is ${v}`);
    if (v > max) max = v;
  }
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  // subtract the shift before the log-sum so large logits keep their precision (not logits − (max + log Σ))
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - max - logSum;
  return out;
}

/**
 * KL(p ‖ q) = Σ p (log p − log q) in nats, from log-probabilities (e.g. logSoftmax of two runs' logits). Terms with
 * p = 0 contribute 0; a q = 0 where p > 0 gives Infinity, as the definition does.
 */
export function klDivergence(logP: Vec, logQ: Vec): number {
  checkPair(logP, logQ, 'klDivergence');
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const lp = logP[i];
    if (lp === -Infinity) continue;
    kl += Math.exp(lp) * (lp - logQ[i]);
  }
  // rounding can leave a hair below zero for identical distributions
  return Math.max(0, kl);
}

/**
 * Jensen–Shannon divergence ½ KL(p ‖ m) + ½ KL(q ‖ m), m = ½(p + q), in nats: symmetric, finite, in [0, ln 2].
 */
export function jensenShannon(logP: Vec, logQ: Vec): number {
  checkPair(logP, logQ, 'jensenShannon');
  let js = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    const q = Math.exp(logQ[i]);
    const m = 0.5 * (p + q);
    if (m === 0) continue;
    const logM = Math.log(m);
    if (p > 0) js += 0.5 * p * (logP[i] - logM);
    if (q > 0) js += 0.5 * q * (logQ[i] - logM);
  }
  return Math.min(Math.LN2, Math.max(0, js));
}

/** Index of the largest entry (the first one on ties): the greedy next token. */
export function argmax(values: Vec): number {
  if (values.length === 0) throw new IclitError('argmax: empty vector');
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Σ p over the given token ids (e.g. the first token of each label word), from log-probabilities. */
export function probabilityMass(logP: Vec, ids: readonly number[]): number {
  let mass = 0;
  for (const id of new Set(ids)) {
    if (!Number.isInteger(id) || id < 0 || id >= logP.length) throw new IclitError(`probabilityMass: token id ${id} is outside the vocabulary of ${logP.length}`);
    mass += Math.exp(logP[id]);
  }
  return mass;
}

/**
 * How much of the way from the source output to the target output a patch closes:
 * 1 − JS(patched, target) / JS(source, target), from log-probabilities. 1 when the patched output is the target's,
 * 0 when it is still the source's; NaN when source and target already agree (no gap to close).
 */
export function gapClosed(logSource: Vec, logPatched: Vec, logTarget: Vec): number {
  const gap = jensenShannon(logSource, logTarget);
  if (gap === 0) return NaN;
  return 1 - jensenShannon(logPatched, logTarget) / gap;
}
