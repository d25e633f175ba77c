// Hugging Face config.json of BERT encoders (typed, validated), the encoder's HF weight names and shapes, and seeded random BERT checkpoints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { configFields, readJsonObject } from './json-file.js';
import { seededRandom } from '../util/random.js';
import { writeSafetensors, type TensorBytes } from './safetensors.js';

/** The feed-forward activation: 'gelu' is the exact erf form (HF "gelu"), 'gelu_tanh' the tanh approximation. */
export type EncoderActivation = 'gelu' | 'gelu_tanh' | 'relu';

/** Everything the BERT encoder needs. */
export interface EncoderConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  maxPositionEmbeddings: number;
  /** Rows of the token-type (segment) embedding; 0 when the checkpoint has none. */
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: EncoderActivation;
  padTokenId: number | null;
}

type Raw = Record<string, unknown>;

export const SUPPORTED_ENCODER_TYPES = ['bert'];

// HF's hidden_act names → the activation computed (gelu_new and gelu_pytorch_tanh are both the tanh approximation).
const ACTIVATIONS: Record<string, EncoderActivation> = { gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', relu: 'relu' };

/** Reads and validates `dir/config.json` of a BERT encoder. */
export function readEncoderConfig(dir: string): EncoderConfig {
  const path = join(dir, 'config.json');
  const raw = readJsonObject(path, `is ${dir} a Hugging Face encoder folder?`);
  return parseEncoderConfig(raw as Raw, path);
}

export function parseEncoderConfig(c: Raw, source = 'config.json'): EncoderConfig {
  const modelType = c.model_type;
  if (typeof modelType !== 'string') throw new IclitError(`${source}: missing "model_type"`);
  if (!SUPPORTED_ENCODER_TYPES.includes(modelType)) {
    throw new IclitError(`${source}: model_type "${modelType}" is not a supported encoder (supported: ${SUPPORTED_ENCODER_TYPES.join(', ')})`);
  }
  const { int, real, bool, optInt } = configFields(c, source);
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  if (hiddenSize % numHeads !== 0) throw new IclitError(`${source}: hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads})`);
  const eps = real('layer_norm_eps', 1e-12);
  const act = c.hidden_act ?? 'gelu';
  const hiddenAct = typeof act === 'string' ? ACTIVATIONS[act] : undefined;
  if (!hiddenAct) throw new IclitError(`${source}: hidden_act ${JSON.stringify(act)} is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  const posType = c.position_embedding_type ?? 'absolute';
  if (posType !== 'absolute') throw new IclitError(`${source}: position_embedding_type ${JSON.stringify(posType)} is not supported (only absolute)`);
  if (bool('is_decoder', false) || bool('add_cross_attention', false)) throw new IclitError(`${source}: is_decoder / add_cross_attention are not supported (encoder only)`);
  return {
    modelType,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    headDim: hiddenSize / numHeads,
    maxPositionEmbeddings: int('max_position_embeddings', 512),
    typeVocabSize: int('type_vocab_size', 2, 0),
    layerNormEps: eps,
    hiddenAct,
    padTokenId: optInt('pad_token_id'),
  };
}

/** config.json content for an EncoderConfig (random checkpoints, tests, benchmarks). */
export function toHfEncoderConfig(c: EncoderConfig, extra: Raw = {}): Raw {
  const act = Object.entries(ACTIVATIONS).find(([, v]) => v === c.hiddenAct)![0];
  return {
    architectures: ['BertModel'],
    model_type: c.modelType,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    hidden_act: act,
    max_position_embeddings: c.maxPositionEmbeddings,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    ...extra,
  };
}

// ---------- weight names ----------

/** `encoder.layer.{i}.` (without the optional `bert.` prefix of BertFor* checkpoints). */
export function encoderLayerPrefix(i: number): string {
  return `encoder.layer.${i}.`;
}

/** The linear modules of one encoder layer (HF paths relative to the layer), [out, in]; all carry biases. */
export function encoderLayerLinears(c: EncoderConfig): { name: string; out: number; in: number }[] {
  const C = c.hiddenSize;
  return [
    { name: 'attention.self.query', out: C, in: C },
    { name: 'attention.self.key', out: C, in: C },
    { name: 'attention.self.value', out: C, in: C },
    { name: 'attention.output.dense', out: C, in: C },
    { name: 'intermediate.dense', out: c.intermediateSize, in: C },
    { name: 'output.dense', out: C, in: c.intermediateSize },
  ];
}

/** The LayerNorms of one encoder layer (HF paths relative to the layer). */
export const ENCODER_LAYER_NORMS = ['attention.output.LayerNorm', 'output.LayerNorm'] as const;

/** Every weight the encoder reads, with its shape, in HF order (the pooler is not read: sentence encoders pool themselves). */
export function encoderWeightShapes(c: EncoderConfig): Map<string, number[]> {
  const C = c.hiddenSize;
  const m = new Map<string, number[]>();
  m.set('embeddings.word_embeddings.weight', [c.vocabSize, C]);
  m.set('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, C]);
  if (c.typeVocabSize > 0) m.set('embeddings.token_type_embeddings.weight', [c.typeVocabSize, C]);
  m.set('embeddings.LayerNorm.weight', [C]);
  m.set('embeddings.LayerNorm.bias', [C]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = encoderLayerPrefix(i);
    for (const l of encoderLayerLinears(c)) {
      m.set(`${p}${l.name}.weight`, [l.out, l.in]);
      m.set(`${p}${l.name}.bias`, [l.out]);
    }
    for (const n of ENCODER_LAYER_NORMS) {
      m.set(`${p}${n}.weight`, [C]);
      m.set(`${p}${n}.bias`, [C]);
    }
  }
  return m;
}

// ---------- random checkpoints ----------

/** A small BERT config with overrides, for tests. */
export function tinyEncoderConfig(over: Partial<EncoderConfig> = {}): EncoderConfig {
  return parseEncoderConfig(
    toHfEncoderConfig({
      modelType: 'bert', vocabSize: 120, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, headDim: 8,
      maxPositionEmbeddings: 40, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: 'gelu', padTokenId: 0, ...over,
    }),
  );
}

/** all-MiniLM-L6-v2's shape: 6 layers, hidden 384, 12 heads, MLP 1536, the BERT uncased vocabulary. */
export function miniLmConfig(): EncoderConfig {
  return tinyEncoderConfig({ vocabSize: 30522, hiddenSize: 384, intermediateSize: 1536, numLayers: 6, numHeads: 12, maxPositionEmbeddings: 512 });
}

export interface RandomEncoderOptions {
  seed?: number;
  /** Standard deviation of matrix entries (HF initializer_range). */
  std?: number;
  /** Prefix every weight name, e.g. 'bert.' as BertForMaskedLM checkpoints do. */
  prefix?: string;
}

/** Writes config.json and random float32 weights (`model.safetensors`) for `config` into `dir`; returns `dir`. */
export function writeRandomEncoderCheckpoint(dir: string, config: EncoderConfig, opts: RandomEncoderOptions = {}): string {
  const { seed = 0, std = 0.02, prefix = '' } = opts;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfEncoderConfig(config), null, 2));
  const rng = seededRandom(seed);
  const normal = (n: number, sd: number, mean: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * sd;
      const a = 2 * Math.PI * rng();
      out[i] = mean + r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = mean + r * Math.sin(a);
    }
    return out;
  };
  const tensors = new Map<string, TensorBytes>();
  for (const [name, shape] of encoderWeightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    // LayerNorm gains near 1 (not exactly 1) and non-zero biases, so that tests notice a missing or misplaced term.
    const data = name.includes('LayerNorm.weight') ? normal(n, 0.1, 1) : normal(n, name.endsWith('.bias') ? 0.1 : std, 0);
    tensors.set(`${prefix}${name}`, { dtype: 'float32', shape, data });
  }
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  return dir;
}
