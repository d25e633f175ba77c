// Which hidden states to measure: the one parser of 'all' / '0,4,-1' and its resolution against a model (HF indices).
import { IclitError } from '../util/errors.js';

/** 'all', or Hugging Face hidden-state indices (0 = embeddings, n_layers = after the final norm; negatives count from the end). */
export type HiddenStateSpec = 'all' | number[];

/** Parses 'all', a comma string ('0,4,-1') or a list of integers; `source` names the flag or key in messages. */
export function parseHiddenStates(v: unknown, source: string): HiddenStateSpec {
  if (v === 'all') return 'all';
  const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(list) || list.length === 0) throw new IclitError(`${source} must be 'all' or a list of hidden-state indices, got ${JSON.stringify(v)}`);
  const out = list.map((x) => (typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : x));
  for (const x of out) {
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) throw new IclitError(`${source}: ${JSON.stringify(x)} is not a hidden-state index (0, 1, …, or -1 for the last)`);
  }
  return [...new Set(out as number[])];
}

/** The indices of `spec` for a model with `numHiddenStates` states, negatives resolved, duplicates dropped, order kept. */
export function resolveHiddenStates(spec: HiddenStateSpec, numHiddenStates: number): number[] {
  if (spec === 'all') return [...Array(numHiddenStates).keys()];
  const out: number[] = [];
  for (const i of spec) {
    const r = i < 0 ? numHiddenStates + i : i;
    if (!Number.isInteger(r) || r < 0 || r >= numHiddenStates) {
      throw new IclitError(`hidden state ${i} is out of range for a model with ${numHiddenStates} hidden states (0..${numHiddenStates - 1}, or -1 for the last)`);
    }
    if (!out.includes(r)) out.push(r);
  }
  return out;
}
