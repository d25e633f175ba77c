// Next-token cross-entropy: per-token losses, and the training loss summed over sequence groups (one per adapter).
import { crossEntropy, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import type { LlamaModel } from '../models/index.js';
import { setLoraEnabled, type LoraAdapters } from '../lora/index.js';
import { IclitError } from '../util/errors.js';

/** One training sequence: token ids and, optionally, which tokens count as targets (1) or not (0), same length. */
export interface TrainExample {
  ids: number[];
  lossMask?: number[];
}

/**
 * Target of position t is ids[t+1], counted when the example has no mask or mask[t+1] is 1 (HF labels = ids with
 * -100 where the mask is 0, shifted by one inside the model).
 */
function targetsOf(ex: TrainExample, T: number): { targets: number[]; count: number } {
  const targets = new Array<number>(T - 1).fill(-100);
  let count = 0;
  for (let t = 0; t + 1 < ex.ids.length; t++) {
    if (ex.lossMask && !ex.lossMask[t + 1]) continue;
    targets[t] = ex.ids[t + 1];
    count++;
  }
  return { targets, count };
}

export interface GroupLoss {
  /** Σ over groups of each group's mean target cross-entropy: its gradient w.r.t. adapter g is group g's own. */
  total: Tensor;
  /** Each group's mean loss. */
  perGroup: number[];
  /** Target tokens counted per group. */
  targets: number[];
  /** Tokens run through the model. */
  tokens: number;
}

/**
 * The training loss of `rows` split into `groups` equal contiguous groups (group g = adapter g): for each group the
 * mean next-token cross-entropy over all its counted targets (as HF's loss over a padded batch), summed over groups.
 * A sum rather than a mean over groups, so that each adapter's gradient equals the one it would get trained alone.
 */
export function groupedLoss(model: LlamaModel, rows: TrainExample[], groups = 1): GroupLoss {
  if (rows.length % groups !== 0) throw new IclitError(`${rows.length} sequences cannot be split into ${groups} equal groups`);
  const k = rows.length / groups;
  const { logits, lengths } = model.forward(rows.map((r) => r.ids), { logits: true, logitsPositions: 'all' });
  return tidy(() => {
    const [R, T, V] = logits!.shape; // [R, T, V]
    if (T < 2) throw new IclitError('every training sequence needs at least 2 tokens (one target)');
    const flat: number[] = [];
    const weights: number[] = [];
    const counts = new Array<number>(groups).fill(0);
    const per = rows.map((r) => targetsOf(r, T));
    per.forEach((p, i) => (counts[Math.floor(i / k)] += p.count));
    counts.forEach((c, g) => {
      if (c === 0) throw new IclitError(`training group ${g} has no target tokens (sequences of one token, or a loss_mask of zeros)`);
    });
    per.forEach((p, i) => {
      const c = counts[Math.floor(i / k)];
      for (const t of p.targets) {
        flat.push(t);
        weights.push(t === -100 ? 0 : 1 / c);
      }
    });
    const shifted = logits!.slice(1, 0, T - 1).reshape([R * (T - 1), V]); // [R·(T-1), V]
    const ce = crossEntropy(shifted, tensor(flat, [R * (T - 1)], 'int64'), 'none'); // [R·(T-1)]
    const weighted = ce.mul(tensor(weights, [R * (T - 1)])); // [R·(T-1)]
    const perGroupT = weighted.reshape([groups, k * (T - 1)]).sum(1); // [G]
    const perGroup = noGrad(() => perGroupT.detach().toArray());
    logits!.dispose();
    return { total: perGroupT.sum(), perGroup, targets: counts, tokens: lengths.reduce((a, b) => a + b, 0) };
  });
}

/** Cross-entropy of every target token ids[t+1] given ids[≤t] (no autograd), as plain numbers (length T−1). */
export function perTokenLoss(model: LlamaModel, ids: number[]): number[] {
  if (ids.length < 2) throw new IclitError('per-token loss needs at least 2 tokens');
  return noGrad(() =>
    tidy(() => {
      const { logits } = model.forward([ids], { logits: true, logitsPositions: 'all' });
      const T = ids.length;
      const l = logits!.select(0, 0).slice(0, 0, T - 1); // [T-1, V]
      return crossEntropy(l, tensor(ids.slice(1), [T - 1], 'int64'), 'none').toArray();
    }),
  );
}

/** Mean of the per-token losses, over all targets or over those whose mask (aligned with ids) is 1. */
export function meanLoss(perToken: number[], mask?: number[]): number {
  let s = 0;
  let n = 0;
  perToken.forEach((l, t) => {
    if (mask && !mask[t + 1]) return;
    s += l;
    n++;
  });
  if (n === 0) throw new IclitError('no target token is selected by the mask');
  return s / n;
}

/**
 * The loss decrease base − tuned per token: positive where tuning made the token more likely. The one sign
 * convention of the project (the study's per-token loss analysis, `iclit loss`, the records' lossDecrease).
 */
export function lossDecrease(base: number[], tuned: number[]): number[] {
  if (base.length !== tuned.length) throw new IclitError(`per-token losses differ in length (${base.length} vs ${tuned.length})`);
  return base.map((v, i) => v - tuned[i]);
}

/** Per-token loss of `ids` under the base model (LoRA switched off) and the tuned model, and the decrease base − tuned. */
export function compareLoss(model: LlamaModel, lora: LoraAdapters, ids: number[]): { base: number[]; tuned: number[]; decrease: number[] } {
  setLoraEnabled(lora, false);
  let base: number[];
  try {
    base = perTokenLoss(model, ids);
  } finally {
    setLoraEnabled(lora, true);
  }
  const tuned = perTokenLoss(model, ids);
  return { base, tuned, decrease: lossDecrease(base, tuned) };
}
