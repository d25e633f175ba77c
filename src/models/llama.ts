// The LLaMA-family decoder (llama, mistral, qwen2) in reading order: config → norm → RoPE → attention → MLP → block → model.
import { existsSync } from 'node:fs';
import {
  arange,
  cat,
  embedding,
  full,
  linear,
  noGrad,
  tensor,
  tidy,
  keep,
  type DType,
  type Tensor,
} from '../torch/index.js';
import {
  CheckpointWeights,
  decoderWeightShapes,
  matchCheckpoint,
  embedName,
  finalNormName,
  layerLinears,
  layerPrefix,
  lmHeadName,
  readDecoderConfig,
  type DecoderConfig,
} from '../io/index.js';
import { IclitError } from '../util/errors.js';
import { Linear, type LinearLike } from './linear.js';
import { hookName, type CaptureRequest, type ModelOutput } from './hooks.js';
import { resolveHiddenStates } from './hidden-states.js';

export type ComputeDType = Extract<DType, 'float32' | 'bfloat16'>;

// ---------- norm ----------

/** LlamaRMSNorm: normalise in float32, scale by the weight in the compute dtype. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  return tidy(() => {
    const x32 = x.as('float32'); // [B, T, C]
    const inv = x32.square().mean(-1, true).add(eps).rsqrt(); // [B, T, 1]
    return weight.mul(x32.mul(inv).as(x.dtype)); // [B, T, C]
  });
}

// ---------- rotary position embedding ----------

/** Inverse frequencies of the rotary embedding with the configured scaling, as float32 numbers. */
export function ropeInverseFrequencies(c: DecoderConfig): Float32Array {
  const half = c.headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (s?.type === 'linear') for (let i = 0; i < half; i++) inv[i] /= s.factor;
  if (s?.type === 'llama3') {
    // Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated (Llama 3.1).
    const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] = inv[i] / s.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** cos and sin tables for positions 0..T-1, HF layout (the half-dimension frequencies repeated twice). */
export function ropeTables(invFreq: Tensor, length: number, dtype: ComputeDType): { cos: Tensor; sin: Tensor } {
  return tidy(() => {
    const pos = arange(0, length, 1, 'float32'); // [T]
    const freqs = pos.unsqueeze(1).mul(invFreq.unsqueeze(0)); // [T, D/2]
    const emb = cat([freqs, freqs], -1); // [T, D]
    return { cos: emb.cos().as(dtype), sin: emb.sin().as(dtype) };
  });
}

/** x * cos + rotate_half(x) * sin, with rotate_half(x) = [-x2, x1]. */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return tidy(() => {
    const d = x.shape[x.rank - 1];
    const x1 = x.slice(-1, 0, d / 2); // [B, H, T, D/2]
    const x2 = x.slice(-1, d / 2, d); // [B, H, T, D/2]
    const rotated = cat([x2.neg(), x1], -1); // [B, H, T, D]
    return x.mul(cos).add(rotated.mul(sin)); // [B, H, T, D]
  });
}

// ---------- attention ----------

/**
 * Additive attention mask [B, 1, T, T]: 0 where query t may attend key s (s ≤ t, inside the sliding window,
 * key not padding), the dtype's most negative value elsewhere (as HF does).
 */
export function attentionMask(lengths: number[], T: number, dtype: ComputeDType, slidingWindow: number | null): Tensor {
  return tidy(() => {
    const q = arange(0, T, 1, 'int64').unsqueeze(1); // [T, 1]
    const k = arange(0, T, 1, 'int64').unsqueeze(0); // [1, T]
    let allowed = k.le(q); // [T, T]
    if (slidingWindow !== null) allowed = allowed.mul(q.sub(k).lt(slidingWindow)).as('bool');
    const lens = tensor(lengths, [lengths.length, 1, 1, 1], 'int64'); // [B, 1, 1, 1]
    const keyValid = k.reshape([1, 1, 1, T]).lt(lens); // [B, 1, 1, T]
    const ok = allowed.reshape([1, 1, T, T]).mul(keyValid).as('bool'); // [B, 1, T, T]
    const min = dtype === 'float32' ? -3.4028234663852886e38 : -3.3895313892515355e38;
    return full([1], 0, dtype).expand([lengths.length, 1, T, T]).maskedFill(ok.logicalNot(), min); // [B, 1, T, T]
  });
}

export interface AttentionWeights {
  q: LinearLike;
  k: LinearLike;
  v: LinearLike;
  o: LinearLike;
}

