// A randomly initialised LLaMA-family decoder (the untrained control): Hugging Face's initialisation of the same config, seeded, never saved.
import { manualSeed, ones, randn, tidy, zeros, type Tensor } from '../torch/index.js';
import type { DecoderConfig } from '../io/index.js';
import { LlamaModel, type ComputeDType } from './llama.js';

/** FNV-1a of a weight's name: each tensor gets its own stream, so its values never depend on the order of the others. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The libtorch seed of one weight of the untrained model of `seed` (32 bits of the seed mixed with the name). */
export function untrainedWeightSeed(seed: number, name: string): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x85ebca6b) ^ nameHash(name)) >>> 0;
}

/**
 * The weight getter of an untrained model, as LlamaPreTrainedModel._init_weights initialises one: every matrix
 * (linear weights, the embedding, an untied lm_head) normal(0, config.initializerRange), linear biases 0, RMSNorm
 * weights 1 (every 1-D weight of the architecture is a bias or a norm). Drawn in float32 on the CPU from libtorch's
 * generator seeded per weight (untrainedWeightSeed), so a seed gives the same weights on every device, then cast to
 * `dtype` and moved to `device`. HF also zeroes the embedding row of pad_token_id; the config here names no pad token,
 * so no row is zeroed.
 */
export function untrainedWeights(config: DecoderConfig, seed: number, dtype: ComputeDType, device = 'cpu'): (name: string, shape: number[]) => Tensor {
  const std = config.initializerRange;
  return (name, shape) =>
    tidy(() => {
      if (shape.length === 1) return (name.endsWith('.bias') ? zeros(shape, dtype) : ones(shape, dtype)).toDevice(device); // [C]
      manualSeed(untrainedWeightSeed(seed, name));
      return randn(shape, 'float32', 'cpu').mul(std).to(dtype).toDevice(device); // [out, in] or [V, C]
    });
}

/** A model of `config`'s shapes with untrained weights (untrainedWeights) from `seed`: same architecture, nothing learned. */
export function untrainedLlama(config: DecoderConfig, seed: number, dtype: ComputeDType = 'float32', device = 'cpu'): LlamaModel {
  return new LlamaModel(config, untrainedWeights(config, seed, dtype, device), dtype, device);
}
