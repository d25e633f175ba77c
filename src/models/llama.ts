// The LLaMA-family decoder (llama, mistral, qwen2) in reading order: config → norm → RoPE → attention → MLP → block → model.
import { existsSync } from 'node:fs';
import {
  arange,
  cat,
  embedding,
  linear,
  noGrad,
  packedAttention,
  rmsNorm,
  rope,
  stack,
  swiglu,
  tensor,
  tidy,
  keep,
  zeros,
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
import { Linear, type LinearLike, type RowLayout } from './linear.js';
import { checkHookNames, hookName, type CaptureRequest, type ModelOutput } from './hooks.js';
import { resolveHiddenStates } from './hidden-states.js';

export type ComputeDType = Extract<DType, 'float32' | 'bfloat16'>;

/*
 * Sequences run packed: the B sequences of a batch lie back to back as N = Σ T_b token rows, x [N, C]. Linear
 * layers, norms and the MLP see no padding at all; attention runs per sequence inside one native op. Hidden states
 * and logits at 'all' positions are padded back to [B, T, ·] (zeros past each sequence's end) only when returned.
 */

/** The rows of a packed batch: each sequence's length, and its rotary tables at every row. */
export interface PackedBatch extends RowLayout {
  lengths: number[];
  /** Row of each sequence's first token. */
  offsets: number[];
  /** Longest sequence. */
  T: number;
  /** cos and sin of each row's position within its sequence, [N, 1, D]. */
  cos: Tensor;
  sin: Tensor;
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

/** cos and sin [N, 1, D] of every packed row's position (HF layout: the half-dimension frequencies repeated twice). */
export function ropeRows(invFreq: Tensor, lengths: readonly number[], dtype: ComputeDType): { cos: Tensor; sin: Tensor } {
  return tidy(() => {
    const positions = lengths.flatMap((L) => Array.from({ length: L }, (_, t) => t));
    const pos = tensor(positions, [positions.length], 'float32', invFreq.device); // [N]
    const freqs = pos.unsqueeze(1).mul(invFreq.unsqueeze(0)); // [N, D/2]
    const emb = cat([freqs, freqs], -1); // [N, D]
    return { cos: emb.cos().to(dtype).unsqueeze(1), sin: emb.sin().to(dtype).unsqueeze(1) }; // [N, 1, D]
  });
}

// ---------- attention ----------

export interface AttentionWeights {
  q: LinearLike;
  k: LinearLike;
  v: LinearLike;
  o: LinearLike;
}

/** Receives one block's last-token attention weights [B, H, T]; it must keep() what it holds on to. */
export type AttentionSink = (weights: Tensor) => void;

/**
 * Softmax weights of each sequence's last query over its own keys, from the same q and k (after RoPE) as
 * packedAttention: [B, H, T] float32, zero past a sequence's end. Grouped key/value heads serve H / KV query heads
 * each (head h reads kv head ⌊h / (H/KV)⌋, as HF's repeat_kv); a sliding window hides keys ≥ window behind.
 */
export function lastTokenAttention(q: Tensor, k: Tensor, c: DecoderConfig, p: PackedBatch): Tensor {
  return tidy(() => {
    const group = c.numHeads / c.numKvHeads;
    const perSequence = p.lengths.map((L, b) => {
      const last = p.offsets[b] + L - 1;
      const qb = q.slice(0, last, last + 1).transpose(0, 1).to('float32'); // [H, 1, D]
      const kb = k.slice(0, p.offsets[b], p.offsets[b] + L).repeatInterleave(group, 1).permute([1, 2, 0]).to('float32'); // [H, D, L]
      let scores = qb.bmm(kb).squeeze(1).mul(1 / Math.sqrt(c.headDim)); // [H, L]
      if (c.slidingWindow !== null && L > c.slidingWindow) {
        const hidden = arange(0, L, 1, 'int64', scores.device).lt(L - c.slidingWindow); // [L]: key s with (L−1) − s ≥ window
        scores = scores.maskedFill(hidden.unsqueeze(0), -Infinity);
      }
      const weights = scores.softmax(-1); // [H, L]
      return L < p.T ? cat([weights, zeros([c.numHeads, p.T - L], 'float32', weights.device)], 1) : weights; // [H, T]
    });
    return stack(perSequence, 0); // [B, H, T]
  });
}

/** Causal self-attention of packed rows x [N, C] → [N, C]; each sequence attends only within itself. */
export function attention(x: Tensor, w: AttentionWeights, c: DecoderConfig, p: PackedBatch, sink?: AttentionSink): Tensor {
  return tidy(() => {
    const N = x.shape[0];
    const q = rope(w.q.forward(x, p).reshape([N, c.numHeads, c.headDim]), p.cos, p.sin); // [N, H, D]
    const k = rope(w.k.forward(x, p).reshape([N, c.numKvHeads, c.headDim]), p.cos, p.sin); // [N, KV, D]
    const v = w.v.forward(x, p).reshape([N, c.numKvHeads, c.headDim]); // [N, KV, D]
    sink?.(lastTokenAttention(q, k, c, p)); // [B, H, T]
    const out = packedAttention(q, k, v, p.lengths, 1 / Math.sqrt(c.headDim), c.slidingWindow); // [N, H·D]
    return w.o.forward(out, p); // [N, C]
  });
}

// ---------- MLP ----------

export interface MlpWeights {
  gate: LinearLike;
  up: LinearLike;
  down: LinearLike;
}

/** SwiGLU: down(silu(gate(x)) * up(x)). */
export function mlp(x: Tensor, w: MlpWeights, p: PackedBatch): Tensor {
  return tidy(() => w.down.forward(swiglu(w.gate.forward(x, p), w.up.forward(x, p)), p)); // [N, C]
}

// ---------- block ----------

export interface BlockWeights {
  inputNorm: Tensor;
  attn: AttentionWeights;
  postNorm: Tensor;
  mlp: MlpWeights;
}

/** Pre-norm residual block: x + attn(norm(x)), then h + mlp(norm(h)). */
export function block(x: Tensor, w: BlockWeights, c: DecoderConfig, p: PackedBatch, sink?: AttentionSink): Tensor {
  return tidy(() => {
    const h = x.add(attention(rmsNorm(x, w.inputNorm, c.rmsNormEps), w.attn, c, p, sink)); // [N, C]
    return h.add(mlp(rmsNorm(h, w.postNorm, c.rmsNormEps), w.mlp, p)); // [N, C]
  });
}

// ---------- packing ----------

/** Packed rows [N, F] → [B, T, F] with zeros past each sequence's end. */
export function padRows(x: Tensor, p: Pick<PackedBatch, 'lengths' | 'offsets' | 'T'>): Tensor {
  return tidy(() => {
    const [N, F] = x.shape;
    const B = p.lengths.length;
    const idx = new Array<number>(B * p.T).fill(N); // row N is the zero row appended below
    p.lengths.forEach((L, b) => {
      for (let t = 0; t < L; t++) idx[b * p.T + t] = p.offsets[b] + t;
    });
    const withZero = cat([x, zeros([1, F], x.dtype, x.device)], 0); // [N + 1, F]
    return withZero.indexSelect(0, tensor(idx, [B * p.T], 'int64', x.device)).reshape([B, p.T, F]); // [B, T, F]
  });
}

/** [B, T, F] → the packed rows [N, F] of the real positions. */
export function unpadRows(x: Tensor, p: Pick<PackedBatch, 'lengths' | 'T'>): Tensor {
  return tidy(() => {
    const [B, T, F] = x.shape;
    const idx = p.lengths.flatMap((L, b) => Array.from({ length: L }, (_, t) => b * T + t));
    return x.reshape([B * T, F]).indexSelect(0, tensor(idx, [idx.length], 'int64', x.device)); // [N, F]
  });
}

// ---------- model ----------

export interface LoadOptions {
  dtype?: ComputeDType;
  /** 'cpu' (default) or 'cuda:N' as resolveDevice returns: weights are read from the mapped files straight to it. */
  device?: string;
}

/** A batch of token sequences of different lengths. */
export type TokenBatch = number[][];

/** A LLaMA-family causal LM whose weights are memory-mapped from a Hugging Face folder (or copied to a device). */
export class LlamaModel {
  readonly config: DecoderConfig;
  readonly dtype: ComputeDType;
  readonly device: string;
  /** Every linear layer by its HF module path (`model.layers.0.self_attn.q_proj`); LoRA replaces entries here. */
  readonly linears = new Map<string, LinearLike>();
  readonly #embed: Tensor;
  readonly #norms = new Map<string, Tensor>();
  readonly #lmHead: Tensor;
  readonly #invFreq: Tensor;
  /** Called after each decoder block of every forward (progress inside a pass; see src/study/progress.ts). */
  onBlock?: (block: number, lengths: readonly number[]) => void;

  constructor(config: DecoderConfig, get: (name: string, shape: number[]) => Tensor, dtype: ComputeDType, device = 'cpu') {
    this.config = config;
    this.dtype = dtype;
    this.device = device;
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
    this.#invFreq = keep(tensor(ropeInverseFrequencies(c), [c.headDim / 2], 'float32', device));
  }

  /** Loads `dir` (config.json + safetensors) computing in `dtype` (default float32) on `device` (default the CPU). */
  static load(dir: string, opts: LoadOptions = {}): LlamaModel {
    if (!existsSync(dir)) throw new IclitError(`model folder ${dir} does not exist`);
    const config = readDecoderConfig(dir);
    const weights = CheckpointWeights.open(dir);
    try {
      return LlamaModel.fromCheckpoint(config, weights, opts);
    } finally {
      // Views keep their own file mapping alive; converted or moved weights own their memory, so the files can go.
      weights.close();
    }
  }

  /** The model of an already read config.json and opened checkpoint (which stays the caller's to close). */
  static fromCheckpoint(config: DecoderConfig, weights: CheckpointWeights, opts: LoadOptions = {}): LlamaModel {
    const dtype = opts.dtype ?? 'float32';
    const device = opts.device ?? 'cpu';
    // A missing weight is an error naming it; weights the config leaves unused are a warning, as in HF.
    const unused = matchCheckpoint(weights, decoderWeightShapes(config).keys(), config.numLayers);
    if (unused) process.stderr.write(`iclit: ${unused}\n`);
    return new LlamaModel(config, (name, shape) => weights.get(name, shape, dtype, device), dtype, device);
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

  /** The packed token ids [N] of a batch (every id checked against the vocabulary) and its row layout. */
  pack(batch: TokenBatch): { ids: Tensor; lengths: number[]; offsets: number[]; T: number } {
    if (batch.length === 0) throw new IclitError('empty batch: no sequence to run');
    const lengths = batch.map((s) => s.length);
    if (Math.min(...lengths) === 0) throw new IclitError('a sequence has no tokens');
    const T = Math.max(...lengths);
    if (T > this.config.maxPositionEmbeddings) throw new IclitError(`sequence of ${T} tokens exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}`);
    const offsets: number[] = [];
    const flat: number[] = [];
    for (const seq of batch) {
      offsets.push(flat.length);
      seq.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
          throw new IclitError(`token id ${id} at position ${t} is outside the vocabulary (0..${this.config.vocabSize - 1})`);
        }
        flat.push(id);
      });
    }
    return { ids: tensor(flat, [flat.length], 'int64', this.device), lengths, offsets, T };
  }

  /**
   * Runs the decoder. Hidden states follow HF `output_hidden_states` (index 0 = embeddings, index n_layers =
   * after the final norm); only the requested indices are returned, as float32 on the host, at the last real token
   * of each sequence or at every position. Blocks after the highest requested index are skipped, and the LM head
   * runs only where logits are asked for. Autograd records when it is enabled (training); wrap in noGrad otherwise.
   */
  forward(batch: TokenBatch, req: CaptureRequest = {}): ModelOutput {
    const c = this.config;
    const n = c.numLayers;
    const wanted = new Set(resolveHiddenStates(req.hiddenStates ?? [], n + 1));
    checkHookNames(req.hooks, n);
    const positions = req.positions ?? 'last';
    return tidy(() => {
      const { ids, lengths, offsets, T } = this.pack(batch);
      const N = ids.shape[0];
      if (req.logitRows?.some((r) => !Number.isInteger(r) || r < 0 || r >= N)) throw new IclitError(`logit rows must lie in 0..${N - 1}`);
      const rows = (idx: readonly number[]) => tensor(idx, [idx.length], 'int64', this.device);
      const lastRows = rows(lengths.map((L, b) => offsets[b] + L - 1)); // [B]
      const layout = { lengths, offsets, T };
      const select = (h: Tensor, at: 'last' | 'all'): Tensor => (at === 'all' ? padRows(h, layout) : h.indexSelect(0, lastRows)); // [B, T, C] or [B, C]
      const toHost = (h: Tensor): Tensor => h.to('float32').toDevice('cpu');
      const hidden = new Map<number, Tensor>();
      const visit = (i: number, h: Tensor): Tensor => {
        const hook = req.hooks?.[hookName(i, n)];
        const replaced = hook?.(padRows(h, layout));
        const out = replaced ? unpadRows(replaced, layout) : h; // [N, C]
        if (wanted.has(i)) hidden.set(i, toHost(select(out, positions)));
        return out;
      };
      const logitsAt = req.logitRows ? 'rows' : req.logits ? (req.logitsPositions ?? positions) : null;
      // Blocks past the highest requested state are never run.
      const blocksToRun = logitsAt || wanted.has(n) || req.lastTokenAttention ? n : Math.max(0, ...[...wanted]);
      const attentionByBlock = req.lastTokenAttention ? new Map<number, Tensor>() : undefined;
      const start = this.#resumeAt(req, wanted, N);
      let x = visit(start, req.from ? req.from.hidden.to(this.dtype).toDevice(this.device) : embedding(this.#embed, ids)); // [N, C]
      if (blocksToRun > start) {
        const packed: PackedBatch = { ...layout, ...ropeRows(this.#invFreq, lengths, this.dtype) };
        for (let i = start; i < blocksToRun; i++) {
          const sink: AttentionSink | undefined = attentionByBlock && ((w) => attentionByBlock.set(i, keep(w.toDevice('cpu'))));
          x = block(x, this.#blockWeights(i), c, packed, sink); // [N, C]
          this.onBlock?.(i, lengths);
          if (i + 1 < n) x = visit(i + 1, x);
        }
      }
      const finalNorm = this.#norms.get('model.norm')!;
      if (wanted.has(n)) {
        const hook = req.hooks?.[hookName(n, n)];
        const normed = rmsNorm(positions === 'all' || hook ? x : x.indexSelect(0, lastRows), finalNorm, c.rmsNormEps); // [N, C] or [B, C]
        const replaced = hook?.(padRows(normed, layout));
        const out = replaced ? unpadRows(replaced, layout) : normed;
        hidden.set(n, toHost(positions === 'all' ? padRows(out, layout) : hook ? out.indexSelect(0, lastRows) : out));
      }
      let logits: Tensor | undefined;
      if (logitsAt) {
        const at = logitsAt === 'rows' ? x.indexSelect(0, rows(req.logitRows!)) : logitsAt === 'last' ? x.indexSelect(0, lastRows) : x; // [R, C]
        const l = linear(rmsNorm(at, finalNorm, c.rmsNormEps), this.#lmHead).to('float32'); // [R, V]
        logits = logitsAt === 'all' ? padRows(l, layout) : l; // [R, V] or [B, T, V]
      }
      return { hidden, logits, lengths, attention: attentionByBlock };
    });
  }

  /** The hidden-state index a forward starts at (0, or a checked `req.from`): nothing before it may be asked for. */
  #resumeAt(req: CaptureRequest, wanted: Set<number>, N: number): number {
    if (!req.from) return 0;
    const { index, hidden } = req.from;
    const n = this.config.numLayers;
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new IclitError(`resume: hidden-state index ${index} is outside 0..${n - 1}`);
    if (hidden.shape.length !== 2 || hidden.shape[0] !== N || hidden.shape[1] !== this.config.hiddenSize) {
      throw new IclitError(`resume: the residual stream is [${hidden.shape.join(', ')}]; expected the batch's ${N} tokens × ${this.config.hiddenSize}`);
    }
    const early = [...wanted].filter((i) => i < index);
    for (let i = 0; i < index; i++) if (req.hooks?.[hookName(i, n)]) early.push(i);
    if (early.length > 0 || req.lastTokenAttention) throw new IclitError(`resume at hidden state ${index}: states, hooks or attention before it cannot be computed`);
    return index;
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
