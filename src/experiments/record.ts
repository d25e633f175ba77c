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
  /** cos(h_ICL − h_anchor, h_IT − h_anchor) per measured layer: do ICL and IT move the state the same way. */
  simUpdate: number[];
  /** Accuracy conditions: fractions correct in [0, 1] over `n` evaluation examples, per situation. */
  accuracy?: { zeroShot: number; icl: number; it: number; n: number };
  /** Mean per-token loss decrease base − tuned (positive = tuning lowered the loss), by prompt part. */
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
  /** configHash of the manifest the record was computed under (a folder never mixes setups). */
  configHash: string;
  /** Path, relative to the results folder, of this record's stored hidden states (absent when not stored). */
  states?: string;
  /** Path, relative to the results folder, of this record's PEFT adapter folder (with --save-adapters). */
  adapter?: string;
}
