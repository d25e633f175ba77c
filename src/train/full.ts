// Full-parameter training: a LlamaModel whose every weight is an owned, trainable leaf, and writing it back out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointWeights, readDecoderConfig, tensorBytes, toHfConfig, writeSafetensors, type DecoderConfig, type TensorBytes } from '../io/index.js';
import { LlamaModel, type ComputeDType } from '../models/index.js';
import { keep, tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import type { Params } from './optim.js';

/**
 * Loads `dir` with every weight copied into its own memory as a leaf that requires grad (float32 by default), and
 * returns the model with those leaves by HF weight name (tied embeddings appear once, as the embedding).
 */
export function trainableModel(dir: string, opts: { dtype?: ComputeDType } = {}): { model: LlamaModel; params: Params } {
  const dtype = opts.dtype ?? 'float32';
  const config = readDecoderConfig(dir);
  const weights = CheckpointWeights.open(dir);
  const params: Params = new Map();
  try {
    const model = new LlamaModel(
      config,
      (name, shape) => {
        const t = keep(tidy(() => weights.get(name, shape, dtype).cloneAs(dtype).contiguous()));
        t.requiresGrad_();
        params.set(name, t);
        return t;
      },
      dtype,
    );
    return { model, params };
  } finally {
    weights.close();
  }
}

/** Writes trained weights as a Hugging Face folder (config.json + model.safetensors, float32). */
export function saveTrainedModel(dir: string, config: DecoderConfig, params: Params): void {
  if (params.size === 0) throw new IclitError('no weights to save');
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, TensorBytes>();
  tidy(() => {
    for (const [name, p] of params) tensors.set(name, tensorBytes(p.detach().to('float32').contiguous()));
  });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(config, { torch_dtype: 'float32' }), null, 2));
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}

/** Number of scalar parameters. */
export function paramCount(params: Params): number {
  let n = 0;
  for (const p of params.values()) n += p.numel;
  return n;
}
