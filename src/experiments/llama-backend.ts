// The StudyBackend over a LlamaModel + its tokenizer: batched base reads, and N LoRA adapters tuned at once, handed over as a value.
import { LlamaModel, patchedLastTokenLogitsAt, unpadRows, untrainedLlama, type ComputeDType } from '../models/index.js';
import { adapterWeights, applyLora, randomDirectionAdapters, type LoraAdapters } from '../lora/index.js';
import { perTokenLosses, trainLora } from '../train/index.js';
import { releaseCachedMemory, tensor, tidy, tidyNoGrad, type Tensor } from '../torch/index.js';
import type { ChatTemplate } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import type { AdapterWeights, PromptRead, ReadOptions, StudyBackend, TuneRequest, TunedAdapters, WorkEvent } from './backend.js';
import { openModelFolder, type ModelFolder } from './model-folder.js';
import { patchGroups } from './patching.js';
import { chunked } from '../util/group.js';

/**
 * Sequences per forward pass of the base or tuned reads: bounded so that a long evaluation set (accuracy reads 2 ×
 * --eval-examples prompts per repeat) keeps the memory of one batch of study prompts, not of the whole set.
 */
export const READ_BATCH = 16;

/**
 * Tuning texts per optimiser step for each adapter: 1, as the paper tunes on each demonstration in turn (k texts, k
 * steps an epoch; HF Trainer's per_device_train_batch_size 1), so k = 1 and k = 10 conditions differ only in data.
 */
const TEXTS_PER_STEP = 1;


/** [B, C] float32 tensor → B vectors. */
function rows(t: Tensor): Float32Array[] {
  const [B, C] = t.shape;
  const flat = t.contiguous().toFloat32Array();
  return Array.from({ length: B }, (_, b) => flat.slice(b * C, (b + 1) * C));
}

/** Logits [B, V] → for each row b the values at tokens[b]. */
function pick(logits: Tensor, tokens: number[][]): number[][] {
  return tidy(() => {
    const [B] = logits.shape;
    const width = tokens[0].length;
    if (tokens.some((t) => t.length !== width)) throw new IclitError('every prompt needs the same number of label tokens');
    const idx = tensor(tokens.flat(), [B, width], 'int64', logits.device); // [B, W]
    const vals = logits.gather(1, idx).toArray(); // [B, W]
    return Array.from({ length: B }, (_, b) => vals.slice(b * width, (b + 1) * width));
  });
}

/** Last-token attention [B, H, T] (zero past each end) → per sequence its own [H · L_b] weights, head-major. */
function attentionRows(w: Tensor, lengths: readonly number[]): Float32Array[] {
  const [B, H, T] = w.shape;
  const flat = w.contiguous().toFloat32Array();
  return Array.from({ length: B }, (_, b) => {
    const L = lengths[b];
    const out = new Float32Array(H * L);
    for (let h = 0; h < H; h++) out.set(flat.subarray((b * H + h) * T, (b * H + h) * T + L), h * L);
    return out;
  });
}

/**
 * One forward over a batch: the hidden states at the last token and, as asked, the full logits there (the LM head
 * at the last token only) and the last token's attention of the blocks behind the requested states. The model hands
 * every block's [B, H, T] weights to the host; each is sliced per sequence and freed in turn.
 */
export function readLastToken(model: LlamaModel, batch: number[][], layers: number[], opts: ReadOptions = {}): PromptRead[] {
  return tidyNoGrad(() => {
    const out = model.forward(batch, { hiddenStates: layers, logits: opts.logits, logitsPositions: 'last', lastTokenAttention: opts.attention });
    try {
      const perLayer = layers.map((l) => rows(out.hidden.get(l)!)); // [layer][b]
      const logits = out.logits && rows(out.logits); // [b] of [V]
      const byBlock = new Map<number, Float32Array[]>();
      const attention = out.attention && layers.map((l) => {
        if (l === 0) return null;
        const block = l - 1;
        let got = byBlock.get(block);
        if (!got) {
          const w = out.attention!.get(block)!;
          got = attentionRows(w, out.lengths); // [b] of [H · L_b]
          w.dispose();
          out.attention!.delete(block);
          byBlock.set(block, got);
        }
        return got;
      });
      return batch.map((_, b): PromptRead => {
        const r: PromptRead = { hidden: layers.map((_, i) => perLayer[i][b]) };
        if (logits) r.logits = logits[b];
        if (attention) r.attention = attention.map((a) => (a ? a[b] : null));
        return r;
      });
    } finally {
      for (const w of out.attention?.values() ?? []) w.dispose();
    }
  });
}