export function attention(x: Tensor, w: AttentionWeights, c: DecoderConfig, rope: { cos: Tensor; sin: Tensor }, mask: Tensor): Tensor {
  return tidy(() => {
    const [B, T] = x.shape;
    const H = c.numHeads;
    const KV = c.numKvHeads;
    const D = c.headDim;
    const q = w.q.forward(x).reshape([B, T, H, D]).transpose(1, 2); // [B, H, T, D]
    let k = w.k.forward(x).reshape([B, T, KV, D]).transpose(1, 2); // [B, KV, T, D]
    let v = w.v.forward(x).reshape([B, T, KV, D]).transpose(1, 2); // [B, KV, T, D]
    const qr = applyRope(q, rope.cos, rope.sin); // [B, H, T, D]
    k = applyRope(k, rope.cos, rope.sin); // [B, KV, T, D]
    if (KV !== H) {
      k = k.repeatInterleave(H / KV, 1); // [B, H, T, D]
      v = v.repeatInterleave(H / KV, 1); // [B, H, T, D]
    }
    const scores = qr.matmul(k.transpose(2, 3)).mul(1 / Math.sqrt(D)).add(mask); // [B, H, T, T]
    const probs = scores.as('float32').softmax(-1).as(x.dtype); // [B, H, T, T]
    const out = probs.matmul(v).transpose(1, 2).reshape([B, T, H * D]); // [B, T, H*D]
    return w.o.forward(out); // [B, T, C]
  });
}

// ---------- MLP ----------

export interface MlpWeights {
  gate: LinearLike;
  up: LinearLike;
  down: LinearLike;
}

/** SwiGLU: down(silu(gate(x)) * up(x)). */
export function mlp(x: Tensor, w: MlpWeights): Tensor {
  return tidy(() => w.down.forward(w.gate.forward(x).silu().mul(w.up.forward(x)))); // [B, T, C]
}

// ---------- block ----------

export interface BlockWeights {
  inputNorm: Tensor;
  attn: AttentionWeights;
  postNorm: Tensor;
  mlp: MlpWeights;
}

/** Pre-norm residual block: x + attn(norm(x)), then h + mlp(norm(h)). */
export function block(x: Tensor, w: BlockWeights, c: DecoderConfig, rope: { cos: Tensor; sin: Tensor }, mask: Tensor): Tensor {
  return tidy(() => {
    const h = x.add(attention(rmsNorm(x, w.inputNorm, c.rmsNormEps), w.attn, c, rope, mask)); // [B, T, C]
    return h.add(mlp(rmsNorm(h, w.postNorm, c.rmsNormEps), w.mlp)); // [B, T, C]
  });
}

// ---------- model ----------

export interface LoadOptions {
  dtype?: ComputeDType;
}

/** A batch of token sequences of different lengths (right-padded internally). */
export type TokenBatch = number[][];

/** A LLaMA-family causal LM whose weights are memory-mapped from a Hugging Face folder. */
export class LlamaModel {
  readonly config: DecoderConfig;
  readonly dtype: ComputeDType;
  /** Every linear layer by its HF module path (`model.layers.0.self_attn.q_proj`); LoRA replaces entries here. */
  readonly linears = new Map<string, LinearLike>();
  readonly #embed: Tensor;
  readonly #norms = new Map<string, Tensor>();
  readonly #lmHead: Tensor;
  readonly #invFreq: Tensor;

  constructor(config: DecoderConfig, get: (name: string, shape: number[]) => Tensor, dtype: ComputeDType) {
    this.config = config;
    this.dtype = dtype;
    const c = config;
    this.#embed = keep(get(embedName, [c.vocabSize, c.hiddenSize]));
    for (let i = 0; i < c.numLayers; i++) {
      const p = layerPrefix(i);
      for (const n of ['input_layernorm', 'post_attention_layernorm']) this.#norms.set(`${p}${n}`, keep(get(`${p}${n}.weight`, [c.hiddenSize])));
      for (const l of layerLinears(c)) {
        const weight = keep(get(`${p}${l.name}.weight`, [l.out, l.in]));
        const bias = l.bias ? keep(get(`${p}${l.name}.bias`, [l.out])) : null;
        this.linears.set(`${p}${l.name}`, new Linear(weight, bias));
      }
    }
    this.#norms.set('model.norm', keep(get(finalNormName, [c.hiddenSize])));
    this.#lmHead = c.tieWordEmbeddings ? this.#embed : keep(get(lmHeadName, [c.vocabSize, c.hiddenSize]));
    this.#invFreq = keep(tensor(ropeInverseFrequencies(c), [c.headDim / 2], 'float32'));
  }

  /** Loads `dir` (config.json + safetensors) computing in `dtype` (default float32). */
  static load(dir: string, opts: LoadOptions = {}): LlamaModel {
    if (!existsSync(dir)) throw new IclitError(`model folder ${dir} does not exist`);
    const config = readDecoderConfig(dir);
    const weights = CheckpointWeights.open(dir);
    const dtype = opts.dtype ?? 'float32';
    try {
      // A missing weight is an error naming it; weights the config leaves unused are a warning, as in HF.
      const unused = matchCheckpoint(weights, decoderWeightShapes(config).keys(), config.numLayers);
      if (unused) process.stderr.write(`iclit: ${unused}\n`);
      return new LlamaModel(config, (name, shape) => weights.get(name, shape, dtype), dtype);
    } finally {
      // Views keep their own file mapping alive; converted weights own their memory, so the files can go.
      weights.close();
    }
  }

  get numHiddenStates(): number {
    return this.config.numLayers + 1;
  }

  /** The embedding matrix (read-only view). */
  get embedTokens(): Tensor {
    return this.#embed;
  }

