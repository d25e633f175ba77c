// The record one finished repeat of one condition produces: what the runner emits and the results store keeps (schema 2), and how it stores its condition.
import type { Condition } from './conditions.js';
import type { Unit } from './units.js';

/** Hidden-state indices follow Hugging Face `output_hidden_states`: 0 = embeddings, n_layers = after the final norm. */
export interface RepeatRecord {
  /** Preset name, e.g. 'convergence', 'shots'. */
  experiment: string;
  /** Condition within the preset, e.g. 'right-labels', 'k=5', 'bin=3'. */
  condition: string;
  /** 0-based repeat index; the same repeat index shares its inference example across conditions. */
  repeat: number;
  /** Seed this repeat was drawn and tuned with (derived from the run seed). */
  seed: number;
  /** Label of the model (folder name unless the user names it). */
  model: string;
  /** Hidden-state indices measured, aligned with the similarity arrays. */
  layers: number[];
  /** Cosine similarity per measured layer (NaN where undefined, e.g. a zero vector). */
  simAnchorIcl: number[];
  simAnchorIt: number[];
  simIclIt: number[];
  /** cos(h_ICL − h_anchor, h_IT − h_anchor) per measured layer: do ICL and IT move the state the same way. */
  simUpdate: number[];
  /**
   * Accuracy conditions: fractions correct in [0, 1] over `n` evaluation examples, per situation; `flips` (Dai et al.'s
   * Rec2FTP counts): examples wrong zero-shot and right under IT / under ICL / under both.
   */
  accuracy?: { zeroShot: number; icl: number; it: number; n: number; flips?: { it: number; icl: number; both: number } };
  /** Next-token agreement at the last input position (every repeat; natural-log units). */
  outputs?: {
    /** KL(P_ICL ‖ P_IT) */
    klIclIt: number;
    /** Jensen–Shannon divergence of P_ICL, P_IT */
    jsIclIt: number;
    /** KL(P_ICL ‖ P_anchor) */
    klIclAnchor: number;
    /** KL(P_IT ‖ P_anchor) */
    klItAnchor: number;
    /** Same argmax token. */
    top1IclIt: boolean;
    top1AnchorIcl: boolean;
    top1AnchorIt: boolean;
    /** Probability mass on the task's label words' first tokens (classification tasks). */
    labelMass?: { anchor: number; icl: number; it: number };
  };
  /** Last-token attention per measured layer, aligned with `layers` (hidden-state index l ≥ 1 = block l−1; NaN at 0). */
  attention?: {
    /** Head-averaged cosine over the positions all three prompts share (X and B). */
    anchorIcl: number[];
    anchorIt: number[];
    iclIt: number[];
    /** cos(att_ICL − att_anchor, att_IT − att_anchor) over the shared positions, each head's row there renormalised to sum 1 first, head-averaged. */
    change: number[];
    /** Share of the ICL last token's attention on the demonstration tokens (head mean). */
    demoShare: number[];
  };
  /** Mean per-token loss decrease base − tuned (positive = tuning lowered the loss), by prompt part. */
  lossDecrease?: { instruction: number; example: number };
  /** Causal patching (the `patching` preset): per patch point (hidden-state index 0..n−1). Owner: patching helper. */
  patching?: {
    layers: number[];
    /** The evidence: gapClosed(anchor output, anchor run patched with the ICL run's last-token state at l, IT output). Absent in records written before the cross curves. */
    iclToIt?: number[];
    /** gapClosed(anchor output, anchor run patched with the IT run's state at l, ICL output). Absent in records written before the cross curves. */
    itToIcl?: number[];
    icl: number[]; // check: gapClosed: anchor run on the base model, last-token state at l replaced by the ICL run's; toward the ICL output
    it: number[]; // check: the same with the IT run's state (X + B through the adapter); toward the IT output
  };
  /** The exact prompts and their token counts. */
  prompts: { anchor: string; icl: string; tuning: string[] };
  tokenCounts: { anchor: number; icl: number; tuning: number[] };
  /** Final training loss of the IT adapter (mean over its last epoch). */
  tuneLoss?: number;
  /** Wall-clock milliseconds spent on this record. */
  millis: number;
  /** Condition-specific values: shots, epochs, similarity bin and its cosine, instruction index, labels… */
  extra: Record<string, number | string | boolean | null>;
  /** configHash of the manifest the record was computed under (a folder never mixes setups). */
  configHash: string;
  /** Path, relative to the results folder, of this record's stored hidden states (absent when not stored). */
  states?: string;
  /** Path, relative to the results folder, of this record's PEFT adapter folder (with --save-adapters). */
  adapter?: string;
}

/**
 * A unit's `extra`: its condition's settings and its draw as the record stores them (the keys and order of schema 2).
 * The one writer of these keys; `recordCondition` is their one reader.
 */
export function unitExtra(u: Unit): RepeatRecord['extra'] {
  const c = u.condition;
  const extra: RepeatRecord['extra'] = {
    instructionIndex: u.instructionIndex, inferenceIndex: u.inferenceIndex,
    shots: c.shots, epochs: c.epochs, labels: c.labels, demoTask: c.demoTask, withInstruction: c.withInstruction,
  };
  if (u.bin) Object.assign(extra, { bin: u.bin.index, binLo: u.bin.lo, binHi: u.bin.hi, binCandidates: u.bin.candidates, empty: u.empty });
  if (u.bin?.demoCosine !== undefined) extra.demoCosine = u.bin.demoCosine;
  extra.demoIndices = u.demoIndices.join(',');
  if (u.evaluation) extra.evalExamples = u.evaluation.gold.length;
  if (c.control !== undefined) extra.control = c.control;
  return extra;
}

/** The condition settings a record stores (what the report groups by), typed; null where the record does not say. */
export interface RecordCondition {
  labels: Condition['labels'] | null;
  shots: number | null;
  epochs: number | null;
  bin: number | null;
  demoTask: string | null;
  withInstruction: boolean | null;
  /** The built-in control the record's condition is ('untrained', 'random-adapter', 'shuffled-labels'), or null for the preset's own conditions. */
  control: string | null;
}

/** Reads back what unitExtra wrote; never looks at the condition's name (a condition's name only labels it). */
export function recordCondition(r: Pick<RepeatRecord, 'extra'>): RecordCondition {
  const x = r.extra ?? {};
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    labels: x.labels === 'right' || x.labels === 'wrong' || x.labels === 'shuffled' ? x.labels : null,
    shots: num(x.shots),
    epochs: num(x.epochs),
    bin: num(x.bin),
    demoTask: typeof x.demoTask === 'string' ? x.demoTask : null,
    withInstruction: typeof x.withInstruction === 'boolean' ? x.withInstruction : null,
    control: typeof x.control === 'string' ? x.control : null,
  };
}