/** The model reads of the study, on whatever adapters are active: one batch each (≤ READ_BATCH rows). */
const reads = {
  hidden(model: LlamaModel, batch: number[][], layers: number[]): Float32Array[][] {
    return readLastToken(model, batch, layers).map((r) => r.hidden);
  },
  read: readLastToken,
  lastLogits(model: LlamaModel, batch: number[][], tokens: number[][]): number[][] {
    return tidyNoGrad(() => pick(model.forward(batch, { logits: true }).logits!, tokens)); // [B, V] → [B, W]
  },
  tokenLosses: perTokenLosses,
};

/**
 * Patched reads (patchGroups): per group of distinct prompts, their residual stream [N, C] (packed, host float32) is
 * carried from the embeddings up one block at a time, and the rows patched at each index resume from it there, so no
 * row recomputes the blocks before its patch point.
 */
function patchedReads(model: LlamaModel, prompts: number[][], index: number[], states: Float32Array[]): Float32Array[] {
  const C = model.config.hiddenSize;
  const out = new Array<Float32Array>(prompts.length);
  for (const g of patchGroups(prompts, index)) {
    const lengths = g.prompts.map((p) => p.length);
    const layout = { lengths, T: Math.max(...lengths) };
    const offsets = lengths.map((_, m) => lengths.slice(0, m).reduce((a, b) => a + b, 0));
    const stream = (req: { from?: { index: number; hidden: Tensor } }, at: number): Tensor =>
      tidyNoGrad(() => unpadRows(model.forward(g.prompts, { ...req, hiddenStates: [at], positions: 'all' }).hidden.get(at)!, layout)); // [N, C]
    let h = stream({}, 0);
    let at = 0;
    try {
      for (const step of g.steps) {
        for (; at < step.index; at++) {
          const next = stream({ from: { index: at, hidden: h } }, at + 1);
          h.dispose();
          h = next;
        }
        for (const chunk of chunked([...step.rows.keys()], READ_BATCH)) {
          const flat = new Float32Array(chunk.length * C);
          chunk.forEach((j, b) => {
            const s = states[step.rows[j]];
            if (s.length !== C) throw new IclitError(`patching: a patched state has ${s.length} values; the model's hidden size is ${C}`);
            flat.set(s, b * C);
          });
          const tokens = chunk.flatMap((j) => Array.from({ length: lengths[step.members[j]] }, (_, t) => offsets[step.members[j]] + t));
          const logits = tidyNoGrad(() => {
            const prefix = h.indexSelect(0, tensor(tokens, [tokens.length], 'int64')); // [N_chunk, C]
            const patched = patchedLastTokenLogitsAt(model, chunk.map((j) => g.prompts[step.members[j]]), chunk.map(() => step.index), tensor(flat, [chunk.length, C], 'float32', model.device), prefix);
            return rows(patched.toDevice('cpu')); // [B, V]
          });
          chunk.forEach((j, b) => (out[step.rows[j]] = logits[b]));
        }
      }
    } finally {
      h.dispose();
    }
  }
  return out;
}

/** Runs `read` over rows in batches of READ_BATCH, results in row order. */
function batched<T, R>(items: T[], read: (batch: T[]) => R[]): R[] {
  return chunked(items, READ_BATCH).flatMap(read);
}

