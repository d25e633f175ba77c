// The record one finished repeat of one condition produces: what the runner emits and the results store keeps (schema 2).

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
  /** cos(h_ICL − h_anchor, h_IT − h_anchor) per measured layer (NaN where an update is zero). */
  simUpdate: number[];
  /** Fractions correct in [0, 1] over `n` evaluation examples (accuracy preset); replaces the old 0/1 `correct`. */
  accuracy?: { zeroShot: number; icl: number; it: number; n: number };
  /** Mean per-token loss DECREASE base − tuned (positive = tuning helped), by prompt part. */
  lossDecrease?: { instruction: number; example: number };
  /** The exact prompts and their token counts. */
  prompts: { anchor: string; icl: string; tuning: string[] };
  tokenCounts: { anchor: number; icl: number; tuning: number[] };
  /** Final training loss of the IT adapter (mean over its last epoch). */
  tuneLoss?: number;
  /** Wall-clock milliseconds spent on this record. */
  millis: number;
  /** Condition-specific values: shots, epochs, similarity bin and its cosine, instruction index, labels… */
  extra: Record<string, number | string | boolean | null>;
  /** configHash of the manifest the record was computed under. */
  configHash: string;
  /** Relative path (from the results folder) of this record's hidden states, when stored (default on). */
  states?: string;
  /** Relative path of this record's PEFT adapter folder, when --save-adapters. */
  adapter?: string;
}
