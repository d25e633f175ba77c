// sentence-transformers pooling: the Pooling module's config and the pooled (and normalised) sentence vector.
import { join } from 'node:path';
import { arange, cat, tidy, type Tensor } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { readJson } from './sentence-modules.js';

/** The pooling modes of sentence-transformers' Pooling module; enabled modes are concatenated in this order. */
export const POOLING_MODES = ['cls_token', 'max_tokens', 'mean_tokens', 'mean_sqrt_len_tokens', 'weightedmean_tokens', 'lasttoken'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export interface PoolingConfig {
  /** The enabled modes, in POOLING_MODES order (at least one). */
  modes: PoolingMode[];
  /** word_embedding_dimension: the transformer's hidden size. */
  dimension: number;
}

export function parsePoolingConfig(raw: unknown, source: string): PoolingConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new IclitError(`${source}: expected a JSON object`);
  const c = raw as Record<string, unknown>;
  const dim = c.word_embedding_dimension;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim <= 0) throw new IclitError(`${source}: "word_embedding_dimension" must be a positive integer, got ${JSON.stringify(dim)}`);
  for (const [k, v] of Object.entries(c)) {
    if (!k.startsWith('pooling_mode_')) continue;
    if (typeof v !== 'boolean') throw new IclitError(`${source}: "${k}" must be true or false, got ${JSON.stringify(v)}`);
    if (v && !(POOLING_MODES as readonly string[]).includes(k.slice('pooling_mode_'.length))) {
      throw new IclitError(`${source}: "${k}" is not a supported pooling mode (supported: ${POOLING_MODES.map((m) => `pooling_mode_${m}`).join(', ')})`);
    }
  }
  const modes = POOLING_MODES.filter((m) => c[`pooling_mode_${m}`] === true);
  if (modes.length === 0) throw new IclitError(`${source}: no pooling_mode_* flag is true`);
  return { modes, dimension: dim };
}

export function readPoolingConfig(poolingDir: string): PoolingConfig {
  const path = join(poolingDir, 'config.json');
  return parsePoolingConfig(readJson(path, 'the Pooling module listed in modules.json needs its config.json'), path);
}

/**
 * sentence-transformers pooling of token embeddings [B, T, C] under a 0/1 float mask [B, T] → [B, C × modes]:
 * CLS = position 0; max over real tokens (padding set to -1e9 first); mean = Σ mask·x / max(Σ mask, 1e-9);
 * mean_sqrt_len = Σ mask·x / √Σ mask; weightedmean weights position t by t+1; lasttoken = the last real token.
 */
export function pool(tokens: Tensor, mask: Tensor, modes: readonly PoolingMode[]): Tensor {
  return tidy(() => {
    const [B, T, C] = tokens.shape;
    const m = mask.to(tokens.dtype).unsqueeze(-1); // [B, T, 1]
    const parts: Tensor[] = [];
    const sum = tokens.mul(m).sum(1); // [B, C]
    const count = m.sum(1).clamp(1e-9); // [B, 1]
    for (const mode of modes) {
      if (mode === 'cls_token') parts.push(tokens.select(1, 0)); // [B, C]
      if (mode === 'max_tokens') parts.push(tokens.maskedFill(m.eq(0), -1e9).amax(1)); // [B, C]
      if (mode === 'mean_tokens') parts.push(sum.div(count)); // [B, C]
      if (mode === 'mean_sqrt_len_tokens') parts.push(sum.div(count.sqrt())); // [B, C]
      if (mode === 'weightedmean_tokens') {
        const w = arange(1, T + 1, 1, 'float32').to(tokens.dtype).reshape([1, T, 1]).mul(m); // [B, T, 1]
        parts.push(tokens.mul(w).sum(1).div(w.sum(1).clamp(1e-9))); // [B, C]
      }
      if (mode === 'lasttoken') {
        const last = arange(0, T, 1, 'float32').reshape([1, T]).mul(mask).argmax(1); // [B]
        parts.push(tokens.gather(1, last.reshape([B, 1, 1]).expand([B, 1, C])).squeeze(1)); // [B, C]
      }
    }
    return parts.length === 1 ? parts[0] : cat(parts, 1); // [B, C × modes]
  });
}

/** Rows divided by their L2 norm (at least 1e-12), as torch.nn.functional.normalize. */
export function l2Normalize(x: Tensor): Tensor {
  return tidy(() => x.div(x.square().sum(-1, true).sqrt().clamp(1e-12))); // [B, D]
}

