// The StudyBackend over a LlamaModel + its tokenizer: batched base reads, and N LoRA adapters tuned at once, handed over as a value.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LlamaModel, type ComputeDType } from '../models/index.js';
import { adapterWeights, applyLora, removeLora, setLoraEnabled, useAdapter, type LoraAdapters } from '../lora/index.js';
import { trainLora } from '../train/index.js';
import { crossEntropy, releaseCachedMemory, tensor, tidy, tidyNoGrad, type Tensor } from '../torch/index.js';
import { ChatTemplate, Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import type { AdapterWeights, StudyBackend, TuneRequest, TunedAdapters } from './backend.js';

/** Sequences per forward pass (bounded so long runs keep a steady memory footprint). */
const READ_BATCH = 16;

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

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

/** The model reads of the study, on whatever adapters are active: one batch each (≤ READ_BATCH rows). */
const reads = {
  hidden(model: LlamaModel, batch: number[][], layers: number[]): Float32Array[][] {
    return tidyNoGrad(() => {
        const { hidden } = model.forward(batch, { hiddenStates: layers });
        const perLayer = layers.map((l) => rows(hidden.get(l)!)); // [layer][b]
        return batch.map((_, b) => layers.map((_, i) => perLayer[i][b]));
      });
  },
  lastLogits(model: LlamaModel, batch: number[][], tokens: number[][]): number[][] {
    return tidyNoGrad(() => pick(model.forward(batch, { logits: true }).logits!, tokens)); // [B, V] → [B, W]
  },
  tokenLosses(model: LlamaModel, texts: number[][]): number[][] {
    return tidyNoGrad(() => {
        const { logits } = model.forward(texts, { logits: true, logitsPositions: 'all' }); // [B, T, V]
        const [B, T, V] = logits!.shape;
        if (T < 2) throw new IclitError('per-token loss needs texts of at least 2 tokens');
        const targets: number[] = [];
        for (const ids of texts) for (let t = 0; t < T - 1; t++) targets.push(t + 1 < ids.length ? ids[t + 1] : -100);
        const ce = crossEntropy(logits!.slice(1, 0, T - 1).reshape([B * (T - 1), V]), tensor(targets, [B * (T - 1)], 'int64', logits!.device), 'none').toArray(); // [B·(T-1)]
        return texts.map((ids, b) => ce.slice(b * (T - 1), b * (T - 1) + ids.length - 1));
      });
  },
};

/** Runs `read` over rows in batches of READ_BATCH, results in row order. */
function batched<T, R>(items: T[], read: (batch: T[]) => R[]): R[] {
  return chunks(items, READ_BATCH).flatMap(read);
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
    return this.#live().count;
  }

  #live(): LoraAdapters {
    if (!this.#lora) throw new IclitError('tuned adapters used after dispose()');
    return this.#lora;
  }

  /**
   * Rows read through their adapters: when row i goes through adapter i (one row each, the common case) the batch
   * runs as one forward with the batched adapters; otherwise each adapter reads its rows in its own batches.
   */
  #route<T, R>(items: T[], adapterOf: number[] | undefined, read: (batch: T[]) => R[]): R[] {
    const lora = this.#live();
    const of = adapterOf ?? items.map((_, i) => i);
    if (of.length !== items.length) throw new IclitError(`${of.length} adapter indices for ${items.length} rows`);
    if (of.length === lora.count && of.every((a, i) => a === i)) return read(items);
    const out = new Array<R>(items.length);
    for (const a of new Set(of)) {
      const idx = of.flatMap((x, i) => (x === a ? [i] : []));
      useAdapter(lora, a);
      try {
        batched(idx.map((i) => items[i]), read).forEach((r, j) => (out[idx[j]] = r));
      } finally {
        useAdapter(lora, null);
      }
    }
    return out;
  }

  hidden(prompts: number[][], layers: number[], adapterOf?: number[]): Float32Array[][] {
    return this.#route(prompts, adapterOf, (b) => reads.hidden(this.model, b, layers));
  }

  lastLogits(prompts: number[][], tokens: number[][], adapterOf?: number[]): number[][] {
    const rowsIn = prompts.map((p, i) => ({ p, t: tokens[i] }));
    return this.#route(rowsIn, adapterOf, (b) => reads.lastLogits(this.model, b.map((x) => x.p), b.map((x) => x.t)));
  }

  tokenLosses(texts: number[][], adapterOf?: number[]): number[][] {
    return this.#route(texts, adapterOf, (b) => reads.tokenLosses(this.model, b));
  }

  weights(n: number): AdapterWeights {
    const lora = this.#live();
    const w = adapterWeights(lora, n);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of w) {
      tensors.set(k, { shape: t.shape, data: t.toFloat32Array() });
      t.dispose();
    }
    const c = lora.config;
    return { r: c.r, alpha: c.alpha, dropout: c.dropout, targets: [...c.targets], tensors };
  }

  /** Runs `fn` on the base model: the adapters are switched off meanwhile. */
  asBase<R>(fn: () => R): R {
    if (!this.#lora) return fn();
    setLoraEnabled(this.#lora, false);
    try {
      return fn();
    } finally {
      setLoraEnabled(this.#lora, true);
    }
  }

  dispose(): void {
    if (!this.#lora) return;
    removeLora(this.model);
    this.#lora = null;
    this.onDispose?.();
  }

  onDispose?: () => void;
}

export class LlamaStudyBackend implements StudyBackend {
  /** The adapters handed out by tune() and not yet disposed: base reads switch them off. */
  #tuned: LlamaTunedAdapters | null = null;

  constructor(
    readonly model: LlamaModel,
    readonly tokenizer: Tokenizer,
    readonly label: string,
    /** Prompts are rendered through this chat template (and tokenised without added special tokens). */
    readonly chat?: ChatTemplate,
  ) {
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new IclitError(`the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ${model.config.vocabSize}`);
    }
  }

  /** Loads a model folder and the tokenizer in it (and its chat template with `chat`); label defaults to the folder name. */
  static async load(dir: string, opts: { dtype?: ComputeDType; device?: string; label?: string; chat?: boolean } = {}): Promise<LlamaStudyBackend> {
    if (!existsSync(join(dir, 'tokenizer.json'))) throw new IclitError(`${dir} has no tokenizer.json (the study tokenizes with the model folder's own tokenizer)`);
    const tokenizer = await Tokenizer.load(dir);
    const chat = opts.chat ? ChatTemplate.load(dir) : undefined;
    const model = LlamaModel.load(dir, { dtype: opts.dtype, device: opts.device });
    return new LlamaStudyBackend(model, tokenizer, opts.label ?? basename(resolve(dir)), chat);
  }

  get numHiddenStates(): number {
    return this.model.numHiddenStates;
  }

  get maxPositions(): number {
    return this.model.config.maxPositionEmbeddings;
  }

  encode(text: string): number[] {
    // A chat template writes BOS (and every other special token) itself, as transformers' apply_chat_template does.
    return this.tokenizer.encode(text, { addSpecialTokens: !this.chat });
  }

  /** Base-model reads, also while tuned adapters are alive (they are switched off meanwhile). */
  #base<R>(fn: () => R): R {
    return this.#tuned ? this.#tuned.asBase(fn) : fn();
  }

  hidden(prompts: number[][], layers: number[]): Float32Array[][] {
    return this.#base(() => batched(prompts, (b) => reads.hidden(this.model, b, layers)));
  }

  lastLogits(prompts: number[][], tokens: number[][]): number[][] {
    const items = prompts.map((p, i) => ({ p, t: tokens[i] }));
    return this.#base(() => batched(items, (b) => reads.lastLogits(this.model, b.map((x) => x.p), b.map((x) => x.t))));
  }

  tokenLosses(texts: number[][]): number[][] {
    return this.#base(() => batched(texts, (b) => reads.tokenLosses(this.model, b)));
  }

  tune(req: TuneRequest): TunedAdapters {
    const N = req.texts.length;
    if (N === 0) throw new IclitError('tune: no adapters requested');
    if (this.#tuned) throw new IclitError('tune: the adapters of the previous tune() are still alive (dispose them first)');
    if (req.seeds.length !== N) throw new IclitError(`tune: ${req.seeds.length} seeds for ${N} adapters`);
    const k = req.texts[0].length;
    const s = req.settings;
    const lora = applyLora(this.model, { r: s.r, alpha: s.alpha, dropout: s.dropout, targets: s.targets }, { seeds: req.seeds });
    try {
      const result = trainLora(this.model, lora, req.texts, { epochs: s.epochs, lr: s.lr, schedule: s.lrSchedule, weightDecay: s.weightDecay, batchSize: 1, seed: req.shuffleSeed });
      const lastEpoch = result.losses.slice(-k); // one step per text per epoch
      const tuneLoss = Array.from({ length: N }, (_, n) => lastEpoch.reduce((a, l) => a + l[n], 0) / lastEpoch.length);
      const tuned = new LlamaTunedAdapters(this.model, lora, tuneLoss);
      tuned.onDispose = () => (this.#tuned = null);
      this.#tuned = tuned;
      return tuned;
    } catch (e) {
      removeLora(this.model);
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
