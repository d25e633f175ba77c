// A checkpoint checked from its files before anything is written: every weight its config implies is there, with the config's shape, a floating-point dtype, and finite values that are not all zero.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFloating, tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { CheckpointWeights, checkFinite } from './checkpoint.js';

/** Weights that can never be all zero in a trained model: matrices and norm scales (a zero bias is ordinary). */
const NEVER_ZERO = (name: string, shape: readonly number[]): boolean => shape.length >= 2 || /norm\.weight$/i.test(name);

/**
 * Checks the checkpoint in `dir` against `expected` (HF weight name → shape, without `prefix`): a missing weight,
 * a shape the config does not imply, a non-float dtype (an F32 weight relabelled I32 would load as ≈1e9), a NaN or
 * ±Inf, or an all-zero matrix or norm is one IclitError naming the weight and its file. Reads each weight once
 * through its memory map (one pass over the weights, nothing converted or kept). `why` says where a missing
 * weight's count comes from (e.g. "config.json says num_hidden_layers 4").
 */
export function checkCheckpointWeights(dir: string, expected: ReadonlyMap<string, readonly number[]>, opts: { prefix?: string; why?: (name: string) => string } = {}): void {
  // `iclit run paper` opens one study per preset on the same checkpoint: its values are read once per process
  const key = `${filesSignature(dir)}\n${opts.prefix ?? ''}\n${JSON.stringify([...expected])}`;
  if (passed.has(key)) return;
  const weights = CheckpointWeights.open(dir);
  try {
    const prefix = opts.prefix ?? '';
    for (const [short, shape] of expected) {
      const name = `${prefix}${short}`;
      const info = weights.info(name);
      if (!info) throw new IclitError(`the checkpoint in ${dir} has no weight '${name}'${opts.why?.(short) ?? ''}`);
      const file = weights.fileOf(name)!;
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        throw new IclitError(`weight '${name}' in ${file} has shape [${info.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
      }
      if (!isFloating(info.dtype)) throw new IclitError(`weight '${name}' in ${file} is stored as ${info.dtype}; model weights must be floating point (float32, float16, bfloat16)`);
      const view = weights.view(name);
      try {
        // One pass: the sum of |w| is NaN/Inf when an element is (or on overflow, which checkFinite tells apart) and 0 only when all are.
        const total = tidy(() => view.abs().sum().item());
        if (!Number.isFinite(total)) checkFinite(view, `weight '${name}' in ${file}`);
        if (total === 0 && NEVER_ZERO(name, shape)) throw new IclitError(`weight '${name}' in ${file} is all zeros; a study on it would divide by zero-norm hidden states (is the checkpoint complete?)`);
      } finally {
        view.dispose();
      }
    }
  } finally {
    weights.close();
  }
  passed.add(key);
}

/** Checks that passed in this process, by the checkpoint's files as they were then (path, size, modification time). */
const passed = new Set<string>();

/** The folder's safetensors files as they are now: a rewritten or replaced file gives another signature, so it is checked again. */
function filesSignature(dir: string): string {
  const real = realpathSync(dir);
  return readdirSync(real)
    .filter((f) => f.endsWith('.safetensors'))
    .sort()
    .map((f) => {
      const st = statSync(join(real, f));
      return `${join(real, f)}:${st.size}:${st.mtimeMs}:${st.ino}`;
    })
    .join('|');
}
