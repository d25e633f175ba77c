// The passes a plan will run, found by running the runner itself over a backend that counts instead of computing.
import type { Pass } from '../models/index.js';
import type { ChatTemplate } from '../tokenizers/index.js';
import type { AdapterWeights, PromptRead, ReadOptions, RecordSink, StudyBackend, TextEmbedder, TuneRequest, TunedAdapters, UnitKey } from './backend.js';
import { READ_BATCH } from './llama-backend.js';
import { patchGroups } from './patching.js';
import { runPlan, type StudyPlan } from './runner.js';
import { chunked } from '../util/group.js';

/** What the counting backend needs of a model: its tokenizer (as the study encodes), its depth, positions and vocabulary. */
export interface WorkModel {
  encode(text: string): number[];
  numLayers: number;
  /** The placeholder logits span it, so the label words' token ids index them as on the model. */
  vocabSize: number;
  maxPositions: number;
  chat?: ChatTemplate;
}


/**
 * A stand-in sentence embedder (letter counts) for estimating a demo-similarity plan before the encoder is loaded:
 * it picks other demonstrations than the real encoder would, of the same data, so the prompt lengths are alike.
 */
const letterEmbedder: TextEmbedder = {
  fingerprint: 'estimate-letters',
  embed: (texts) =>
    texts.map((t) => {
      const v = new Float32Array(27).fill(1e-3);
      for (const ch of t.toLowerCase()) {
        const c = ch.charCodeAt(0) - 97;
        v[c >= 0 && c < 26 ? c : 26] += 1;
      }
      return v;
    }),
};

/**
 * A read's placeholders: hidden states of ones (the runner refuses all-zero states), zero logits over the vocabulary,
 * uniform attention over the prompt's tokens from one head.
 */
function placeholderRead(prompt: number[], layers: number[], opts: ReadOptions, vocabSize: number): PromptRead {
  const r: PromptRead = { hidden: layers.map(() => Float32Array.of(1)) };
  if (opts.logits) r.logits = new Float32Array(vocabSize);
  if (opts.attention) r.attention = layers.map((l) => (l === 0 ? null : new Float32Array(prompt.length).fill(1 / prompt.length)));
  return r;
}

/**
 * A StudyBackend that records the passes LlamaStudyBackend would run for the same calls — reads split into
 * READ_BATCH rows, blocks past the highest requested hidden state skipped, logits where asked, one training step
 * per tuning text per epoch (batch size 1 per adapter) — and returns placeholders (hidden states of ones: the runner
 * refuses all-zero states).
 */
