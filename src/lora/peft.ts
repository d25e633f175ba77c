// PEFT adapter folders: adapter_config.json + adapter_model.safetensors, written and read with validation.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, tensorBytes, writeSafetensors, type TensorBytes } from '../io/index.js';
import { readJsonObject } from '../io/json-file.js';
import { tidy, keep, type Tensor } from '../torch/index.js';
import type { LlamaModel } from '../models/index.js';
import { IclitError } from '../util/errors.js';
import { isTargeted, peftKey, type LoraConfig } from './config.js';
import { adapterWeights, applyLora, setAdapterWeights, type LoraAdapters } from './lora.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export interface SaveAdapterOptions {
  /** Which adapter of a batched set to write (default 0). */
  index?: number;
  /** Recorded as base_model_name_or_path. */
  baseModel?: string;
}

/** The adapter_config.json PEFT writes for a LoRA on a causal LM. */
export function peftConfigJson(c: LoraConfig, baseModel: string | null): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModel,
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: [...c.targets],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_rslora: c.useRslora ?? false,
    use_dora: false,
  };
}

/** Writes a PEFT folder from host tensors under PEFT keys ([r, in] / [out, r]). */
export function writePeftFolder(dir: string, config: LoraConfig, tensors: Map<string, TensorBytes>, baseModel: string | null = null): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  writeFileSync(join(dir, ADAPTER_CONFIG), JSON.stringify(peftConfigJson(config, baseModel), null, 2) + '\n');
}

/** Writes adapter `index` of `lora` as a PEFT folder (float32 weights, [r, in] / [out, r]). */
export function saveAdapter(dir: string, lora: LoraAdapters, opts: SaveAdapterOptions = {}): void {
  const tensors = new Map<string, TensorBytes>();
  tidy(() => {
    const w = adapterWeights(lora, opts.index ?? 0);
    for (const [k, t] of w) {
      tensors.set(k, tensorBytes(t));
      t.dispose();
    }
  });
  writePeftFolder(dir, lora.config, tensors, opts.baseModel ?? null);
}

/** Parses and validates a PEFT adapter_config.json (LoRA only, the options iclit implements). */
export function readAdapterConfig(dir: string): LoraConfig {
  const path = join(dir, ADAPTER_CONFIG);
  if (!existsSync(dir)) throw new IclitError(`adapter folder ${dir} does not exist`);
  if (!existsSync(path)) throw new IclitError(`${dir} is not a PEFT adapter folder: missing ${ADAPTER_CONFIG}`);
  const raw = readJsonObject(path);
  const bad = (key: string, why: string): never => {
    throw new IclitError(`${path}: ${key} ${why} (got ${JSON.stringify(raw[key])})`);
  };
  if (raw.peft_type !== 'LORA') bad('peft_type', "must be 'LORA'");
  const r = raw.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) bad('r', 'must be a positive integer');
  const alpha = raw.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !(alpha > 0)) bad('lora_alpha', 'must be a positive number');
  const dropout = raw.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) bad('lora_dropout', 'must be a number in [0, 1)');
  const tm = raw.target_modules;
  if (!Array.isArray(tm) || tm.length === 0 || !tm.every((t) => typeof t === 'string')) bad('target_modules', 'must be a non-empty list of module names');
  if (raw.bias !== undefined && raw.bias !== 'none') bad('bias', "must be 'none' (LoRA biases are not supported)");
  for (const flag of ['use_dora', 'fan_in_fan_out']) if (raw[flag] === true) bad(flag, 'is not supported');
  if (raw.modules_to_save != null && !(Array.isArray(raw.modules_to_save) && raw.modules_to_save.length === 0)) bad('modules_to_save', 'is not supported');
  if (raw.layers_to_transform != null) bad('layers_to_transform', 'is not supported');
  return { r: r as number, alpha: alpha as number, dropout: dropout as number, targets: tm as string[], useRslora: raw.use_rslora === true };
}

/** The adapter's tensors under PEFT keys (copies in float32; the caller owns them). */
export function readAdapterWeights(dir: string): Map<string, Tensor> {
  const path = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(path)) {
    const hint = existsSync(join(dir, 'adapter_model.bin')) ? ' (adapter_model.bin is a pickle: re-save it with safe_serialization=True)' : '';
    throw new IclitError(`${dir} is not a PEFT adapter folder: missing ${ADAPTER_WEIGHTS}${hint}`);
  }
  const f = SafetensorsFile.open(path);
  const out = new Map<string, Tensor>();
  try {
    for (const name of f.names()) {
      // PEFT's in-memory names carry the adapter name (`.lora_A.default.weight`); its files do not.
      const key = name.replace(/\.lora_([AB])\.default\.weight$/, '.lora_$1.weight');
      out.set(key, keep(tidy(() => f.tensor(name).cloneAs('float32'))));
    }
  } finally {
    f.close();
  }
  return out;
}

/**
 * Loads a PEFT LoRA folder for `model`: checks the config, that every targeted module exists in the model and that
 * every weight is present with its shape, then makes a set of LoRA adapters (one, or `count` copies) with those
 * weights (applied to the model by its `apply`).
 */
export function loadAdapter(dir: string, model: LlamaModel, opts: { count?: number } = {}): LoraAdapters {
  const config = readAdapterConfig(dir);
  const weights = readAdapterWeights(dir);
  const file = join(dir, ADAPTER_WEIGHTS);
  try {
    const modules = new Set<string>();
    for (const key of weights.keys()) {
      const m = /^base_model\.model\.(.+)\.lora_[AB]\.weight$/.exec(key);
      if (!m) throw new IclitError(`${file}: unexpected tensor '${key}' (expected base_model.model.<module>.lora_A.weight / lora_B.weight)`);
      modules.add(m[1]);
    }
    for (const m of modules) {
      if (!model.linears.has(m)) throw new IclitError(`${file}: module '${m}' is not a linear layer of the model`);
      if (!isTargeted(m, config.targets)) throw new IclitError(`${file}: module '${m}' is not among target_modules [${config.targets.join(', ')}]`);
      for (const w of ['A', 'B'] as const) if (!weights.has(peftKey(m, w))) throw new IclitError(`${file}: missing '${peftKey(m, w)}'`);
    }
    for (const name of model.linears.keys()) {
      if (isTargeted(name, config.targets) && !modules.has(name)) throw new IclitError(`${file}: target module '${name}' has no LoRA weights`);
    }
    const lora = applyLora(model, config, { adapters: opts.count ?? 1 });
    try {
      setAdapterWeights(lora, weights, 'all', file);
    } catch (e) {
      lora.dispose();
      throw e;
    }
    return lora;
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}
