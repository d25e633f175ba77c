// An independent float64 LLaMA forward in plain loops (no libtorch), the reference for tests on random checkpoints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDecoderConfig, readSafetensorsHeader, type DecoderConfig } from '../io/index.js';

type Mat = Float64Array; // row-major

function loadF32(dir: string): Map<string, { shape: number[]; data: Float64Array }> {
  const path = join(dir, 'model.safetensors');
  const bytes = readFileSync(path);
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, info] of readSafetensorsHeader(path).tensors) {
    if (info.dtype !== 'float32') throw new Error('naive reference reads float32 checkpoints only');
    const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + info.byteOffset, bytes.byteOffset + info.byteOffset + info.byteLength));
    out.set(name, { shape: info.shape, data: Float64Array.from(f) });
  }
  return out;
}

// y[t, o] = sum_i x[t, i] * W[o, i] + b[o]
function lin(x: Mat, T: number, W: { shape: number[]; data: Float64Array }, b?: { data: Float64Array }): Mat {
  const [O, I] = W.shape;
  const y = new Float64Array(T * O);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < O; o++) {
      let s = b ? b.data[o] : 0;
      for (let i = 0; i < I; i++) s += x[t * I + i] * W.data[o * I + i];
      y[t * O + o] = s;
    }
  return y;
}

function rms(x: Mat, T: number, C: number, w: Float64Array, eps: number): Mat {
  const y = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < C; i++) ss += x[t * C + i] ** 2;
    const inv = 1 / Math.sqrt(ss / C + eps);
    for (let i = 0; i < C; i++) y[t * C + i] = x[t * C + i] * inv * w[i];
  }
  return y;
}

/** A LoRA adapter as host tensors under PEFT keys (`base_model.model.<module>.lora_A.weight`), merged as W + scaling · B A. */
export interface NaiveAdapter {
  scaling: number;
  tensors: Map<string, { shape: number[]; data: ArrayLike<number> }>;
}

/** W + scaling · B A for every module the adapter names, in float64 (the merged weights PEFT's merge_and_unload gives). */
function mergeAdapter(w: Map<string, { shape: number[]; data: Float64Array }>, adapter: NaiveAdapter): void {
  for (const [key, A] of adapter.tensors) {
    const m = /^base_model\.model\.(.+)\.lora_A\.weight$/.exec(key);
    if (!m) continue;
    const B = adapter.tensors.get(`base_model.model.${m[1]}.lora_B.weight`);
    const W = w.get(`${m[1]}.weight`);
    if (!B || !W) throw new Error(`naive reference: adapter module ${m[1]} has no lora_B or no base weight`);
    const [r, I] = A.shape;
    const [O] = B.shape;
    const data = W.data.slice();
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += B.data[o * r + k] * A.data[k * I + i];
        data[o * I + i] += adapter.scaling * s;
      }
    w.set(`${m[1]}.weight`, { shape: W.shape, data });
  }
}

/**
 * Hidden states (HF convention, every position) and logits of one sequence, in float64. With `patch`, the last
 * token's state at hidden-state index patch.index (0..n−1) is replaced by patch.state before the next block reads it;
 * with `adapter`, the weights are the base ones with the LoRA adapter merged in.
 */
