// An independent float64 BERT forward and sentence-transformers pooling in plain loops (no libtorch), the reference for tests on random checkpoints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../io/index.js';
import { readEncoderConfig, type EncoderConfig } from '../io/bert-config.js';

type W = { shape: number[]; data: Float64Array };

function loadF32(dir: string): Map<string, W> {
  const path = join(dir, 'model.safetensors');
  const bytes = readFileSync(path);
  const out = new Map<string, W>();
  for (const [name, info] of readSafetensorsHeader(path).tensors) {
    if (info.dtype !== 'float32') throw new Error('naive reference reads float32 checkpoints only');
    const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + info.byteOffset, bytes.byteOffset + info.byteOffset + info.byteLength));
    out.set(name.replace(/^bert\./, ''), { shape: info.shape, data: Float64Array.from(f) });
  }
  return out;
}

/** erf to ~1e-14: Maclaurin series below 3, the erfc continued fraction above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 100; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let k = a;
    for (let n = 80; n >= 1; n--) k = a + n / 2 / k;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / k;
  }
  return x < 0 ? -r : r;
}

function act(x: number, c: EncoderConfig): number {
  if (c.hiddenAct === 'gelu') return 0.5 * x * (1 + erf(x / Math.SQRT2));
  if (c.hiddenAct === 'gelu_tanh') return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  return Math.max(0, x);
}

// y[t, o] = sum_i x[t, i] * W[o, i] + b[o]
function lin(x: Float64Array, T: number, w: W, b: W): Float64Array {
  const [O, I] = w.shape;
  const y = new Float64Array(T * O);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < O; o++) {
      let s = b.data[o];
      for (let i = 0; i < I; i++) s += x[t * I + i] * w.data[o * I + i];
      y[t * O + o] = s;
    }
  return y;
}

function layerNorm(x: Float64Array, T: number, C: number, w: W, b: W, eps: number): Float64Array {
  const y = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let i = 0; i < C; i++) mean += x[t * C + i] / C;
    let v = 0;
    for (let i = 0; i < C; i++) v += (x[t * C + i] - mean) ** 2 / C;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < C; i++) y[t * C + i] = (x[t * C + i] - mean) * inv * w.data[i] + b.data[i];
  }
  return y;
}

/** Hidden states [T × C] of one unpadded sequence (token type 0), HF output_hidden_states order, in float64. */
export function naiveBertForward(dir: string, ids: number[]): { hidden: Float64Array[]; config: EncoderConfig } {
  const c = readEncoderConfig(dir);
  const w = loadF32(dir);
  const g = (n: string): W => {
    const t = w.get(n);
    if (!t) throw new Error(`naive reference: no weight ${n}`);
    return t;
  };
  const T = ids.length;
  const C = c.hiddenSize;
  const H = c.numHeads;
  const D = c.headDim;
  let x: Float64Array = new Float64Array(T * C);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < C; i++) {
      let v = g('embeddings.word_embeddings.weight').data[ids[t] * C + i] + g('embeddings.position_embeddings.weight').data[t * C + i];
      if (c.typeVocabSize > 0) v += g('embeddings.token_type_embeddings.weight').data[i];
      x[t * C + i] = v;
    }
  x = layerNorm(x, T, C, g('embeddings.LayerNorm.weight'), g('embeddings.LayerNorm.bias'), c.layerNormEps);
  const hidden = [x.slice()];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const L = (n: string) => lin(x, T, g(`${p}${n}.weight`), g(`${p}${n}.bias`));
    const q = L('attention.self.query');
    const k = L('attention.self.key');
    const v = L('attention.self.value');
    const ctx = new Float64Array(T * C);
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        const s = new Float64Array(T);
        let max = -Infinity;
        for (let u = 0; u < T; u++) {
          let d = 0;
          for (let i = 0; i < D; i++) d += q[t * C + h * D + i] * k[u * C + h * D + i];
          s[u] = d / Math.sqrt(D);
          max = Math.max(max, s[u]);
        }
        let z = 0;
        for (let u = 0; u < T; u++) z += (s[u] = Math.exp(s[u] - max));
        for (let u = 0; u < T; u++) for (let i = 0; i < D; i++) ctx[t * C + h * D + i] += (s[u] / z) * v[u * C + h * D + i];
      }
    const attnOut = lin(ctx, T, g(`${p}attention.output.dense.weight`), g(`${p}attention.output.dense.bias`));
    for (let j = 0; j < T * C; j++) attnOut[j] += x[j];
    const a = layerNorm(attnOut, T, C, g(`${p}attention.output.LayerNorm.weight`), g(`${p}attention.output.LayerNorm.bias`), c.layerNormEps);
    const inter = lin(a, T, g(`${p}intermediate.dense.weight`), g(`${p}intermediate.dense.bias`)).map((u) => act(u, c));
    const out = lin(inter, T, g(`${p}output.dense.weight`), g(`${p}output.dense.bias`));
    for (let j = 0; j < T * C; j++) out[j] += a[j];
    x = layerNorm(out, T, C, g(`${p}output.LayerNorm.weight`), g(`${p}output.LayerNorm.bias`), c.layerNormEps);
    hidden.push(x.slice());
  }
  return { hidden, config: c };
}

/** sentence-transformers pooling of one unpadded sequence's last hidden state [T × C] (every token is real). */
export function naivePool(last: Float64Array, T: number, C: number, modes: readonly string[], normalize: boolean): Float64Array {
  const parts: number[] = [];
  const col = (i: number) => Array.from({ length: T }, (_, t) => last[t * C + i]);
  for (const m of modes) {
    for (let i = 0; i < C; i++) {
      const v = col(i);
      const sum = v.reduce((a, b) => a + b, 0);
      if (m === 'cls_token') parts.push(v[0]);
      else if (m === 'max_tokens') parts.push(Math.max(...v));
      else if (m === 'mean_tokens') parts.push(sum / T);
      else if (m === 'mean_sqrt_len_tokens') parts.push(sum / Math.sqrt(T));
      else if (m === 'weightedmean_tokens') parts.push(v.reduce((a, b, t) => a + b * (t + 1), 0) / ((T * (T + 1)) / 2));
      else if (m === 'lasttoken') parts.push(v[T - 1]);
      else throw new Error(`naive pooling: unknown mode ${m}`);
    }
  }
  const out = Float64Array.from(parts);
  if (normalize) {
    const n = Math.max(Math.sqrt(out.reduce((a, b) => a + b * b, 0)), 1e-12);
    for (let i = 0; i < out.length; i++) out[i] /= n;
  }
  return out;
}
