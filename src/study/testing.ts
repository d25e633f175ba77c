// Test support for study tests: the small settings they run with and a results folder's records and manifest read back.
import { ResultsStore } from '../results/index.js';
import type { PartialSettings } from './settings.js';

/** A study small enough for a unit test on the tiny model: 2 repeats, 2 epochs, float32 on the CPU, LoRA r 2. */
export const QUICK_STUDY: PartialSettings = { repeats: 2, epochs: 2, dtype: 'float32', device: 'cpu', lora: { r: 2, alpha: 8 }, lr: 1e-3 };

/** The records and manifest of the results folder `dir`, opened read-only. */
export function storedResults(dir: string) {
  const s = ResultsStore.open(dir, { readonly: true });
  try {
    return { records: s.records(), manifest: s.manifest()! };
  } finally {
    s.close();
  }
}