  #blockWeights(i: number): BlockWeights {
    const p = layerPrefix(i);
    const lin = (n: string): LinearLike => this.linears.get(`${p}${n}`)!;
    return {
      inputNorm: this.#norms.get(`${p}input_layernorm`)!,
      attn: { q: lin('self_attn.q_proj'), k: lin('self_attn.k_proj'), v: lin('self_attn.v_proj'), o: lin('self_attn.o_proj') },
      postNorm: this.#norms.get(`${p}post_attention_layernorm`)!,
      mlp: { gate: lin('mlp.gate_proj'), up: lin('mlp.up_proj'), down: lin('mlp.down_proj') },
    };
  }

  /** Token ids [B, T] (right-padded with 0) after checking every id is inside the vocabulary. */
  idsTensor(batch: TokenBatch): { ids: Tensor; lengths: number[]; T: number } {
    if (batch.length === 0) throw new IclitError('empty batch: no sequence to run');
    const lengths = batch.map((s) => s.length);
    const T = Math.max(...lengths);
    if (Math.min(...lengths) === 0) throw new IclitError('a sequence has no tokens');
    const flat = new Array<number>(batch.length * T).fill(0);
    batch.forEach((seq, b) =>
      seq.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
          throw new IclitError(`token id ${id} at position ${t} is outside the vocabulary (0..${this.config.vocabSize - 1})`);
        }
        flat[b * T + t] = id;
      }),
    );
    return { ids: tensor(flat, [batch.length, T], 'int64'), lengths, T };
  }

  /**
   * Runs the decoder. Hidden states follow HF `output_hidden_states` (index 0 = embeddings, index n_layers =
   * after the final norm); only the requested indices are returned (float32), at the last real token of each
   * sequence or at every position. Blocks after the highest requested index are skipped, and the LM head runs
   * only when `logits` is asked for. Autograd records when it is enabled (training); wrap in noGrad otherwise.
   */
  forward(batch: TokenBatch, req: CaptureRequest = {}): ModelOutput {
    const c = this.config;
    const n = c.numLayers;
    const wanted = new Set(resolveHiddenStates(req.hiddenStates ?? [], n + 1));
    const positions = req.positions ?? 'last';
    return tidy(() => {
      const { ids, lengths, T } = this.idsTensor(batch);
      if (T > c.maxPositionEmbeddings) throw new IclitError(`sequence of ${T} tokens exceeds max_position_embeddings ${c.maxPositionEmbeddings}`);
      const lastIndex = tensor(lengths.map((l) => l - 1), [lengths.length, 1, 1], 'int64').expand([lengths.length, 1, c.hiddenSize]); // [B, 1, C]
      const select = (h: Tensor, at: 'last' | 'all'): Tensor => (at === 'all' ? h : h.gather(1, lastIndex).squeeze(1)); // [B, T, C] or [B, C]
      const hidden = new Map<number, Tensor>();
      const visit = (i: number, h: Tensor): Tensor => {
        const replaced = req.hooks?.[hookName(i, n)]?.(h);
        const out = replaced ?? h;
        if (wanted.has(i)) hidden.set(i, select(out, positions).as('float32'));
        return out;
      };
      const logitsAt = req.logits ? (req.logitsPositions ?? positions) : null;
      // Blocks past the highest requested state are never run.
      const blocksToRun = logitsAt || wanted.has(n) ? n : Math.max(0, ...[...wanted]);
      let x = visit(0, embedding(this.#embed, ids)); // [B, T, C]
      if (blocksToRun > 0) {
        const rope = ropeTables(this.#invFreq, T, this.dtype);
        const mask = attentionMask(lengths, T, this.dtype, c.slidingWindow); // [B, 1, T, T]
        for (let i = 0; i < blocksToRun; i++) {
          x = block(x, this.#blockWeights(i), c, rope, mask); // [B, T, C]
          if (i + 1 < n) x = visit(i + 1, x);
        }
      }
      const finalNorm = this.#norms.get('model.norm')!;
      if (wanted.has(n)) {
        const normed = rmsNorm(select(x, positions), finalNorm, c.rmsNormEps); // [B, C] or [B, T, C]
        hidden.set(n, (req.hooks?.[hookName(n, n)]?.(normed) ?? normed).as('float32'));
      }
      let logits: Tensor | undefined;
      if (logitsAt) {
        const normed = rmsNorm(select(x, logitsAt), finalNorm, c.rmsNormEps); // [B, C] or [B, T, C]
        logits = linear(normed, this.#lmHead).as('float32'); // [B, V] or [B, T, V]
      }
      return { hidden, logits, lengths };
    });
  }

  /** Convenience: hidden states without autograd. */
  hiddenStates(batch: TokenBatch, layers: number[], positions: 'last' | 'all' = 'last'): Map<number, Tensor> {
    return noGrad(() => this.forward(batch, { hiddenStates: layers, positions }).hidden);
  }

  dispose(): void {
    this.#embed.dispose();
    this.#lmHead.dispose();
    for (const t of this.#norms.values()) t.dispose();
    for (const l of this.linears.values()) l.dispose();
    this.#invFreq.dispose();
  }
}