class CountingBackend implements StudyBackend {
  readonly passes: Pass[] = [];
  readonly label: string;
  constructor(readonly m: WorkModel, label: string, readonly weights: 'trained' | 'untrained' = 'trained') {
    this.label = label;
  }
  get numHiddenStates(): number {
    return this.m.numLayers + 1;
  }
  get maxPositions(): number {
    return this.m.maxPositions;
  }
  get chat(): ChatTemplate | undefined {
    return this.m.chat;
  }
  encode(text: string): number[] {
    return this.m.encode(text);
  }
  /** Blocks a read runs (LlamaModel.forward: none past the highest requested state, all for logits or attention). */
  #blocks(layers: number[] | null): number {
    const n = this.m.numLayers;
    return layers === null || layers.includes(n) ? n : Math.max(0, ...layers);
  }
  count(prompts: number[][], layers: number[] | null, logitRows: (batch: number[][]) => number, lora: boolean): void {
    this.passes.push({ kind: 'read', lengths: prompts.map((p) => p.length), blocks: this.#blocks(layers), logitRows: logitRows(prompts), lora });
  }
  /** One read pass (LlamaStudyBackend's readLastToken) and its placeholder results. */
  countRead(prompts: number[][], layers: number[], opts: ReadOptions, lora: boolean): PromptRead[] {
    this.count(prompts, opts.logits || opts.attention ? null : layers, (x) => (opts.logits ? x.length : 0), lora);
    return prompts.map((p) => placeholderRead(p, layers, opts, this.m.vocabSize));
  }
  hidden(prompts: number[][], layers: number[]): Float32Array[][] {
    return this.read(prompts, layers).map((r) => r.hidden);
  }
  read(prompts: number[][], layers: number[], opts: ReadOptions = {}): PromptRead[] {
    return chunked(prompts, READ_BATCH).flatMap((b) => this.countRead(b, layers, opts, false));
  }
  lastLogits(prompts: number[][], tokens: number[][]): number[][] {
    for (const b of chunked(prompts, READ_BATCH)) this.count(b, null, (x) => x.length, false);
    return tokens.map((t) => t.map(() => 0));
  }
  tokenLosses(texts: number[][]): number[][] {
    for (const b of chunked(texts, READ_BATCH)) this.count(b, null, (x) => x.reduce((a, t) => a + t.length, 0), false);
    return texts.map((t) => new Array<number>(Math.max(0, t.length - 1)).fill(0));
  }
  // patching: patched reads run the blocks from their patch point with the LM head at each last token
  /** As LlamaStudyBackend runs them (patchGroups): each group's stream carried up one block at a time, each row's blocks from its patch point on. */
  patchedLastLogits(prompts: number[][], index: number[]): Float32Array[] {
    const n = this.m.numLayers;
    for (const g of patchGroups(prompts, index)) {
      const lengths = g.prompts.map((p) => p.length);
      let at = 0;
      for (const step of g.steps) {
        for (; at < step.index; at++) this.passes.push({ kind: 'read', lengths, blocks: 1, logitRows: 0, lora: false });
        for (const rows of chunked(step.rows, READ_BATCH)) this.passes.push({ kind: 'read', lengths: rows.map((r) => prompts[r].length), blocks: n - step.index, logitRows: rows.length, lora: false });
      }
    }
    return prompts.map(() => Float32Array.of(0));
  }
  tune(req: TuneRequest): TunedAdapters {
    const k = req.texts[0].length;
    for (let e = 0; e < req.settings.epochs; e++) {
      for (let i = 0; i < k; i++) {
        const rows = req.texts.map((t) => t[i]);
        const targets = rows.reduce((a, r) => a + (r.lossMask ? r.lossMask.slice(1).reduce((s, x) => s + x, 0) : r.ids.length - 1), 0);
        this.passes.push({ kind: 'step', lengths: rows.map((r) => r.ids.length), logitRows: targets });
      }
    }
    return new CountingAdapters(this, req.texts.length);
  }
  releaseMemory(): void {}
  dispose(): void {}
}

/** The adapters of CountingBackend.tune: reads as LlamaTunedAdapters routes them (one forward when row i is adapter i). */
class CountingAdapters implements TunedAdapters {
  readonly tuneLoss: number[];
  constructor(readonly b: CountingBackend, readonly count: number) {
    this.tuneLoss = new Array<number>(count).fill(0);
  }
  #route(prompts: number[][], adapterOf: number[] | undefined, record: (batch: number[][]) => void): void {
    const of = adapterOf ?? prompts.map((_, i) => i);
    if (of.length === this.count && of.every((a, i) => a === i)) return record(prompts);
    for (const a of new Set(of)) for (const batch of chunked(prompts.filter((_, i) => of[i] === a), READ_BATCH)) record(batch);
  }
  hidden(prompts: number[][], layers: number[], adapterOf?: number[]): Float32Array[][] {
    return this.read(prompts, layers, {}, adapterOf).map((r) => r.hidden);
  }
  read(prompts: number[][], layers: number[], opts: ReadOptions = {}, adapterOf?: number[]): PromptRead[] {
    this.#route(prompts, adapterOf, (x) => void this.b.countRead(x, layers, opts, true));
    return prompts.map((p) => placeholderRead(p, layers, opts, this.b.m.vocabSize));
  }
  lastLogits(prompts: number[][], tokens: number[][], adapterOf?: number[]): number[][] {
    this.#route(prompts, adapterOf, (x) => this.b.count(x, null, (y) => y.length, true));
    return tokens.map((t) => t.map(() => 0));
  }
  tokenLosses(texts: number[][], adapterOf?: number[]): number[][] {
    this.#route(texts, adapterOf, (x) => this.b.count(x, null, (y) => y.reduce((a, t) => a + t.length, 0), true));
    return texts.map((t) => new Array<number>(Math.max(0, t.length - 1)).fill(0));
  }
  weights(): AdapterWeights {
    throw new Error('the counting backend keeps no adapter weights');
  }
  /** Drawing the random directions runs no pass of the model. */
  randomDirection(): TunedAdapters {
    return new CountingAdapters(this.b, this.count);
  }
  dispose(): void {}
}

/**
 * Every pass `runPlan` would run for `plan` on a model, in order: the plan is run through a counting backend into a
 * sink that stores nothing (units `isDone` says are finished are skipped, as on resume). Saving is switched off
 * (it costs no passes); a demo-similarity plan without its embedder gets a stand-in one.
 */
export function planWork(plan: StudyPlan, model: WorkModel, opts: WorkOptions = {}): Pass[] {
  const w = planWorkByWeights(plan, model, opts);
  return [...w.trained, ...w.untrained];
}

export interface WorkOptions {
  label?: string;
  isDone?: (key: UnitKey) => boolean;
  shard?: { index: number; count: number };
}

/**
 * planWork's passes apart by the weights they read: the model's own conditions, then (as study.run runs them) the
 * untrained control's conditions on the model's untrained copy, anchors included ([] without that control).
 */
export function planWorkByWeights(plan: StudyPlan, model: WorkModel, opts: WorkOptions = {}): { trained: Pass[]; untrained: Pass[] } {
  const sink: RecordSink = { isDone: opts.isDone ?? (() => false), save: () => undefined };
  const materials = plan.materials.embedder || !plan.conditions.some((c) => c.bin !== undefined) ? plan.materials : { ...plan.materials, embedder: letterEmbedder };
  const count = (weights: 'trained' | 'untrained'): Pass[] => {
    const backend = new CountingBackend(model, opts.label ?? 'model', weights);
    runPlan({ ...plan, materials, save: { states: false, adapters: false } }, backend, sink, { shard: opts.shard });
    return backend.passes;
  };
  return { trained: count('trained'), untrained: plan.conditions.some((c) => c.weights === 'untrained') ? count('untrained') : [] };
}