/** Adapters trained by LlamaStudyBackend.tune; reading routes each row through its own adapter. */
class LlamaTunedAdapters implements TunedAdapters {
  #lora: LoraAdapters | null;
  constructor(
    readonly model: LlamaModel,
    lora: LoraAdapters,
    readonly tuneLoss: number[],
  ) {
    this.#lora = lora;
  }

  get count(): number {
    return this.#adapters().count;
  }

  #adapters(): LoraAdapters {
    if (!this.#lora) throw new IclitError('tuned adapters used after dispose()');
    return this.#lora;
  }

  /**
   * Rows read through their adapters: when row i goes through adapter i (one row each, the common case) the batch
   * runs as one forward with the batched adapters; otherwise each adapter reads its rows in its own batches.
   */
  #route<T, R>(items: T[], adapterOf: number[] | undefined, read: (batch: T[]) => R[]): R[] {
    const lora = this.#adapters();
    const of = adapterOf ?? items.map((_, i) => i);
    if (of.length !== items.length) throw new IclitError(`${of.length} adapter indices for ${items.length} rows`);
    if (of.length === lora.count && of.every((a, i) => a === i)) return lora.apply(() => read(items));
    const out = new Array<R>(items.length);
    for (const a of new Set(of)) {
      const idx = of.flatMap((x, i) => (x === a ? [i] : []));
      lora.apply(() => batched(idx.map((i) => items[i]), read), { adapter: a }).forEach((r, j) => (out[idx[j]] = r));
    }
    return out;
  }

  hidden(prompts: number[][], layers: number[], adapterOf?: number[]): Float32Array[][] {
    return this.#route(prompts, adapterOf, (b) => reads.hidden(this.model, b, layers));
  }

  read(prompts: number[][], layers: number[], opts?: ReadOptions, adapterOf?: number[]): PromptRead[] {
    return this.#route(prompts, adapterOf, (b) => reads.read(this.model, b, layers, opts));
  }

  lastLogits(prompts: number[][], tokens: number[][], adapterOf?: number[]): number[][] {
    const rowsIn = prompts.map((p, i) => ({ p, t: tokens[i] }));
    return this.#route(rowsIn, adapterOf, (b) => reads.lastLogits(this.model, b.map((x) => x.p), b.map((x) => x.t)));
  }

  tokenLosses(texts: number[][], adapterOf?: number[]): number[][] {
    return this.#route(texts, adapterOf, (b) => reads.tokenLosses(this.model, b));
  }

  weights(n: number): AdapterWeights {
    const lora = this.#adapters();
    const w = adapterWeights(lora, n);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of w) {
      tensors.set(k, { shape: t.shape, data: t.toFloat32Array() });
      t.dispose();
    }
    return { config: { ...lora.config, targets: [...lora.config.targets] }, tensors };
  }

  randomDirection(seeds: number[]): TunedAdapters {
    return new LlamaTunedAdapters(this.model, randomDirectionAdapters(this.#adapters(), seeds), [...this.tuneLoss]);
  }

  dispose(): void {
    this.#lora?.dispose();
    this.#lora = null;
  }
}

export class LlamaStudyBackend implements StudyBackend {
  onWork?: (e: WorkEvent) => void;
  /** The rows of the latest forward: a training step's event names them. */
  #lastLengths: readonly number[] = [];

  private constructor(
    readonly model: LlamaModel,
    readonly folder: Pick<ModelFolder, 'label' | 'chat' | 'encode'>,
    readonly weights: 'trained' | 'untrained' = 'trained',
  ) {
    model.onBlock = (_, lengths) => {
      this.#lastLengths = lengths;
      this.onWork?.({ kind: 'block', lengths });
    };
  }

  /** The backend of a model folder already read (openModelFolder): only the weights load now. */
  static fromFolder(folder: ModelFolder, opts: { dtype?: ComputeDType; device?: string } = {}): LlamaStudyBackend {
    return new LlamaStudyBackend(LlamaModel.fromCheckpoint(folder.config, folder.weights, opts), folder);
  }

  /**
   * The untrained control of a model folder already read: a randomly initialised model of its config (untrainedLlama,
   * from `seed`; nothing is read from its weights, nothing saved) with the folder's tokenizer, label and chat template.
   */
  static untrained(folder: ModelFolder, seed: number, opts: { dtype?: ComputeDType; device?: string } = {}): LlamaStudyBackend {
    return new LlamaStudyBackend(untrainedLlama(folder.config, seed, opts.dtype ?? 'float32', opts.device ?? 'cpu'), folder, 'untrained');
  }

  /** Reads a model folder (openModelFolder: its tokenizer, and its chat template with `chat`) and loads it; label defaults to the folder name. */
  static async load(dir: string, opts: { dtype?: ComputeDType; device?: string; label?: string; chat?: boolean } = {}): Promise<LlamaStudyBackend> {
    const folder = await openModelFolder(dir, { chat: opts.chat, label: opts.label });
    try {
      return LlamaStudyBackend.fromFolder(folder, opts);
    } finally {
      folder.close();
    }
  }

  get label(): string {
    return this.folder.label;
  }

  /** Prompts are rendered through this chat template (and tokenised without added special tokens). */
  get chat(): ChatTemplate | undefined {
    return this.folder.chat;
  }

  get numHiddenStates(): number {
    return this.model.numHiddenStates;
  }

  get maxPositions(): number {
    return this.model.config.maxPositionEmbeddings;
  }

  encode(text: string): number[] {
    return this.folder.encode(text);
  }

  // Base-model reads: tuned adapters are values applied only inside their own reads, so the model here is the base.
  hidden(prompts: number[][], layers: number[]): Float32Array[][] {
    return batched(prompts, (b) => reads.hidden(this.model, b, layers));
  }

  read(prompts: number[][], layers: number[], opts?: ReadOptions): PromptRead[] {
    return batched(prompts, (b) => reads.read(this.model, b, layers, opts));
  }

  lastLogits(prompts: number[][], tokens: number[][]): number[][] {
    const items = prompts.map((p, i) => ({ p, t: tokens[i] }));
    return batched(items, (b) => reads.lastLogits(this.model, b.map((x) => x.p), b.map((x) => x.t)));
  }

  tokenLosses(texts: number[][]): number[][] {
    return batched(texts, (b) => reads.tokenLosses(this.model, b));
  }

  patchedLastLogits(prompts: number[][], index: number[], states: Float32Array[]): Float32Array[] {
    if (index.length !== prompts.length || states.length !== prompts.length) throw new IclitError(`patching: ${prompts.length} prompts, ${index.length} patch points, ${states.length} states`);
    return patchedReads(this.model, prompts, index, states);
  }

  tune(req: TuneRequest): TunedAdapters {
    const N = req.texts.length;
    if (N === 0) throw new IclitError('tune: no adapters requested');
    if (req.seeds.length !== N) throw new IclitError(`tune: ${req.seeds.length} seeds for ${N} adapters`);
    const k = req.texts[0].length;
    const s = req.settings;
    const lora = applyLora(this.model, s.lora, { seeds: req.seeds });
    try {
      const result = trainLora(this.model, lora, req.texts, { epochs: s.epochs, lr: s.lr, schedule: s.lrSchedule, weightDecay: s.weightDecay, batchSize: TEXTS_PER_STEP, seed: req.shuffleSeed, onStep: () => this.onWork?.({ kind: 'step', lengths: this.#lastLengths }) });
      const lastEpoch = result.losses.slice(-k); // one step per text per epoch
      const tuneLoss = Array.from({ length: N }, (_, n) => lastEpoch.reduce((a, l) => a + l[n], 0) / lastEpoch.length);
      return new LlamaTunedAdapters(this.model, lora, tuneLoss);
    } catch (e) {
      lora.dispose();
      throw e;
    }
  }

  releaseMemory(): void {
    releaseCachedMemory();
  }

  dispose(): void {
    this.model.dispose();
  }
}
