// The small interface the runner computes through (tokens, hidden states, label logits, batched LoRA tuning).

/** LoRA and optimiser settings of one tuning call. */
export interface TuneSettings {
  epochs: number;
  lr: number;
  weightDecay: number;
  r: number;
  alpha: number;
  dropout: number;
  /** Module-name suffixes wrapped with LoRA, e.g. ['q_proj', 'v_proj']. */
  targets: string[];
}

/**
 * N adapters tuned at once: adapter n on texts[n] (token ids, BOS included), LoRA initialised and dropout drawn
 * from seeds[n]. After tuning, each adapter reads its own queries.
 */
export interface TuneRequest {
  texts: number[][][];
  seeds: number[];
  /** Seeds libtorch (dropout) and the epoch shuffle before tuning, so a batch's tuning is reproducible. */
  seed: number;
  settings: TuneSettings;
  /** Hidden states at the last position of hiddenPrompts[n] under adapter n, at `layers`. */
  hiddenPrompts?: number[][];
  layers: number[];
  /** Logits at the last position of logitPrompts[n] under adapter n, for the token ids logitTokens[n]. */
  logitPrompts?: number[][];
  logitTokens?: number[][];
  /** Per-token losses of lossTexts[n][j] under adapter n (see StudyBackend.tokenLosses). */
  lossTexts?: number[][][];
}

export interface TuneResult {
  /** Mean training loss over the last epoch, per adapter. */
  tuneLoss: number[];
  /** [adapter][layer] float32 hidden vectors (layers in request order). */
  hidden?: Float32Array[][];
  /** [adapter][token] logits. */
  logits?: number[][];
  /** [adapter][text][position]. */
  losses?: number[][][];
}

/** The model side of the study, for one model. */
export interface StudyBackend {
  /** Model label written into records. */
  readonly label: string;
  /** Number of HF hidden states (n_layers + 1). */
  readonly numHiddenStates: number;
  /** Token ids of `text` (BOS as the tokenizer's config says). */
  encode(text: string): number[];
  /** Hidden states of the base model at each prompt's last token: [prompt][layer] (layers in the given order). */
  hidden(prompts: number[][], layers: number[]): Float32Array[][];
  /** Base-model logits at each prompt's last token for the token ids tokens[i]: [prompt][token]. */
  lastLogits(prompts: number[][], tokens: number[][]): number[][];
  /**
   * Base-model per-token cross-entropy of each text: entry t is the loss of predicting ids[t + 1] from ids[..t],
   * so a text of n ids has n − 1 losses.
   */
  tokenLosses(texts: number[][]): number[][];
  /** Tunes N adapters (one per request row) and reads their queries; adapters are discarded afterwards. */
  tune(req: TuneRequest): TuneResult;
  dispose(): void;
}

/** The sentence encoder the demo-similarity preset bins demonstrations with. */
export interface SentenceEmbedder {
  /** One vector per text. */
  embed(texts: string[]): ArrayLike<number>[];
}
