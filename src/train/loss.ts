// Next-token cross-entropy: per-token losses, and the training loss summed over sequence groups (one per adapter).
import { crossEntropy, noGrad, tensor, tidy, tidyNoGrad, type Tensor } from '../torch/index.js';
import type { LlamaModel } from '../models/index.js';
import type { LoraAdapters } from '../lora/index.js';
import { IclitError } from '../util/errors.js';

/** One training sequence: token ids and, optionally, which tokens count as targets (1) or not (0), same length. */
export interface TrainExample {
  ids: number[];
  lossMask?: number[];
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
 * Target of token t is ids[t+1], counted when the example has no mask or mask[t+1] is 1 (HF labels = ids with -100
 * where the mask is 0, shifted by one inside the model). The LM head runs only at the counted tokens.
 */
export function groupedLoss(model: LlamaModel, rows: TrainExample[], groups = 1): GroupLoss {
  if (rows.length % groups !== 0) throw new IclitError(`${rows.length} sequences cannot be split into ${groups} equal groups`);
  if (rows.some((r) => r.ids.length < 2)) throw new IclitError('every training sequence needs at least 2 tokens (one target)');
  const k = rows.length / groups;
  const logitRows: number[] = [];
  const targets: number[] = [];
  const groupOf: number[] = [];
  const counts = new Array<number>(groups).fill(0);
  let offset = 0;
  rows.forEach((ex, i) => {
    const g = Math.floor(i / k);
    for (let t = 0; t + 1 < ex.ids.length; t++) {
      if (ex.lossMask && !ex.lossMask[t + 1]) continue;
      logitRows.push(offset + t);
      targets.push(ex.ids[t + 1]);
      groupOf.push(g);
      counts[g]++;
    }
    offset += ex.ids.length;
  });
  counts.forEach((c, g) => {
    if (c === 0) throw new IclitError(`training group ${g} has no target tokens (sequences of one token, or a loss_mask of zeros)`);
  });
  return tidy(() => {
    const { logits } = model.forward(rows.map((r) => r.ids), { logitRows }); // [M, V]
    const M = targets.length;
    const device = logits!.device;
    const ce = crossEntropy(logits!, tensor(targets, [M], 'int64', device), 'none'); // [M]
    // weights[g, m] = 1/count_g where target m belongs to group g: one matmul sums every group's mean
    const weights = new Float32Array(groups * M);
    groupOf.forEach((g, m) => (weights[g * M + m] = 1 / counts[g]));
    const perGroupT = tensor(weights, [groups, M], 'float32', device).matmul(ce.unsqueeze(1)).squeeze(1); // [G]
    const perGroup = noGrad(() => perGroupT.detach().toArray());
    return { total: perGroupT.sum(), perGroup, targets: counts, tokens: offset };
  });
}

/**
 * Per-token cross-entropy of each text in one padded forward (no autograd): entry t of text b predicts
 * texts[b][t + 1], so n ids give n − 1 losses, and loss t belongs to token t + 1 (what a prompt part's loss counts).
 */
export function perTokenLosses(model: LlamaModel, texts: number[][]): number[][] {
  if (texts.some((ids) => ids.length < 2)) throw new IclitError('per-token loss needs texts of at least 2 tokens');
  return tidyNoGrad(() => {
    const { logits } = model.forward(texts, { logits: true, logitsPositions: 'all' }); // [B, T, V]
    const [B, T, V] = logits!.shape;
    const targets: number[] = [];
    for (const ids of texts) for (let t = 0; t < T - 1; t++) targets.push(t + 1 < ids.length ? ids[t + 1] : IGNORE_INDEX);
    const ce = crossEntropy(logits!.slice(1, 0, T - 1).reshape([B * (T - 1), V]), tensor(targets, [B * (T - 1)], 'int64', logits!.device), 'none').toArray(); // [B·(T-1)]
    return texts.map((ids, b) => ce.slice(b * (T - 1), b * (T - 1) + ids.length - 1));
  });
}

/** PyTorch's cross_entropy ignore_index (HF's label for padding): a padded position's target, counted as loss 0. */
const IGNORE_INDEX = -100;

/** Cross-entropy of every target token ids[t+1] given ids[≤t] (no autograd), as plain numbers (length T−1). */
export function perTokenLoss(model: LlamaModel, ids: number[]): number[] {
  return perTokenLosses(model, [ids])[0];
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
 * The loss decrease base − tuned per token: positive where tuning made the token more likely. The one definition of
 * the project: `iclit loss` prints it, and the records' lossDecrease (src/experiments/measures.ts
 * `lossDecreaseByPart`) is its mean over a prompt part's tokens.
 */
export function lossDecrease(base: number[], tuned: number[]): number[] {
  if (base.length !== tuned.length) throw new IclitError(`per-token losses differ in length (${base.length} vs ${tuned.length})`);
  return base.map((v, i) => v - tuned[i]);
}

/** Per-token loss of `ids` under the base model and through the adapters, and the decrease base − tuned. */
export function compareLoss(model: LlamaModel, lora: LoraAdapters, ids: number[]): { base: number[]; tuned: number[]; decrease: number[] } {
  const base = perTokenLoss(model, ids);
  const tuned = lora.apply(() => perTokenLoss(model, ids));
  return { base, tuned, decrease: lossDecrease(base, tuned) };
}
