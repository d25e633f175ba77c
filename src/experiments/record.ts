// The record one finished repeat of one condition produces: what the runner emits and the results store keeps.

/** Hidden-state indices follow Hugging Face `output_hidden_states`: 0 = embeddings, n_layers = after the final norm. */
export interface RepeatRecord {
  /** Preset name, e.g. 'convergence', 'shots'. */
  experiment: string;
  /** Condition within the preset, e.g. 'correct-labels', 'k=5', 'bin=3'. */
  condition: string;
  /** 0-based repeat index; the same repeat index shares its inference example across conditions. */
  repeat: number;
  /** Seed this repeat was drawn and tuned with (derived from the run seed). */
  seed: number;
  /** Label of the model (folder name unless the user names it). */
  model: string;
  /** Hidden-state indices measured, aligned with the three similarity arrays. */
  layers: number[];
  /** Cosine similarity per measured layer (NaN where undefined, e.g. a zero vector). */
  simAnchorIcl: number[];
  simAnchorIt: number[];
  simIclIt: number[];
  /** 1/0 per situation where the preset measures accuracy (label-word logits), else absent. */
  correct?: { zeroShot?: number; icl?: number; it?: number };
  /** Mean per-token loss decrease (base − tuned) by prompt part, where the preset measures it. */
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
}
