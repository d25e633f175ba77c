// LoRA as PEFT defines it: a set of N independent adapters (a value), applied to a model for one call by wrapping its frozen linear layers.
import { loraAdd, tensor, tidy, zeros, keep, type Tensor } from '../torch/index.js';
import type { LinearLike, LlamaModel, RowLayout } from '../models/index.js';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import { isTargeted, loraScaling, peftKey, type LoraConfig } from './config.js';

/**
 * The seed of one dropout mask, 32 bits: from the adapter's seed, the module's index among the set's modules, the
 * optimiser step (LoraMode.step), and the sequence's index among its adapter's rows. Nothing about
 * the other adapters of the batch goes in, so an adapter draws the same masks alone or batched.
 */
export function dropoutKey(adapterSeed: number, module: number, step: number, row: number): number {
  let h = 0x811c9dc5;
  for (const v of [adapterSeed >>> 0, Math.floor(adapterSeed / 2 ** 32) >>> 0, module, step, row]) {
    h = Math.imul(h ^ v, 0x01000193);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** How a set of adapters serves one call: which rows go through which adapter, and whether dropout is on. */
export interface LoraMode {
  /** Training forward of this 0-based optimiser step: dropout on, its masks keyed by the step (dropoutKey). */
  step?: number;
  /** Every row through this one adapter of the set (default: row group b through adapter b). */
  adapter?: number;
}

/**
 * y = base(x) + scaling · dropout(x) Aᵀ Bᵀ with A [N, r, in], B [N, out, r], as PEFT's LoraLayer wraps its
 * base_layer: a view of one set's matrices for one call, built by LoraAdapters.apply and never changed. With N = 1
 * (or mode.adapter) every row uses one adapter; with N > 1 the sequences of the batch split into N contiguous
 * groups and group b uses adapter b, so adapter b only ever sees (and gets gradients from) its own rows. The input
 * is either the decoder's packed rows [Σ lengths, in] with their RowLayout, or [R, T, in] / [R, in] (R sequences of
 * equal length). Dropout masks come per sequence from (adapter seed, module, step, row): nothing about the other
 * adapters of the batch goes in, so an adapter draws the same masks alone or batched. As PEFT does, the LoRA path
 * runs in the adapter's dtype (float32) and the sum is cast back to the base output's dtype.
 */
export class LoraLinear implements LinearLike {
  constructor(
    readonly base: LinearLike,
    readonly A: Tensor,
    readonly B: Tensor,
    readonly scaling: number,
    readonly dropoutP: number,
    /** One seed per adapter: its dropout masks come from it alone. */
    readonly seeds: readonly number[],
    /** This layer's index among the set's modules (part of every dropout key). */
    readonly module: number,
    readonly mode: LoraMode = {},
  ) {}

  get inFeatures(): number {
    return this.base.inFeatures;
  }
  get outFeatures(): number {
    return this.base.outFeatures;
  }

  forward(x: Tensor, rows?: RowLayout): Tensor {
    return tidy(() => {
      const y = this.base.forward(x, rows); // [..., out]
      const N = this.A.shape[0];
      const lengths = rows?.lengths ?? new Array<number>(x.shape[0]).fill(x.rank === 3 ? x.shape[1] : 1);
      const seqs = lengths.length;
      const single = this.mode.adapter ?? (N === 1 ? 0 : null); // the one adapter every row uses, if any
      if (single === null && seqs % N !== 0) throw new IclitError(`a batch of ${seqs} sequences cannot be split over ${N} LoRA adapters (needs a multiple of ${N})`);
      const perAdapter = single !== null ? seqs : seqs / N; // sequences each adapter serves
      const adapterOf = (s: number): number => single ?? Math.floor(s / perAdapter);
      const rowsOf = (from: number, to: number): number => lengths.slice(from, to).reduce((a, b) => a + b, 0);
      // one segment of rows per adapter (all rows when one adapter serves them all)
      const segments =
        single !== null
          ? { adapters: [single], sizes: [rowsOf(0, seqs)] }
          : { adapters: Array.from({ length: N }, (_, g) => g), sizes: Array.from({ length: N }, (_, g) => rowsOf(g * perAdapter, (g + 1) * perAdapter)) };
      const step = this.mode.step;
      const dropout =
        step !== undefined && this.dropoutP > 0
          ? { seeds: lengths.map((_, s) => dropoutKey(this.seeds[adapterOf(s)], this.module, step, s % perAdapter)), lengths, p: this.dropoutP }
          : undefined;
      // one native autograd node: mask, the per-adapter low-rank product, scaling and the sum, in the adapter's dtype
      return loraAdd(y, x, this.A, this.B, segments, this.scaling, dropout); // [..., out]
    });
  }

  /** Nothing to free: the set's matrices belong to LoraAdapters (dispose), the base layer to its model. */
  dispose(): void {}
}

export interface ApplyLoraOptions {
  /** Independent adapters side by side (default 1). */
  adapters?: number;
  /** Adapter b is initialised (and draws its dropout) from seed + b (default seed 0), so a batched set equals separately seeded ones. */
  seed?: number;
  /** One seed per adapter (overrides `seed`). */
  seeds?: number[];
}

function checkConfig(c: LoraConfig): void {
  if (!Number.isInteger(c.r) || c.r < 1) throw new IclitError(`LoRA rank r must be a positive integer, got ${c.r}`);
  if (!Number.isFinite(c.alpha) || c.alpha <= 0) throw new IclitError(`LoRA alpha must be a positive number, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new IclitError(`LoRA dropout must be in [0, 1), got ${c.dropout}`);
  if (c.targets.length === 0) throw new IclitError('LoRA needs at least one target module');
}

/**
 * A set of N LoRA adapters for one model, as a value: its parameters under PEFT key names ([N, r, in] /
 * [N, out, r], float32 on the model's device) and its seeds. The model is untouched until `apply`, which wraps the
 * targeted linears for one call and restores them after; so two sets can exist at once and be applied in turn.
 */
export class LoraAdapters {
  #disposed = false;
  constructor(
    readonly model: LlamaModel,
    readonly config: LoraConfig,
    /** Each adapter's seed (its initialisation and its dropout masks). */
    readonly seeds: readonly number[],
    /** Trainable leaves by PEFT key (`base_model.model.<module>.lora_A.weight`). */
    readonly params: Map<string, Tensor>,
    /** The targeted module paths, in the model's order (a module's index is part of its dropout keys). */
    readonly modules: readonly string[],
  ) {}

  /** How many independent adapters each parameter holds (its leading dimension); rows split into this many groups. */
  get count(): number {
    return this.seeds.length;
  }

  /** Runs `fn` with these adapters wrapping the model's targeted linears (in `mode`), and the base linears back after. */
  apply<R>(fn: () => R, mode: LoraMode = {}): R {
    if (this.#disposed) throw new IclitError('LoRA adapters used after dispose()');
    if (mode.adapter !== undefined && (!Number.isInteger(mode.adapter) || mode.adapter < 0 || mode.adapter >= this.count)) {
      throw new IclitError(`adapter index ${mode.adapter} is out of range (0..${this.count - 1})`);
    }
    const linears = this.model.linears;
    const bases = this.modules.map((name) => linears.get(name)!);
    if (bases.some((b) => b instanceof LoraLinear)) throw new IclitError('another set of LoRA adapters is applied to this model (sets apply one at a time)');
    const scaling = loraScaling(this.config);
    this.modules.forEach((name, i) => {
      const layer = new LoraLinear(bases[i], this.params.get(peftKey(name, 'A'))!, this.params.get(peftKey(name, 'B'))!, scaling, this.config.dropout, this.seeds, i, mode);
      linears.set(name, layer);
    });
    try {
      return fn();
    } finally {
      this.modules.forEach((name, i) => linears.set(name, bases[i]));
    }
  }

  /** Frees the adapter matrices (the model never held them). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const p of this.params.values()) p.dispose();
  }
}

/**
 * A new set of LoRA adapters for every targeted linear of `model` (the model itself is not changed). A is
 * Kaiming-uniform with a = √5 as PEFT's reset_lora_parameters (bound = √(6 / ((1 + a²)·fan_in)) = 1/√in), B is zero.
 */
export function applyLora(model: LlamaModel, config: LoraConfig, opts: ApplyLoraOptions = {}): LoraAdapters {
  checkConfig(config);
  const N = opts.seeds?.length ?? opts.adapters ?? 1;
  if (!Number.isInteger(N) || N < 1) throw new IclitError(`number of adapters must be a positive integer, got ${N}`);
  const seeds = opts.seeds ?? Array.from({ length: N }, (_, b) => (opts.seed ?? 0) + b);
  const rngs = seeds.map((s) => seededRandom(s));
  const names = [...model.linears.keys()].filter((n) => isTargeted(n, config.targets));
  for (const t of config.targets) {
    if (!names.some((n) => isTargeted(n, [t]))) throw new IclitError(`LoRA target module '${t}' matches no linear layer of the model (it has e.g. ${[...model.linears.keys()][0]})`);
  }
  const params = new Map<string, Tensor>();
  for (const name of names) {
    const base = model.linears.get(name)!;
    const fanIn = base.inFeatures;
    const bound = Math.sqrt(6 / ((1 + 5) * fanIn)); // PEFT's kaiming_uniform_(a=√5): a² = 5
    const a = new Float32Array(N * config.r * fanIn);
    const perAdapter = config.r * fanIn;
    for (let b = 0; b < N; b++) for (let i = 0; i < perAdapter; i++) a[b * perAdapter + i] = (rngs[b]() * 2 - 1) * bound;
    params.set(peftKey(name, 'A'), keep(tensor(a, [N, config.r, fanIn], 'float32', model.device)).requiresGrad_()); // [N, r, in]
    params.set(peftKey(name, 'B'), keep(zeros([N, base.outFeatures, config.r], 'float32', model.device)).requiresGrad_()); // [N, out, r]
  }
  return new LoraAdapters(model, { ...config, targets: [...config.targets] }, [...seeds], params, names);
}

/**
 * Overwrites adapter `index` (or all adapters when index is 'all') with single-adapter weights given under PEFT
 * keys ([r, in] / [out, r]); every parameter must be given, with the right shape.
 */
export function setAdapterWeights(lora: LoraAdapters, weights: Map<string, Tensor>, index: number | 'all' = 'all', source = 'adapter'): void {
  for (const key of weights.keys()) if (!lora.params.has(key)) throw new IclitError(`${source}: '${key}' is not a LoRA parameter of this model (targets ${lora.config.targets.join(', ')})`);
  for (const [key, p] of lora.params) {
    const w = weights.get(key);
    if (!w) throw new IclitError(`${source}: missing LoRA weight '${key}'`);
    const want = p.shape.slice(1);
    if (w.shape.length !== 2 || w.shape[0] !== want[0] || w.shape[1] !== want[1]) {
      throw new IclitError(`${source}: '${key}' has shape [${w.shape.join(', ')}], the model needs [${want.join(', ')}]`);
    }
    tidy(() => {
      const w32 = w.toDeviceAs(p.device, p.dtype); // [r, in] or [out, r]
      if (index === 'all') p.copy_(w32.unsqueeze(0).expand(p.shape));
      else {
        if (!Number.isInteger(index) || index < 0 || index >= lora.count) throw new IclitError(`adapter index ${index} is out of range (0..${lora.count - 1})`);
        p.select(0, index).copy_(w32);
      }
    });
  }
}

/** The weights of adapter `index` under PEFT keys, [r, in] / [out, r] float32 copies on the host (the caller owns them). */
export function adapterWeights(lora: LoraAdapters, index = 0): Map<string, Tensor> {
  if (!Number.isInteger(index) || index < 0 || index >= lora.count) throw new IclitError(`adapter index ${index} is out of range (0..${lora.count - 1})`);
  const out = new Map<string, Tensor>();
  for (const [key, p] of lora.params) out.set(key, keep(tidy(() => p.select(0, index).detach().toDevice('cpu').contiguous().clone())));
  return out;
}
