// The BERT encoder in reading order: config → embeddings → self-attention with padding mask → intermediate (GELU) → output → layer → encoder.
import { existsSync } from 'node:fs';
import { embedding, layerNorm, noGrad, tensor, tidy, keep, zeros, type Tensor } from '../torch/index.js';
import { CheckpointWeights } from '../io/index.js';
import {
  ENCODER_LAYER_NORMS,
  encoderLayerLinears,
  encoderLayerPrefix,
  readEncoderConfig,
  type EncoderActivation,
  type EncoderConfig,
} from '../io/bert-config.js';
import { IclitError } from '../util/errors.js';
import { Linear, type LinearLike } from './linear.js';
import type { ComputeDType } from './llama.js';

/** A LayerNorm's affine parameters. */
export interface LayerNormWeights {
  weight: Tensor;
  bias: Tensor;
}

/** Rows of token ids with their 1/0 attention masks (same shape); token types default to 0 (one segment). */
export interface EncoderBatch {
  inputIds: number[][];
  attentionMask?: number[][];
  tokenTypeIds?: number[][];
}

// ---------- embeddings ----------

export interface EmbeddingWeights {
  word: Tensor;
  position: Tensor;
  tokenType: Tensor | null;
  norm: LayerNormWeights;
}

/** LayerNorm(word[ids] + position[0..T-1] + token_type[types]), HF BertEmbeddings with absolute positions. */
export function bertEmbeddings(ids: Tensor, types: Tensor | null, w: EmbeddingWeights, eps: number): Tensor {
  return tidy(() => {
    const T = ids.shape[1];
    const C = w.word.shape[1];
    let x = embedding(w.word, ids); // [B, T, C]
    x = x.add(w.position.slice(0, 0, T).unsqueeze(0)); // [B, T, C]
    if (w.tokenType) x = types ? x.add(embedding(w.tokenType, types)) : x.add(w.tokenType.select(0, 0)); // [B, T, C]
    return layerNorm(x, [C], w.norm.weight, w.norm.bias, eps); // [B, T, C]
  });
}

// ---------- self-attention ----------

/** Additive key mask [B, 1, 1, T]: 0 for real tokens, the dtype's most negative value for padding (HF's extended mask). */
export function paddingMask(mask: Tensor, dtype: ComputeDType): Tensor {
  return tidy(() => {
    const min = dtype === 'float32' ? -3.4028234663852886e38 : -3.3895313892515355e38;
    const [B, T] = mask.shape;
    return zeros([B, 1, 1, T], dtype, mask.device).maskedFill(mask.eq(0).reshape([B, 1, 1, T]), min); // [B, 1, 1, T]
  });
}

export interface SelfAttentionWeights {
  query: LinearLike;
  key: LinearLike;
  value: LinearLike;
  output: LinearLike;
  outputNorm: LayerNormWeights;
}

/** Post-norm attention sub-layer: LayerNorm(x + dense(softmax(q kᵀ / √D + mask) v)). */
export function selfAttention(x: Tensor, w: SelfAttentionWeights, c: EncoderConfig, mask: Tensor): Tensor {
  return tidy(() => {
    const [B, T, C] = x.shape;
    const H = c.numHeads;
    const D = c.headDim;
    const q = w.query.forward(x).reshape([B, T, H, D]).transpose(1, 2); // [B, H, T, D]
    const k = w.key.forward(x).reshape([B, T, H, D]).transpose(1, 2); // [B, H, T, D]
    const v = w.value.forward(x).reshape([B, T, H, D]).transpose(1, 2); // [B, H, T, D]
    const scores = q.matmul(k.transpose(2, 3)).mul(1 / Math.sqrt(D)).add(mask); // [B, H, T, T]
    const probs = scores.to('float32').softmax(-1).to(x.dtype); // [B, H, T, T]
    const context = probs.matmul(v).transpose(1, 2).reshape([B, T, C]); // [B, T, C]
    const out = w.output.forward(context).add(x); // [B, T, C]
    return layerNorm(out, [C], w.outputNorm.weight, w.outputNorm.bias, c.layerNormEps); // [B, T, C]
  });
}

// ---------- feed-forward (intermediate + output) ----------

export function activation(x: Tensor, act: EncoderActivation): Tensor {
  if (act === 'gelu') return x.gelu('none'); // exact erf form, HF "gelu"
  if (act === 'gelu_tanh') return x.gelu('tanh');
  return x.relu();
}

export interface FeedForwardWeights {
  intermediate: LinearLike;
  output: LinearLike;
  outputNorm: LayerNormWeights;
}

