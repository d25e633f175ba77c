// Activation patching at the last token: a run's residual state at one layer replaced by another run's, and the output it gives.
import { noGrad, tensor, where, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { hookName } from './hooks.js';
import type { LlamaModel } from './llama.js';

/**
 * Next-token logits at each sequence's last token, [B, V] float32, when the residual stream's state of that token
 * at HF hidden-state index `index` (0 = embeddings … n−1 = after block n−2) is replaced by `state` [B, C] — e.g. the
 * state the same layer held in another run (ICL, or the tuned model). Every later block then reads the patched
 * state; earlier positions are untouched. Index n (after the final norm) is not a patch point: it would only
 * restate the other run's output.
 */
export function patchedLastTokenLogits(model: LlamaModel, batch: number[][], index: number, state: Tensor): Tensor {
  const n = model.config.numLayers;
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new IclitError(`patching: hidden-state index ${index} is outside 0..${n - 1}`);
  const B = batch.length;
  if (state.shape.length !== 2 || state.shape[0] !== B || state.shape[1] !== model.config.hiddenSize) {
    throw new IclitError(`patching: the patched state is [${state.shape.join(', ')}]; expected [${B}, ${model.config.hiddenSize}]`);
  }
  const lengths = batch.map((s) => s.length);
  return noGrad(() => {
    const hook = (activation: Tensor): Tensor => {
      const T = activation.shape[1]; // activation [B, T, C], padded
      const isLast = tensor(lengths.flatMap((L) => Array.from({ length: T }, (_, t) => (t === L - 1 ? 1 : 0))), [B, T, 1], 'bool', activation.device); // [B, T, 1]
      const patch = state.to(activation.dtype).toDevice(activation.device).unsqueeze(1).expand([B, T, activation.shape[2]]); // [B, T, C]
      return where(isLast, patch, activation); // [B, T, C]
    };
    const out = model.forward(batch, { logits: true, logitsPositions: 'last', hooks: { [hookName(index, n)]: hook } });
    return out.logits!; // [B, V]
  });
}
