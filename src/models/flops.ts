// FLOPs of the decoder's passes as the study runs them: forward reads and LoRA training steps, counted from the config's shapes.
import { layerLinears, type DecoderConfig } from '../io/index.js';

/**
 * One unit of the study's compute. A `read` is one forward without autograd (base model or through adapters) over
 * packed sequences, running `blocks` decoder blocks (blocks past the highest requested hidden state are skipped)
 * and the LM head at `logitRows` rows. A `step` is one LoRA training step: the forward over every block with the
 * LM head at the `logitRows` target rows, its backward, and the optimiser update.
 */
export type Pass =
  | { kind: 'read'; lengths: number[]; blocks: number; logitRows: number; lora: boolean }
  | { kind: 'step'; lengths: number[]; logitRows: number };

/** The LoRA the counts assume: rank and wrapped module-name suffixes (e.g. ['q_proj', 'v_proj']). */
export interface FlopsLora {
  r: number;
  targets: readonly string[];
}

/** Forward FLOPs of one decoder block, by part (multiply-add = 2 FLOPs). */
export interface BlockFlops {
  /** The seven frozen projections: 2·N·in·out each. */
  linear: number;
  /** Scores and weighted values of every sequence over its full L×L (the packed kernel masks, it does not skip): 4·H·D·Σ L². */
  attention: number;
  /** The adapters of the wrapped modules: 2·N·r·(in + out) each. */
  lora: number;
}

/** Forward FLOPs of one block over sequences of `lengths` tokens (elementwise ops — norms, RoPE, SiLU, softmax — are not counted). */
export function blockFlops(c: DecoderConfig, lengths: readonly number[], lora?: FlopsLora): BlockFlops {
  const N = lengths.reduce((a, b) => a + b, 0);
  let linear = 0;
  let adapters = 0;
  for (const l of layerLinears(c)) {
    linear += 2 * N * l.in * l.out;
    if (lora && lora.targets.some((t) => l.name.endsWith(t))) adapters += 2 * N * lora.r * (l.in + l.out);
  }
  const attention = 4 * c.numHeads * c.headDim * lengths.reduce((a, L) => a + L * L, 0);
  return { linear, attention, lora: adapters };
}

/** FLOPs of the LM head at `rows` rows: 2·rows·C·V. */
export function headFlops(c: DecoderConfig, rows: number): number {
  return 2 * rows * c.hiddenSize * c.vocabSize;
}

/**
 * FLOPs of a pass. A training step's backward is counted as the parts need it: the frozen projections and the LM
 * head compute only the gradient of their input (1× their forward: their weights need none), attention both
 * operands' gradients (2×), the adapters their weights' and their input's gradients (2×). So a step is about 2×
 * a forward, not the 3× of full training. (Block 0's frozen q/k/v input gradients, which autograd skips, are
 * counted: under 1/n_layers of a block's backward.)
 */
export function passFlops(c: DecoderConfig, pass: Pass, lora: FlopsLora): number {
  if (pass.kind === 'read') {
    const b = blockFlops(c, pass.lengths, pass.lora ? lora : undefined);
    return pass.blocks * (b.linear + b.attention + b.lora) + headFlops(c, pass.logitRows);
  }
  const b = blockFlops(c, pass.lengths, lora);
  const forward = c.numLayers * (b.linear + b.attention + b.lora) + headFlops(c, pass.logitRows);
  const backward = c.numLayers * (b.linear + 2 * b.attention + 2 * b.lora) + headFlops(c, pass.logitRows);
  return forward + backward;
}
