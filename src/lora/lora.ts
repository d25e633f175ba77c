// LoRA as PEFT defines it, wrapping a frozen linear layer; N independent adapters side by side, each with its own dropout.
import { dropoutMask, linear, segmentLora, tensor, tidy, zeros, keep, type Tensor } from '../torch/index.js';
import type { LinearLike, LlamaModel, RowLayout } from '../models/index.js';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import { isTargeted, loraScaling, peftKey, type LoraConfig } from './config.js';

/**
 * The seed of one dropout mask, 32 bits: from the adapter's seed, the module's index among the LoRA layers, the
 * layer's count of training forward passes so far, and the sequence's index among its adapter's rows. Nothing about
 * the other adapters of the batch goes in, so an adapter draws the same masks alone or batched.
 */
export function dropoutKey(adapterSeed: number, module: number, call: number, row: number): number {
  let h = 0x811c9dc5;
  for (const v of [adapterSeed >>> 0, Math.floor(adapterSeed / 2 ** 32) >>> 0, module, call, row]) {
    h = Math.imul(h ^ v, 0x01000193);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * y = base(x) + scaling · dropout(x) Aᵀ Bᵀ with A [N, r, in], B [N, out, r]. With N = 1 every row uses the one
 * adapter; with N > 1 the sequences of the batch split into N contiguous groups of k and group b uses adapter b, so
 * adapter b only ever sees (and gets gradients from) its own rows. The input is either the decoder's packed rows
 * [Σ lengths, in] with their RowLayout, or [R, T, in] / [R, in] (R sequences of equal length). Dropout masks come
 * per sequence from the adapter's own seed (dropoutKey). As PEFT does, the LoRA path runs in the adapter's dtype
 * (float32) and the sum is cast back to the base output's dtype.
 */
export class LoraLinear implements LinearLike {
  /** Dropout is active only while training (PEFT's nn.Dropout follows module.train()). */
  training = false;
  /** When false the layer is the base layer (used to compare base vs tuned without unloading). */
  enabled = true;
  /** When set, every row uses this one adapter of the set instead of row group b → adapter b. */
  only: number | null = null;
  #calls = 0;

  constructor(
    readonly base: LinearLike,
    readonly A: Tensor,
    readonly B: Tensor,
    readonly scaling: number,
    readonly dropoutP: number,
    /** One seed per adapter: its dropout masks come from it alone. */
    readonly seeds: readonly number[] = Array.from({ length: A.shape[0] }, (_, b) => b),
    /** This layer's index among the model's LoRA layers (part of every dropout key). */
    readonly module = 0,
  ) {}

  get inFeatures(): number {
    return this.base.inFeatures;
  }
  get outFeatures(): number {
    return this.base.outFeatures;
  }
  get adapters(): number {
    return this.A.shape[0];
  }

  forward(x: Tensor, rows?: RowLayout): Tensor {
    return tidy(() => {
      const y = this.base.forward(x, rows); // [..., out]
      if (!this.enabled) return y;
      const N = this.adapters;
      const lengths = rows?.lengths ?? new Array<number>(x.shape[0]).fill(x.rank === 3 ? x.shape[1] : 1);
      const seqs = lengths.length;
      const one = N === 1 || this.only !== null;
      if (!one && seqs % N !== 0) throw new IclitError(`a batch of ${seqs} sequences cannot be split over ${N} LoRA adapters (needs a multiple of ${N})`);
      const per = one ? seqs : seqs / N; // sequences per adapter
      const adapterOf = (s: number): number => this.only ?? (N === 1 ? 0 : Math.floor(s / per));
      let h = x.reshape([-1, this.inFeatures]).to(this.A.dtype); // [R, in]
      if (this.training && this.dropoutP > 0) {
        const call = this.#calls++;
        const keys = lengths.map((_, s) => dropoutKey(this.seeds[adapterOf(s)], this.module, call, s % per));
        h = h.mul(dropoutMask(keys, lengths, this.inFeatures, this.dropoutP, x.device)); // [R, in]
      }
      let delta: Tensor;
      if (one) {
        const b = this.only ?? 0;
        delta = linear(linear(h, this.A.select(0, b)), this.B.select(0, b)); // [R, out]
      } else {
        const sizes = Array.from({ length: N }, (_, g) => lengths.slice(g * per, (g + 1) * per).reduce((a, b) => a + b, 0));
        delta = segmentLora(h, this.A, this.B, sizes); // [R, out]
      }
      return y.to(delta.dtype).add(delta.reshape(y.shape).mul(this.scaling)).to(y.dtype); // [..., out]
    });
  }

  /** Frees the adapter matrices only; the base layer belongs to the model again after removeLora. */
  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}

/** The LoRA adapters applied to a model: parameters under PEFT key names ([N, r, in] / [N, out, r]) and their layers. */
export interface LoraAdapters {
  config: LoraConfig;
  /** How many independent adapters each parameter holds (its leading dimension). */
  count: number;
  /** Each adapter's seed (its initialisation and its dropout masks). */
  seeds: number[];
  /** Trainable leaves by PEFT key (`base_model.model.<module>.lora_A.weight`), float32 on the model's device, [N, r, in] / [N, out, r]. */
  params: Map<string, Tensor>;
  /** The wrapping layers by module path (also now in model.linears). */
  layers: Map<string, LoraLinear>;
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

/** Every LoraLinear in the model, by module path. */
export function loraLayers(model: LlamaModel): Map<string, LoraLinear> {
  const out = new Map<string, LoraLinear>();
  for (const [name, l] of model.linears) if (l instanceof LoraLinear) out.set(name, l);
  return out;
}

/**
 * Wraps every targeted linear of `model` in a LoraLinear (replacing its entry in model.linears). A is
 * Kaiming-uniform with a = √5 as PEFT's reset_lora_parameters (bound = √(6 / ((1 + a²)·fan_in)) = 1/√in), B is zero.
 */
export function applyLora(model: LlamaModel, config: LoraConfig, opts: ApplyLoraOptions = {}): LoraAdapters {
  checkConfig(config);
  if (loraLayers(model).size > 0) throw new IclitError('the model already has LoRA adapters (removeLora first)');
  const N = opts.seeds?.length ?? opts.adapters ?? 1;
  if (!Number.isInteger(N) || N < 1) throw new IclitError(`number of adapters must be a positive integer, got ${N}`);
  const seeds = opts.seeds ?? Array.from({ length: N }, (_, b) => (opts.seed ?? 0) + b);
  const rngs = seeds.map((s) => seededRandom(s));
  const names = [...model.linears.keys()].filter((n) => isTargeted(n, config.targets));
  for (const t of config.targets) {
    if (!names.some((n) => isTargeted(n, [t]))) throw new IclitError(`LoRA target module '${t}' matches no linear layer of the model (it has e.g. ${[...model.linears.keys()][0]})`);
  }
  const scaling = loraScaling(config);
  const params = new Map<string, Tensor>();
  const layers = new Map<string, LoraLinear>();
  for (const [module, name] of names.entries()) {
    const base = model.linears.get(name)!;
    const fanIn = base.inFeatures;
    const bound = Math.sqrt(6 / ((1 + 5) * fanIn));
    const a = new Float32Array(N * config.r * fanIn);
    const per = config.r * fanIn;
    for (let b = 0; b < N; b++) for (let i = 0; i < per; i++) a[b * per + i] = (rngs[b]() * 2 - 1) * bound;
    const A = keep(tensor(a, [N, config.r, fanIn], 'float32', model.device)).requiresGrad_(); // [N, r, in]
    const B = keep(zeros([N, base.outFeatures, config.r], 'float32', model.device)).requiresGrad_(); // [N, out, r]
    const layer = new LoraLinear(base, A, B, scaling, config.dropout, seeds, module);
    params.set(peftKey(name, 'A'), A);
    params.set(peftKey(name, 'B'), B);
    layers.set(name, layer);
    model.linears.set(name, layer);
  }
  return { config: { ...config }, count: N, seeds: [...seeds], params, layers };
}

/** Restores the base linears of `model` and frees the adapter parameters. */
export function removeLora(model: LlamaModel): void {
  for (const [name, l] of loraLayers(model)) {
    model.linears.set(name, l.base);
    l.dispose();
  }
}

/** Switches dropout of every LoRA layer on (training) or off. */
export function setLoraTraining(lora: LoraAdapters, on: boolean): void {
  for (const l of lora.layers.values()) l.training = on;
}

/** Switches every LoRA layer off (base model) or back on. */
export function setLoraEnabled(lora: LoraAdapters, on: boolean): void {
  for (const l of lora.layers.values()) l.enabled = on;
}

/** Makes every row use adapter `index` of a batched set (null: row group b uses adapter b again). */
export function useAdapter(lora: LoraAdapters, index: number | null): void {
  if (index !== null && (!Number.isInteger(index) || index < 0 || index >= lora.count)) throw new IclitError(`adapter index ${index} is out of range (0..${lora.count - 1})`);
  for (const l of lora.layers.values()) l.only = index;
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
