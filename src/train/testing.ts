// Test helpers for training: the tiny-llama fixture's LoRA tensors read as PEFT-keyed adapter weights.
import type { SafetensorsFile } from '../io/index.js';
import { peftKey } from '../lora/index.js';
import { keep, tidy, type Tensor } from '../torch/index.js';

/** The fixture's `<prefix>.<module>.lora_X.weight` tensors under PEFT keys, as float32. */
export function adapterFrom(file: SafetensorsFile, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const name of file.names()) {
    const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(.+)\\.lora_([AB])\\.weight$`).exec(name);
    if (m) out.set(peftKey(m[1], m[2] as 'A' | 'B'), keep(tidy(() => file.tensor(name).cloneAs('float32'))));
  }
  return out;
}