export function naiveLlamaForward(
  dir: string,
  ids: number[],
  opts: { patch?: { index: number; state: ArrayLike<number> }; adapter?: NaiveAdapter } = {},
): { hidden: Float64Array[]; logits: Float64Array; config: DecoderConfig; lastAttention: Float64Array[] } {
  const c = readDecoderConfig(dir);
  if (c.ropeScaling !== null) throw new Error('naive reference has no rope scaling');
  const w = loadF32(dir);
  if (opts.adapter) mergeAdapter(w, opts.adapter);
  const patch = opts.patch;
  const g = (n: string) => w.get(n)!;
  const T = ids.length;
  const C = c.hiddenSize;
  const H = c.numHeads;
  const KV = c.numKvHeads;
  const D = c.headDim;
  let x: Mat = new Float64Array(T * C);
  ids.forEach((id, t) => x.set(g('model.embed_tokens.weight').data.subarray(id * C, (id + 1) * C), t * C));
  if (patch && (!Number.isInteger(patch.index) || patch.index < 0 || patch.index >= c.numLayers || patch.state.length !== C)) throw new Error('naive reference: bad patch');
  const patchAt = (i: number): void => {
    if (patch?.index === i) for (let j = 0; j < C; j++) x[(T - 1) * C + j] = patch.state[j];
  };
  patchAt(0);
  const hidden: Mat[] = [x.slice()];
  // per layer, the last token's attention weights [H, T] (row-major)
  const lastAttention: Mat[] = [];
  const rope = (v: Mat, heads: number) => {
    for (let t = 0; t < T; t++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < D / 2; i++) {
          const f = t / Math.pow(c.ropeTheta, (2 * i) / D);
          const a = v[t * heads * D + h * D + i];
          const b = v[t * heads * D + h * D + i + D / 2];
          v[t * heads * D + h * D + i] = a * Math.cos(f) - b * Math.sin(f);
          v[t * heads * D + h * D + i + D / 2] = b * Math.cos(f) + a * Math.sin(f);
        }
  };
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const hn = rms(x, T, C, g(`${p}input_layernorm.weight`).data, c.rmsNormEps);
    const q = lin(hn, T, g(`${p}self_attn.q_proj.weight`), w.get(`${p}self_attn.q_proj.bias`));
    const k = lin(hn, T, g(`${p}self_attn.k_proj.weight`), w.get(`${p}self_attn.k_proj.bias`));
    const v = lin(hn, T, g(`${p}self_attn.v_proj.weight`), w.get(`${p}self_attn.v_proj.bias`));
    rope(q, H);
    rope(k, KV);
    const att = new Float64Array(T * H * D);
    const lastAtt = new Float64Array(H * T);
    lastAttention.push(lastAtt);
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / (H / KV));
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          if (c.slidingWindow !== null && t - s >= c.slidingWindow) {
            scores.push(-Infinity);
            continue;
          }
          let dot = 0;
          for (let i = 0; i < D; i++) dot += q[t * H * D + h * D + i] * k[s * KV * D + kh * D + i];
          scores.push(dot / Math.sqrt(D));
        }
        const m = Math.max(...scores);
        const e = scores.map((z) => Math.exp(z - m));
        const z = e.reduce((a, b) => a + b, 0);
        if (t === T - 1) for (let s = 0; s <= t; s++) lastAtt[h * T + s] = e[s] / z;
        for (let s = 0; s <= t; s++) for (let i = 0; i < D; i++) att[t * H * D + h * D + i] += (e[s] / z) * v[s * KV * D + kh * D + i];
      }
    }
    const o = lin(att, T, g(`${p}self_attn.o_proj.weight`), w.get(`${p}self_attn.o_proj.bias`));
    const h1 = x.map((a, i) => a + o[i]);
    const hn2 = rms(h1, T, C, g(`${p}post_attention_layernorm.weight`).data, c.rmsNormEps);
    const gate = lin(hn2, T, g(`${p}mlp.gate_proj.weight`), w.get(`${p}mlp.gate_proj.bias`));
    const up = lin(hn2, T, g(`${p}mlp.up_proj.weight`), w.get(`${p}mlp.up_proj.bias`));
    const act = gate.map((a, i) => (a / (1 + Math.exp(-a))) * up[i]);
    const down = lin(act, T, g(`${p}mlp.down_proj.weight`), w.get(`${p}mlp.down_proj.bias`));
    x = h1.map((a, i) => a + down[i]);
    patchAt(l + 1);
    if (l + 1 < c.numLayers) hidden.push(x.slice());
  }
  const normed = rms(x, T, C, g('model.norm.weight').data, c.rmsNormEps);
  hidden.push(normed);
  const head = c.tieWordEmbeddings ? g('model.embed_tokens.weight') : g('lm_head.weight');
  return { hidden, logits: lin(normed, T, head), config: c, lastAttention };
}
