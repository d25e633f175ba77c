// LoRA settings defined once (PEFT's LoraConfig fields, the paper's defaults) and PEFT's naming rules; no tensors, so any layer above may read it.
/** The PEFT LoraConfig fields iclit uses. */
export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Module names as PEFT matches them: a module is targeted when its path equals or ends with `.<target>`. */
  targets: string[];
  /** PEFT `use_rslora`: scaling alpha/√r instead of alpha/r. */
  useRslora?: boolean;
}

/**
 * The LoRA of the paper (Duan et al.: r = 8, alpha = 32, dropout 0.05 on q_proj and v_proj): the one default of the
 * study, `iclit tune` and the memory estimate's callers.
 */
export const LORA_DEFAULTS: Readonly<LoraConfig> = Object.freeze({ r: 8, alpha: 32, dropout: 0.05, targets: Object.freeze(['q_proj', 'v_proj']) as string[] });
/** LORA_DEFAULTS.targets (kept as its own export for callers that only need the targets). */
export const DEFAULT_TARGETS: readonly string[] = LORA_DEFAULTS.targets;
/** The projections LoRA may wrap in a LLaMA-family decoder. */
export const KNOWN_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export function loraScaling(c: Pick<LoraConfig, 'r' | 'alpha' | 'useRslora'>): number {
  return c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

/** PEFT's file key of a LoRA matrix: `base_model.model.<module>.lora_A.weight`. */
export function peftKey(module: string, which: 'A' | 'B'): string {
  return `base_model.model.${module}.lora_${which}.weight`;
}

/** True when PEFT's `target_modules` list selects the module at `path`. */
export function isTargeted(path: string, targets: readonly string[]): boolean {
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

