// The StudyBackend over a LlamaModel + its tokenizer: batched base reads, and N LoRA adapters tuned at once (src/lora + src/train).
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LlamaModel, type ComputeDType } from '../models/index.js';
import { applyLora, removeLora } from '../lora/index.js';
import { trainLora } from '../train/index.js';
import { crossEntropy, tidyNoGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import type { StudyBackend, TuneRequest, TuneResult } from './backend.js';

/** Sequences per forward pass of the base model (bounded so long runs keep a steady memory footprint). */
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
    const idx = tensor(tokens.flat(), [B, width], 'int64'); // [B, W]
    const vals = logits.gather(1, idx).toArray(); // [B, W]
    return Array.from({ length: B }, (_, b) => vals.slice(b * width, (b + 1) * width));
  });
}

/** Per-token next-token cross-entropy of every sequence in one batch (length of each = its ids − 1). */
function batchTokenLosses(model: LlamaModel, texts: number[][]): number[][] {
  return tidyNoGrad(() => {
      const { logits } = model.forward(texts, { logits: true, logitsPositions: 'all' }); // [B, T, V]
      const [B, T, V] = logits!.shape;
      if (T < 2) throw new IclitError('per-token loss needs texts of at least 2 tokens');
      const targets: number[] = [];
      for (const ids of texts) for (let t = 0; t < T - 1; t++) targets.push(t + 1 < ids.length ? ids[t + 1] : -100);
      const ce = crossEntropy(logits!.slice(1, 0, T - 1).reshape([B * (T - 1), V]), tensor(targets, [B * (T - 1)], 'int64'), 'none').toArray(); // [B·(T-1)]
      return texts.map((ids, b) => ce.slice(b * (T - 1), b * (T - 1) + ids.length - 1));
    });
}

export class LlamaStudyBackend implements StudyBackend {
  constructor(
    readonly model: LlamaModel,
    readonly tokenizer: Tokenizer,
    readonly label: string,
  ) {
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new IclitError(`the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ${model.config.vocabSize}`);
    }
  }

  /** Loads a model folder and the tokenizer in it; label defaults to the folder name. */
  static async load(dir: string, opts: { dtype?: ComputeDType; label?: string } = {}): Promise<LlamaStudyBackend> {
    if (!existsSync(join(dir, 'tokenizer.json'))) throw new IclitError(`${dir} has no tokenizer.json (the study tokenizes with the model folder's own tokenizer)`);
    const tokenizer = await Tokenizer.load(dir);
    const model = LlamaModel.load(dir, { dtype: opts.dtype });
    return new LlamaStudyBackend(model, tokenizer, opts.label ?? basename(resolve(dir)));
  }

  get numHiddenStates(): number {
    return this.model.numHiddenStates;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  hidden(prompts: number[][], layers: number[]): Float32Array[][] {
    const out: Float32Array[][] = [];
    for (const batch of chunks(prompts, READ_BATCH)) out.push(...this.#read(batch, layers));
    return out;
  }

  #read(batch: number[][], layers: number[]): Float32Array[][] {
    return tidyNoGrad(() => {
        const { hidden } = this.model.forward(batch, { hiddenStates: layers });
        const perLayer = layers.map((l) => rows(hidden.get(l)!)); // [layer][b]
        return batch.map((_, b) => layers.map((_, i) => perLayer[i][b]));
      });
  }

  lastLogits(prompts: number[][], tokens: number[][]): number[][] {
    const out: number[][] = [];
    chunks(prompts.map((p, i) => [p, tokens[i]] as const), READ_BATCH).forEach((batch) => {
      out.push(
        ...tidyNoGrad(() => {
            const { logits } = this.model.forward(batch.map((b) => b[0]), { logits: true }); // [B, V]
            return pick(logits!, batch.map((b) => b[1]));
          }),
      );
    });
    return out;
  }

  tokenLosses(texts: number[][]): number[][] {
    const out: number[][] = [];
    for (const batch of chunks(texts, READ_BATCH)) out.push(...batchTokenLosses(this.model, batch));
    return out;
  }

  tune(req: TuneRequest): TuneResult {
    const N = req.texts.length;
    if (N === 0) throw new IclitError('tune: no adapters requested');
    if (req.seeds.length !== N) throw new IclitError(`tune: ${req.seeds.length} seeds for ${N} adapters`);
    const k = req.texts[0].length;
    const s = req.settings;
    const lora = applyLora(this.model, { r: s.r, alpha: s.alpha, dropout: s.dropout, targets: s.targets }, { seeds: req.seeds });
    try {
      const result = trainLora(this.model, lora, req.texts.map((ts) => ts.map((ids) => ({ ids }))), {
        epochs: s.epochs,
        lr: s.lr,
        weightDecay: s.weightDecay,
        batchSize: 1,
        seed: req.seed,
      });
      const lastEpoch = result.losses.slice(-k); // one step per text per epoch
      const tuneLoss = Array.from({ length: N }, (_, n) => lastEpoch.reduce((a, l) => a + l[n], 0) / lastEpoch.length);
      const out: TuneResult = { tuneLoss };
      // Batched adapters split a batch into N contiguous groups: one query row per adapter, in adapter order.
      if (req.hiddenPrompts) out.hidden = this.#read(req.hiddenPrompts, req.layers);
      if (req.logitPrompts) {
        const prompts = req.logitPrompts;
        out.logits = tidyNoGrad(() => pick(this.model.forward(prompts, { logits: true }).logits!, req.logitTokens!));
      }
      if (req.lossTexts) {
        const per = req.lossTexts[0].length;
        if (req.lossTexts.some((t) => t.length !== per)) throw new IclitError('tune: every adapter needs the same number of loss texts');
        const flat = batchTokenLosses(this.model, req.lossTexts.flat());
        out.losses = req.lossTexts.map((_, n) => flat.slice(n * per, (n + 1) * per));
      }
      return out;
    } finally {
      removeLora(this.model);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
