// The interfaces the runner computes and saves through: the model side (base reads, tuning → adapters) and the record sink.
import type { LoraConfig } from '../lora/index.js';
import type { TextEmbedder } from '../models/index.js';
import type { TrainExample } from '../train/index.js';
import type { ChatTemplate } from '../tokenizers/index.js';
import type { RepeatRecord } from './record.js';

export type { TextEmbedder };

/** LoRA and optimiser settings of one tuning call. */
export interface TuneSettings {
  epochs: number;
  lr: number;
  /** 'linear': decays to 0 over the steps (the Hugging Face Trainer's default; the paper names no schedule); 'constant'. */
  lrSchedule: 'constant' | 'linear';
  weightDecay: number;
  /** The adapters' LoRA (r, alpha, dropout, targets): src/lora's one definition. */
  lora: LoraConfig;
}

/** One tuning text: token ids (BOS included) and, optionally, which tokens carry loss (same length, 1 = target). */
export type TuneText = TrainExample;

/** N adapters tuned at once: adapter n on texts[n]; LoRA initialised and dropout drawn from seeds[n]. */
export interface TuneRequest {
  texts: TuneText[][];
  seeds: number[];
  /** Seeds the epoch shuffle (one order shared by the batch); never a condition's name. */
  shuffleSeed: number;
  settings: TuneSettings;
}

/** A PEFT adapter's weights on the host, under PEFT keys, ready to write as adapter_model.safetensors. */
export interface AdapterWeights {
  config: LoraConfig;
  /** float32 tensors by PEFT key (`base_model.model.<module>.lora_A.weight`), [r, in] / [out, r]. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** What a read computes besides the hidden states, in the same forward. */
export interface ReadOptions {
  /** The full next-token logits at each prompt's last token (the LM head runs at that token only). */
  logits?: boolean;
  /** The last token's attention weights of the block that produced each requested hidden state. */
  attention?: boolean;
}

/** One prompt's read at its last token. */
export interface PromptRead {
  /** Hidden states, [layer] (layers in the requested order). */
  hidden: Float32Array[];
  /** With `logits`: [V] float32. */
  logits?: Float32Array;
  /**
   * With `attention`: per requested layer, the last token's attention weights of block l − 1 (the block whose output
   * is hidden state l) over the prompt's own T tokens, [H · T] head-major (one row per query head, grouped kv heads
   * already repeated); null at layer 0 (the embeddings: no block).
   */
  attention?: (Float32Array | null)[];
}

/**
 * Trained adapters, owned by this value until dispose(): the IT situation is read through them. Every read takes,
 * per row, the adapter that reads it (`adapterOf[i]`, default: row i through adapter i).
 */
export interface TunedAdapters {
  readonly count: number;
  /** Mean training loss over the last epoch, per adapter. */
  readonly tuneLoss: number[];
  /** Hidden states at each prompt's last token: [prompt][layer]. */
  hidden(prompts: number[][], layers: number[], adapterOf?: number[]): Float32Array[][];
  /** Hidden states and, as `opts` asks, logits and attention at each prompt's last token, one forward per batch. */
  read(prompts: number[][], layers: number[], opts?: ReadOptions, adapterOf?: number[]): PromptRead[];
  /** Logits at each prompt's last token for the token ids tokens[i]: [prompt][token]. */
  lastLogits(prompts: number[][], tokens: number[][], adapterOf?: number[]): number[][];
  /** Per-token cross-entropy of each text (entry t predicts ids[t + 1]). */
  tokenLosses(texts: number[][], adapterOf?: number[]): number[][];
  /** Host copy of adapter n (what --save-adapters writes). */
  weights(n: number): AdapterWeights;
  /**
   * The random-adapter control: these adapters turned to a seeded random direction, each module's weight change keeping its tuned Frobenius norm
   * (adapter n from seeds[n]), as a new value the caller owns (this one stays usable); tuneLoss is this set's.
   */
  randomDirection(seeds: number[]): TunedAdapters;
  dispose(): void;
}

/**
 * Progress inside a pass, for a progress line that moves within a chunk: a decoder block finished its forward (reads
 * and training alike), or a training step finished its backward and update (over the rows of its last forward).
 */
export interface WorkEvent {
  kind: 'block' | 'step';
  /** Tokens of each packed sequence of the pass. */
  lengths: readonly number[];
}

/** The model side of the study, for one model. */
export interface StudyBackend {
  /** Told of each block and training step as it finishes (optional: set by whoever shows progress). */
  onWork?: (e: WorkEvent) => void;
  /** Model label written into records. */
  readonly label: string;
  /** Whose weights it reads: the model's ('trained', when absent) or the untrained control's; the runner computes the conditions of these weights only. */
  readonly weights?: 'trained' | 'untrained';
  /** Number of HF hidden states (n_layers + 1). */
  readonly numHiddenStates: number;
  /** Longest sequence the model reads (config max_position_embeddings): longer prompts are refused naming their rows. */
  readonly maxPositions: number;
  /** Token ids of `text`: BOS as the tokenizer's config says, or none under a chat template (it writes its own). */
  encode(text: string): number[];
  /** The model folder's chat template, when the study renders prompts through it. */
  readonly chat?: ChatTemplate;
  /** Base-model hidden states at each prompt's last token: [prompt][layer] (layers in the given order). */
  hidden(prompts: number[][], layers: number[]): Float32Array[][];
  /** Base-model hidden states and, as `opts` asks, logits and attention at each prompt's last token, one forward per batch. */
  read(prompts: number[][], layers: number[], opts?: ReadOptions): PromptRead[];
  /** Base-model logits at each prompt's last token for the token ids tokens[i]: [prompt][token]. */
  lastLogits(prompts: number[][], tokens: number[][]): number[][];
  /** Base-model per-token cross-entropy of each text: entry t predicts ids[t + 1], so n ids give n − 1 losses. */
  tokenLosses(texts: number[][]): number[][];
  /** Tunes N adapters (one per request row) and hands them over. */
  tune(req: TuneRequest): TunedAdapters;
  // Patching (src/experiments/patching.ts): the output with one last-token state replaced (the plain outputs are read's logits).
  /**
   * Base-model full next-token logits [prompt][V] when prompt i's last-token state at HF hidden-state index
   * index[i] (0..n_layers − 1) is replaced by states[i] before the next block reads it.
   */
  patchedLastLogits(prompts: number[][], index: number[], states: Float32Array[]): Float32Array[];
  /** Returns cached tensor memory to the system (called between repeat chunks, so memory stays flat). */
  releaseMemory(): void;
  dispose(): void;
}

/** The unit of resume: one repeat of one condition on one model. */
export interface UnitKey {
  experiment: string;
  condition: string;
  repeat: number;
  model: string;
}

/**
 * The last-token hidden states of the three situations at the HF hidden-state indices `layers`, [layer][C] float32:
 * what a unit computes, the results folder stores (states/*.safetensors) and the robustness measures read back.
 */
export interface SituationStates {
  layers: number[];
  anchor: Float32Array[];
  icl: Float32Array[];
  it: Float32Array[];
}

/** What one unit produces: its record, and what it can store beside it. */
export interface UnitResult {
  record: RepeatRecord;
  /** Absent for units with nothing computed (a similarity bin without candidates). */
  states?: SituationStates;
  /** Present when the plan saves adapters. */
  adapter?: AdapterWeights;
}

/** Where finished units go (src/results' store implements it). */
export interface RecordSink {
  isDone(key: UnitKey): boolean;
  /** All units of one repeat, stored atomically (records, states and adapters together). */
  save(results: UnitResult[]): void;
}