/** Post-norm feed-forward sub-layer: LayerNorm(x + output(act(intermediate(x)))). */
export function feedForward(x: Tensor, w: FeedForwardWeights, c: EncoderConfig): Tensor {
  return tidy(() => {
    const h = activation(w.intermediate.forward(x), c.hiddenAct); // [B, T, I]
    const out = w.output.forward(h).add(x); // [B, T, C]
    return layerNorm(out, [c.hiddenSize], w.outputNorm.weight, w.outputNorm.bias, c.layerNormEps); // [B, T, C]
  });
}

// ---------- layer ----------

export interface EncoderLayerWeights {
  attention: SelfAttentionWeights;
  feedForward: FeedForwardWeights;
}

export function encoderLayer(x: Tensor, w: EncoderLayerWeights, c: EncoderConfig, mask: Tensor): Tensor {
  return tidy(() => feedForward(selfAttention(x, w.attention, c, mask), w.feedForward, c)); // [B, T, C]
}

// ---------- encoder ----------

export interface EncoderLoadOptions {
  dtype?: ComputeDType;
  /** 'cpu' (default) or 'cuda:N': weights go from the mapped files straight to it. */
  device?: string;
}

export interface EncoderOutput {
  /** float32 hidden states on the host by HF index (0 = embedding LayerNorm output, n = last layer), [B, T, C]. */
  hidden: Map<number, Tensor>;
  /** The last layer's output in float32 on the host [B, T, C] (= hidden state n). */
  lastHiddenState: Tensor;
  /** The attention mask as float32 on the host [B, T] (1 = real token). */
  mask: Tensor;
}

/** A BERT encoder whose weights are memory-mapped from a Hugging Face folder (`bert.` prefixed names accepted). */
export class BertModel {
  readonly config: EncoderConfig;
  readonly dtype: ComputeDType;
  readonly device: string;
  /** Every linear layer by its HF module path (`encoder.layer.0.attention.self.query`); adapters replace entries here. */
  readonly linears = new Map<string, LinearLike>();
  readonly #embeddings: EmbeddingWeights;
  readonly #norms = new Map<string, LayerNormWeights>();
  readonly #weights: CheckpointWeights | null;

