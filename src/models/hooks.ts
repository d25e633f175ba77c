// What a forward pass captures: HF hidden-state indices, TransformerLens-style hook names, and the output shape.
import type { Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';

/**
 * TransformerLens-like name of HF hidden state `i` of a model with `n` layers: index 0 is
 * `blocks.0.hook_resid_pre` (the embeddings), index i in 1..n-1 is `blocks.{i-1}.hook_resid_post`, and index n is
 * `ln_final.hook_normalized` (HF's last hidden state is taken after the final norm).
 */
export function hookName(i: number, n: number): string {
  if (i === 0) return 'blocks.0.hook_resid_pre';
  if (i === n) return 'ln_final.hook_normalized';
  return `blocks.${i - 1}.hook_resid_post`;
}

/** Every hook point of a model with `n` layers (HF hidden states 0..n), in order: what a forward's `hooks` may name. */
export function hookPoints(n: number): string[] {
  return Array.from({ length: n + 1 }, (_, i) => hookName(i, n));
}

/** Refuses a hook name that is not a hook point of the model (a misspelt hook would otherwise be silently ignored). */
export function checkHookNames(hooks: Record<string, unknown> | undefined, n: number): void {
  if (!hooks) return;
  const known = hookPoints(n);
  for (const name of Object.keys(hooks)) {
    if (!known.includes(name)) throw new IclitError(`unknown hook '${name}': this model's hook points are ${known.join(', ')}`);
  }
}

/** A hook sees the activation [B, T, C] (padded positions are zero); returning a tensor replaces it (an intervention). */
export type Hook = (activation: Tensor) => Tensor | void;

export interface CaptureRequest {
  /** HF hidden-state indices to return (negatives count from the end: -1 = after the final norm). */
  hiddenStates?: number[];
  /** 'last' = each sequence's last real token [B, C]; 'all' = every position [B, T, C]. */
  positions?: 'last' | 'all';
  /** Compute LM-head logits (float32, on the model's device) at `logitsPositions` (default: `positions`). */
  logits?: boolean;
  logitsPositions?: 'last' | 'all';
  /**
   * Logits only at these packed token rows (row offset_b + t is token t of sequence b; offsets are the running sums
   * of the lengths): [rows, V]. Losses use it so that the LM head runs only where a target is counted.
   */
  logitRows?: readonly number[];
  /** Hooks by name (see hookName). */
  hooks?: Record<string, Hook>;
  /**
   * Resume at HF hidden-state index `from.index` (0..n−1) with the residual stream `from.hidden`, packed [N, C]
   * (every real token of the batch in order, as unpadRows gives it), instead of the embeddings: the blocks before it
   * do not run, so runs that share a prefix compute it once (patching). Hidden states and hooks before it are refused.
   */
  from?: { index: number; hidden: Tensor };
  /**
   * Return each block's attention weights of every sequence's last token over its own positions (ModelOutput.
   * attention); every block runs. Only the last query's row is formed, one layer at a time: [H, T] per sequence.
   */
  lastTokenAttention?: boolean;
}

export interface ModelOutput {
  /** float32 hidden states on the host (CPU) by HF index, [B, C] or [B, T, C] (padded positions zero). */
  hidden: Map<number, Tensor>;
  /** float32 logits on the model's device when asked for: [B, V], [B, T, V] (padding zero) or [rows, V] (logitRows). */
  logits?: Tensor;
  /** Real (unpadded) length of each sequence. */
  lengths: number[];
  /** With lastTokenAttention: by block index 0..n−1, float32 on the host, [B, H, T] (zero past a sequence's end; rows sum to 1). */
  attention?: Map<number, Tensor>;
}
