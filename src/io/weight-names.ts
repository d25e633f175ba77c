// Hugging Face weight names and shapes of a LLaMA-family decoder, derived from its config (one source of truth).
import type { DecoderConfig } from './hf-config.js';

export const embedName = 'model.embed_tokens.weight';
export const finalNormName = 'model.norm.weight';
export const lmHeadName = 'lm_head.weight';

/** `model.layers.{i}.` */
export function layerPrefix(i: number): string {
  return `model.layers.${i}.`;
}

/** The linear modules of one decoder layer (HF module paths relative to the layer) with [out, in] shapes and bias. */
export function layerLinears(c: DecoderConfig): { name: string; out: number; in: number; bias: boolean }[] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  return [
    { name: 'self_attn.q_proj', out: q, in: c.hiddenSize, bias: c.qkvBias },
    { name: 'self_attn.k_proj', out: kv, in: c.hiddenSize, bias: c.qkvBias },
    { name: 'self_attn.v_proj', out: kv, in: c.hiddenSize, bias: c.qkvBias },
    { name: 'self_attn.o_proj', out: c.hiddenSize, in: q, bias: c.oBias },
    { name: 'mlp.gate_proj', out: c.intermediateSize, in: c.hiddenSize, bias: c.mlpBias },
    { name: 'mlp.up_proj', out: c.intermediateSize, in: c.hiddenSize, bias: c.mlpBias },
    { name: 'mlp.down_proj', out: c.hiddenSize, in: c.intermediateSize, bias: c.mlpBias },
  ];
}

/** Every weight of the checkpoint with its shape, in HF order. */
export function decoderWeightShapes(c: DecoderConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  m.set(embedName, [c.vocabSize, c.hiddenSize]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    m.set(`${p}input_layernorm.weight`, [c.hiddenSize]);
    for (const l of layerLinears(c)) {
      m.set(`${p}${l.name}.weight`, [l.out, l.in]);
      if (l.bias) m.set(`${p}${l.name}.bias`, [l.out]);
    }
    m.set(`${p}post_attention_layernorm.weight`, [c.hiddenSize]);
  }
  m.set(finalNormName, [c.hiddenSize]);
  if (!c.tieWordEmbeddings) m.set(lmHeadName, [c.vocabSize, c.hiddenSize]);
  return m;
}