  constructor(config: EncoderConfig, get: (name: string, shape: number[]) => Tensor, dtype: ComputeDType, weights: CheckpointWeights | null = null, device = 'cpu') {
    this.config = config;
    this.dtype = dtype;
    this.device = device;
    this.#weights = weights;
    const c = config;
    const C = c.hiddenSize;
    const norm = (p: string): LayerNormWeights => ({ weight: keep(get(`${p}.weight`, [C])), bias: keep(get(`${p}.bias`, [C])) });
    this.#embeddings = {
      word: keep(get('embeddings.word_embeddings.weight', [c.vocabSize, C])),
      position: keep(get('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, C])),
      tokenType: c.typeVocabSize > 0 ? keep(get('embeddings.token_type_embeddings.weight', [c.typeVocabSize, C])) : null,
      norm: norm('embeddings.LayerNorm'),
    };
    for (let i = 0; i < c.numLayers; i++) {
      const p = encoderLayerPrefix(i);
      for (const l of encoderLayerLinears(c)) {
        this.linears.set(`${p}${l.name}`, new Linear(keep(get(`${p}${l.name}.weight`, [l.out, l.in])), keep(get(`${p}${l.name}.bias`, [l.out]))));
      }
      for (const n of ENCODER_LAYER_NORMS) this.#norms.set(`${p}${n}`, norm(`${p}${n}`));
    }
  }

  /** Loads `dir` (config.json + safetensors) computing in `dtype` (default float32) on `device` (default the CPU). */
  static load(dir: string, opts: EncoderLoadOptions = {}): BertModel {
    if (!existsSync(dir)) throw new IclitError(`encoder folder ${dir} does not exist`);
    const config = readEncoderConfig(dir);
    const weights = CheckpointWeights.open(dir);
    // BertForMaskedLM / BertForSequenceClassification checkpoints put the encoder under `bert.`.
    const prefix = !weights.has('embeddings.word_embeddings.weight') && weights.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : '';
    const dtype = opts.dtype ?? 'float32';
    const device = opts.device ?? 'cpu';
    try {
      return new BertModel(config, (name, shape) => weights.get(`${prefix}${name}`, shape, dtype, device), dtype, weights, device);
    } catch (e) {
      weights.close();
      throw e;
    }
  }

  get numHiddenStates(): number {
    return this.config.numLayers + 1;
  }

  #layerWeights(i: number): EncoderLayerWeights {
    const p = encoderLayerPrefix(i);
    const lin = (n: string): LinearLike => this.linears.get(`${p}${n}`)!;
    return {
      attention: {
        query: lin('attention.self.query'),
        key: lin('attention.self.key'),
        value: lin('attention.self.value'),
        output: lin('attention.output.dense'),
        outputNorm: this.#norms.get(`${p}attention.output.LayerNorm`)!,
      },
      feedForward: { intermediate: lin('intermediate.dense'), output: lin('output.dense'), outputNorm: this.#norms.get(`${p}output.LayerNorm`)! },
    };
  }

  /** Checks a batch (rectangular, ids in the vocabulary, 0/1 masks, length within the position table) and makes its tensors. */
  batchTensors(batch: EncoderBatch): { ids: Tensor; mask: Tensor; types: Tensor | null; T: number } {
    const c = this.config;
    const rows = batch.inputIds;
    if (!Array.isArray(rows) || rows.length === 0) throw new IclitError('empty batch: no sequence to encode');
    const T = rows[0].length;
    if (T === 0) throw new IclitError('input_ids row 0 has no tokens');
    if (T > c.maxPositionEmbeddings) throw new IclitError(`input_ids rows have ${T} tokens, more than max_position_embeddings ${c.maxPositionEmbeddings}`);
    const ids = new Array<number>(rows.length * T);
    const mask = new Array<number>(rows.length * T).fill(1);
    const types = batch.tokenTypeIds ? new Array<number>(rows.length * T) : null;
    const fill = (name: string, m: number[][] | undefined, out: number[] | null, ok: (v: number) => boolean, range: string): void => {
      if (!m || !out) return;
      if (m.length !== rows.length) throw new IclitError(`${name} has ${m.length} rows but input_ids has ${rows.length}`);
      m.forEach((row, b) => {
        if (!Array.isArray(row) || row.length !== T) throw new IclitError(`${name} row ${b} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${T} (rows must be padded to one length)`);
        row.forEach((v, t) => {
          if (!ok(v)) throw new IclitError(`${name}[${b}][${t}] is ${JSON.stringify(v)}, expected ${range}`);
          out[b * T + t] = v;
        });
      });
    };
    fill('input_ids', rows, ids, (v) => Number.isInteger(v) && v >= 0 && v < c.vocabSize, `a token id in 0..${c.vocabSize - 1}`);
    fill('attention_mask', batch.attentionMask, mask, (v) => v === 0 || v === 1, '0 or 1');
    fill('token_type_ids', batch.tokenTypeIds, types, (v) => Number.isInteger(v) && v >= 0 && v < c.typeVocabSize, `a token type in 0..${c.typeVocabSize - 1}`);
    for (let b = 0; b < rows.length; b++) {
      if (mask.slice(b * T, (b + 1) * T).every((v) => v === 0)) throw new IclitError(`attention_mask row ${b} masks every token`);
    }
    return {
      ids: tensor(ids, [rows.length, T], 'int64', this.device), // [B, T]
      mask: tensor(mask, [rows.length, T], 'float32', this.device), // [B, T]
      types: types ? tensor(types, [rows.length, T], 'int64', this.device) : null, // [B, T]
      T,
    };
  }

  /**
   * Runs the encoder. Hidden states follow HF `output_hidden_states` (index 0 = embedding LayerNorm output, index
   * i = after layer i); only the requested indices are returned (default: none; `lastHiddenState` always is).
   * Padded positions are computed as HF computes them (they attend to the real tokens only). Autograd records when
   * enabled; use `encode` for inference.
   */
  forward(batch: EncoderBatch, hiddenStates: number[] = []): EncoderOutput {
    const c = this.config;
    const n = c.numLayers;
    const wanted = new Set(hiddenStates.map((i) => (i < 0 ? n + 1 + i : i)));
    for (const i of wanted) if (i < 0 || i > n) throw new IclitError(`hidden state index ${i} is out of range (0..${n}, negatives count from the end)`);
    return tidy(() => {
      const { ids, mask, types } = this.batchTensors(batch);
      const hidden = new Map<number, Tensor>();
      const toHost = (h: Tensor): Tensor => h.to('float32').toDevice('cpu');
      let x = bertEmbeddings(ids, types, this.#embeddings, c.layerNormEps).to(this.dtype); // [B, T, C]
      if (wanted.has(0)) hidden.set(0, toHost(x));
      const additive = paddingMask(mask, this.dtype); // [B, 1, 1, T]
      for (let i = 0; i < n; i++) {
        x = encoderLayer(x, this.#layerWeights(i), c, additive); // [B, T, C]
        if (wanted.has(i + 1)) hidden.set(i + 1, toHost(x));
      }
      return { hidden, lastHiddenState: toHost(x), mask: mask.toDevice('cpu') };
    });
  }

  /** forward without autograd. */
  encode(batch: EncoderBatch, hiddenStates: number[] = []): EncoderOutput {
    return noGrad(() => this.forward(batch, hiddenStates));
  }

  dispose(): void {
    const e = this.#embeddings;
    for (const t of [e.word, e.position, e.tokenType, e.norm.weight, e.norm.bias]) t?.dispose();
    for (const nw of this.#norms.values()) {
      nw.weight.dispose();
      nw.bias.dispose();
    }
    for (const l of this.linears.values()) l.dispose();
    this.#weights?.close();
  }
}
