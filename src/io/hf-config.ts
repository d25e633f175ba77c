// Hugging Face config.json for LLaMA-family decoders, normalised into one typed config with explicit properties.
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { configFields, readJsonObject } from './json-file.js';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

/** Everything the decoder needs; architecture differences are properties here, never branches on model_type. */
export interface DecoderConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  rmsNormEps: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2; LLaMA with attention_bias). */
  qkvBias: boolean;
  /** o_proj carries a bias (LLaMA with attention_bias). */
  oBias: boolean;
  mlpBias: boolean;
  /** Keys attend to at most this many previous positions (Mistral), or null. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** Standard deviation of a fresh model's matrices and embeddings (HF `initializer_range`; the untrained control). */
  initializerRange: number;
}

type Fields = ReturnType<typeof configFields>;

// Per-model_type defaults and how HF's keys map onto the properties above (each key read typed: a wrong type is refused).
const FAMILIES: Record<string, { qkvBias: (f: Fields) => boolean; oBias: (f: Fields) => boolean; slidingWindow: (f: Fields) => number | null }> = {
  llama: { qkvBias: (f) => f.bool('attention_bias', false), oBias: (f) => f.bool('attention_bias', false), slidingWindow: () => null },
  mistral: { qkvBias: () => false, oBias: () => false, slidingWindow: (f) => f.optInt('sliding_window', 1) },
  qwen2: {
    qkvBias: () => true,
    oBias: () => false,
    slidingWindow: (f) => {
      const on = f.bool('use_sliding_window', false);
      const w = f.optInt('sliding_window', 1);
      return on ? w : null;
    },
  },
};

type Raw = Record<string, unknown>;

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES);

/** Reads and validates `dir/config.json`. */
export function readDecoderConfig(dir: string): DecoderConfig {
  const path = join(dir, 'config.json');
  const raw = readJsonObject(path, `is ${dir} a Hugging Face model folder?`);
  return parseDecoderConfig(raw as Raw, path);
}

export function parseDecoderConfig(c: Raw, source = 'config.json'): DecoderConfig {
  const modelType = c.model_type;
  if (typeof modelType !== 'string') throw new IclitError(`${source}: missing "model_type"`);
  const family = FAMILIES[modelType];
  if (!family) throw new IclitError(`${source}: model_type "${modelType}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  const fields = configFields(c, source);
  const { int, real, bool, optInt, str } = fields;
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) throw new IclitError(`${source}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  const headDim = c.head_dim == null ? hiddenSize / numHeads : int('head_dim');
  if (!Number.isInteger(headDim)) throw new IclitError(`${source}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and no head_dim is given`);
  if (headDim % 2 !== 0) throw new IclitError(`${source}: head_dim ${headDim} must be even for rotary embeddings`);
  const act = str('hidden_act', 'silu');
  if (act !== 'silu') throw new IclitError(`${source}: hidden_act "${act}" is not supported (only silu)`);
  const eosList = c.eos_token_id;
  if (Array.isArray(eosList) && !eosList.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new IclitError(`${source}: "eos_token_id" must be a token id, a list of token ids or null, got ${JSON.stringify(eosList)}`);
  }
  const eos = Array.isArray(eosList) ? ((eosList[0] as number | undefined) ?? null) : optInt('eos_token_id');
  return {
    modelType,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    ropeTheta: real('rope_theta', 10000),
    ropeScaling: parseRopeScaling(c.rope_scaling, source),
    rmsNormEps: real('rms_norm_eps', 1e-6),
    maxPositionEmbeddings: int('max_position_embeddings', 2048),
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    qkvBias: family.qkvBias(fields),
    oBias: family.oBias(fields),
    mlpBias: bool('mlp_bias', false),
    slidingWindow: family.slidingWindow(fields),
    bosTokenId: optInt('bos_token_id'),
    eosTokenId: eos,
    initializerRange: real('initializer_range', 0.02),
  };
}

function parseRopeScaling(v: unknown, source: string): RopeScaling | null {
  if (v == null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new IclitError(`${source}: "rope_scaling" must be an object or null, got ${JSON.stringify(v)}`);
  const r = v as Raw;
  const type = r.rope_type ?? r.type;
  const factor = r.factor;
  if (type === 'default') return null;
  if (typeof factor !== 'number' || !(factor > 0) || !Number.isFinite(factor)) throw new IclitError(`${source}: rope_scaling.factor must be a positive number, got ${JSON.stringify(factor)}`);
  if (type === 'linear') return { type: 'linear', factor };
  if (type === 'llama3') {
    const num = (k: string): number => {
      if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) throw new IclitError(`${source}: rope_scaling.${k} must be a number (required for llama3 scaling), got ${JSON.stringify(r[k])}`);
      return r[k] as number;
    };
    return {
      type: 'llama3',
      factor,
      lowFreqFactor: num('low_freq_factor'),
      highFreqFactor: num('high_freq_factor'),
      originalMaxPositionEmbeddings: num('original_max_position_embeddings'),
    };
  }
  throw new IclitError(`${source}: rope_scaling type "${String(type)}" is not implemented (supported: linear, llama3)`);
}

/** config.json text for a DecoderConfig (used by random checkpoints and the demo model). */
export function toHfConfig(c: DecoderConfig, extra: Raw = {}): Raw {
  const arch: Record<string, string> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' };
  return {
    architectures: [arch[c.modelType] ?? 'LlamaForCausalLM'],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsNormEps,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.modelType === 'llama' ? c.qkvBias : undefined,
    mlp_bias: c.mlpBias || undefined,
    hidden_act: 'silu',
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    initializer_range: c.initializerRange,
    torch_dtype: 'float32',
    ...extra,
  };
}
