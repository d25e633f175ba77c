// Activation patching at the last token: a run's residual state at one layer replaced by another run's, and the output it gives.
import { noGrad, tensor, where, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { hookName, type Hook } from './hooks.js';
import type { LlamaModel } from './llama.js';

/**
 * Next-token logits at each sequence's last token, [B, V] float32, when the residual stream's state of that token
 * at HF hidden-state index `index` (0 = embeddings … n−1 = after block n−2) is replaced by `state` [B, C] — e.g. the
 * state the same layer held in another run (ICL, or the tuned model). Every later block then reads the patched
 * state; earlier positions are untouched. Index n (after the final norm) is not a patch point: it would only
 * restate the other run's output.
 */
export function patchedLastTokenLogits(model: LlamaModel, batch: number[][], index: number, state: Tensor): Tensor {
  return patchedLastTokenLogitsAt(model, batch, batch.map(() => index), state);
}

/**
 * The same with a patch point per sequence: sequence b's last-token state at hidden-state index `indices[b]` is
 * replaced by row b of `state` [B, C]. One forward serves many patch points (e.g. every layer of one prompt as the
 * rows of one batch): each hook point replaces only the rows patched there. With `from` (every row patched at the
 * same index l), the forward resumes at l from the unpatched runs' states there, packed [N, C], and runs only the
 * blocks after it.
 */
export function patchedLastTokenLogitsAt(model: LlamaModel, batch: number[][], indices: readonly number[], state: Tensor, from?: Tensor): Tensor {
  const n = model.config.numLayers;
  const B = batch.length;
  if (indices.length !== B) throw new IclitError(`patching: ${indices.length} patch points for ${B} sequences`);
  for (const index of indices) if (!Number.isInteger(index) || index < 0 || index >= n) throw new IclitError(`patching: hidden-state index ${index} is outside 0..${n - 1}`);
  if (state.shape.length !== 2 || state.shape[0] !== B || state.shape[1] !== model.config.hiddenSize) {
    throw new IclitError(`patching: the patched state is [${state.shape.join(', ')}]; expected [${B}, ${model.config.hiddenSize}]`);
  }
  if (from && indices.some((i) => i !== indices[0])) throw new IclitError('patching: a resumed forward patches every row at the index it resumes at');
  const lengths = batch.map((s) => s.length);
  return noGrad(() => {
    const hookAt = (index: number): Hook => (activation: Tensor): Tensor => {
      const T = activation.shape[1]; // activation [B, T, C], padded
      // only the last real token of the rows patched at this index
      const mask = lengths.flatMap((L, b) => Array.from({ length: T }, (_, t) => (t === L - 1 && indices[b] === index ? 1 : 0)));
      const isPatched = tensor(mask, [B, T, 1], 'bool', activation.device); // [B, T, 1]
      const patch = state.to(activation.dtype).toDevice(activation.device).unsqueeze(1).expand([B, T, activation.shape[2]]); // [B, T, C]
      return where(isPatched, patch, activation); // [B, T, C]
    };
    const hooks = Object.fromEntries([...new Set(indices)].map((i) => [hookName(i, n), hookAt(i)]));
    const out = model.forward(batch, { logits: true, logitsPositions: 'last', hooks, ...(from ? { from: { index: indices[0], hidden: from } } : {}) });
    return out.logits!; // [B, V]
  });
}
