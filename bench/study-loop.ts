// The convergence study's loop written with the library (models, LoRA, train), batched as `iclit run` batches repeats.
import { LlamaModel } from '../src/models/index.js';
import { LORA_DEFAULTS, applyLora, type LoraConfig } from '../src/lora/index.js';
import { trainLora } from '../src/train/index.js';
import { releaseCachedMemory, tidyNoGrad } from '../src/torch/index.js';
import { cosine } from '../src/stats/index.js';
import type { StudyRepeat } from './workload.js';

export const STUDY_LORA: LoraConfig = LORA_DEFAULTS;
export const STUDY_LR = 1e-4;
export const STUDY_EPOCHS = 10;

/** Hidden states at every layer, last token, of each prompt: [prompt][layer] float32 vectors. */
function hiddenAll(model: LlamaModel, prompts: number[][]): Float32Array[][] {
  const layers = [...Array(model.numHiddenStates).keys()];
  return tidyNoGrad(() => {
    const { hidden } = model.forward(prompts, { hiddenStates: layers });
    const C = model.config.hiddenSize;
    const flat = layers.map((l) => hidden.get(l)!.toFloat32Array());
    return prompts.map((_, b) => flat.map((f) => f.slice(b * C, (b + 1) * C)));
  });
}

export interface StudyLoopResult {
  seconds: number;
  /** s(ICL, IT) at the last layer, per repeat (a checksum that the work was done). */
  simIclIt: number[];
}

/**
 * Runs `repeats` in chunks of `batch`: per chunk the anchors' and ICL prompts' hidden states at every layer (one
 * batched forward each), `batch` LoRA adapters (q/v, r 8, dropout 0.05) tuned together with AdamW (lr 1e-4) for
 * `epochs` epochs on one tuning text each, each adapter's anchor read under it, cosines; then the CPU cache is
 * released, as the runner does after every chunk.
 */
export function runStudyLoop(model: LlamaModel, repeats: StudyRepeat[], batch: number, epochs = STUDY_EPOCHS, seed = 0): StudyLoopResult {
  const t0 = performance.now();
  const simIclIt: number[] = [];
  for (let start = 0; start < repeats.length; start += batch) {
    const chunk = repeats.slice(start, start + batch);
    const anchors = chunk.map((r) => r.anchor);
    hiddenAll(model, anchors);
    const icl = hiddenAll(model, chunk.map((r) => r.icl));
    const lora = applyLora(model, STUDY_LORA, { seeds: chunk.map((_, i) => seed + start + i) });
    try {
      trainLora(model, lora, chunk.map((r) => [{ ids: r.tuning }]), { epochs, lr: STUDY_LR, batchSize: 1, seed });
      const it = lora.apply(() => hiddenAll(model, anchors)); // row b is read through adapter b
      const last = model.numHiddenStates - 1;
      chunk.forEach((_, b) => simIclIt.push(cosine(icl[b][last], it[b][last])));
    } finally {
      lora.dispose();
    }
    releaseCachedMemory();
  }
  return { seconds: (performance.now() - t0) / 1000, simIclIt };
}
