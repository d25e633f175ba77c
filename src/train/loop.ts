// The training loop: epochs of shuffled batches, one sequence group per adapter, scheduled optimiser steps on leaves.
import { assignLeaves, disposeTree, keepTree, leafGrads, manualSeed, tidy, type Tensor, type TensorTree } from '../torch/index.js';
import type { LlamaModel } from '../models/index.js';
import type { LoraAdapters } from '../lora/index.js';
import { IclitError } from '../util/errors.js';
import { seededRandom } from '../util/random.js';
import { groupedLoss, type GroupLoss, type TrainExample } from './loss.js';
import { adamw, sgd, type Optimizer, type Params } from './optim.js';
import { makeSchedule, type ScheduleName } from './schedule.js';

export interface StepProgress {
  /** 1-based optimiser step and its total. */
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean over groups of each group's loss at this step (before the update). */
  loss: number;
  /** Each group's (adapter's) loss. */
  losses: number[];
  lr: number;
  tokensPerSecond: number;
}

export interface TrainOptions {
  epochs?: number;
  /** Sequences per optimiser step for each group (adapter). */
  batchSize?: number;
  lr?: number;
  schedule?: ScheduleName;
  warmupSteps?: number;
  weightDecay?: number;
  optimizer?: 'adamw' | 'sgd';
  betas?: [number, number];
  eps?: number;
  momentum?: number;
  /** Seeds the shuffling (the same order for every group) and libtorch's global generator (LoRA dropout has its own, per adapter). */
  seed?: number;
  /** Shuffle the examples every epoch (HF Trainer does; default true). */
  shuffle?: boolean;
  onStep?: (p: StepProgress) => void;
  /** Runs each step's forward (its 0-based step given), e.g. with LoRA adapters applied in training mode. */
  forwardAt?: <R>(step: number, forward: () => R) => R;
}

export interface TrainResult {
  steps: number;
  /** Per step, each group's loss. */
  losses: number[][];
}

function shuffled(n: number, rng: () => number): number[] {
  const order = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Trains the leaves `params` of `model` on `data`: one list of examples per group, groups laid side by side in every
 * batch (group g's rows are contiguous, so batched LoRA adapter g sees only group g). All groups need the same
 * number of examples. The loss of a step is Σ_g (mean next-token cross-entropy over group g's targets); a NaN or
 * infinite loss stops training with an IclitError.
 */
export function train(model: LlamaModel, params: Params, data: TrainExample[][], opts: TrainOptions = {}): TrainResult {
  const lr = opts.lr ?? 1e-4;
  if (!(lr > 0) || !Number.isFinite(lr)) throw new IclitError(`learning rate must be a positive number, got ${lr}`);
  const weightDecay = opts.weightDecay ?? 0;
  if (opts.optimizer === 'sgd') return trainWith(sgd({ lr, momentum: opts.momentum, weightDecay }), model, params, data, opts);
  return trainWith(adamw({ lr, betas: opts.betas, eps: opts.eps, weightDecay }), model, params, data, opts);
}

function trainWith<S extends TensorTree>(optimizer: Optimizer<S>, model: LlamaModel, params: Params, data: TrainExample[][], opts: TrainOptions): TrainResult {
  const G = data.length;
  if (G === 0) throw new IclitError('no training data');
  const n = data[0].length;
  if (n === 0) throw new IclitError('no training examples');
  data.forEach((d, g) => {
    if (d.length !== n) throw new IclitError(`training group ${g} has ${d.length} examples, group 0 has ${n}: batched groups need equal sizes`);
  });
  for (const d of data) for (const [i, ex] of d.entries()) {
    if (ex.lossMask && ex.lossMask.length !== ex.ids.length) throw new IclitError(`example ${i}: loss mask has ${ex.lossMask.length} entries for ${ex.ids.length} tokens`);
  }
  const epochs = opts.epochs ?? 1;
  const bs = opts.batchSize ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new IclitError(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(bs) || bs < 1) throw new IclitError(`batch size must be a positive integer, got ${bs}`);
  const stepsPerEpoch = Math.ceil(n / bs);
  const totalSteps = epochs * stepsPerEpoch;
  const schedule = makeSchedule(opts.schedule ?? 'constant', opts.warmupSteps ?? 0, totalSteps);
  const seed = opts.seed ?? 0;
  manualSeed(seed);
  const rng = seededRandom(seed);
  let state = keepTree(optimizer.init(params));
  const names = [...params.keys()];
  const leaves = names.map((k) => params.get(k)!);
  const losses: number[][] = [];
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = opts.shuffle === false ? [...Array(n).keys()] : shuffled(n, rng);
      for (let s = 0; s < stepsPerEpoch; s++) {
        const pick = order.slice(s * bs, (s + 1) * bs);
        const rows = data.flatMap((d) => pick.map((i) => d[i]));
        const lr = optimizer.lr * schedule(step);
        const start = performance.now();
        const next = tidy(() => {
          const forward = (): GroupLoss => groupedLoss(model, rows, G);
          const loss = opts.forwardAt ? opts.forwardAt(step, forward) : forward();
          const bad = loss.perGroup.findIndex((l) => !Number.isFinite(l));
          if (bad >= 0) {
            throw new IclitError(`training diverged: loss is ${loss.perGroup[bad]} at step ${step + 1} (epoch ${epoch + 1}${G > 1 ? `, group ${bad}` : ''}); ${model.dtype === 'float32' ? 'lower the learning rate (and check the model\'s weights)' : 'lower the learning rate or compute in float32'}`);
          }
          loss.total.backward();
          const grads = new Map<string, Tensor>();
          leafGrads(leaves).forEach((g, i) => g && grads.set(names[i], g));
          const out = optimizer.update(params, grads, state, step + 1, lr);
          assignLeaves(leaves, names.map((k) => out.params.get(k)!)); // and their gradients dropped
          return { state: out.state, perGroup: loss.perGroup, tokens: loss.tokens };
        });
        disposeTree(state);
        state = keepTree(next.state);
        step++;
        losses.push(next.perGroup);
        const seconds = (performance.now() - start) / 1000;
        opts.onStep?.({
          step,
          totalSteps,
          epoch: epoch + 1,
          loss: next.perGroup.reduce((a, b) => a + b, 0) / G,
          losses: next.perGroup,
          lr,
          tokensPerSecond: next.tokens / Math.max(seconds, 1e-9),
        });
      }
    }
  } finally {
    for (const p of params.values()) p.zeroGrad();
    disposeTree(state);
  }
  return { steps: step, losses };
}

/** Trains LoRA adapters: `data[g]` trains adapter g (data.length must equal lora.count); each step's forward runs through them with dropout on. */
export function trainLora(model: LlamaModel, lora: LoraAdapters, data: TrainExample[][], opts: TrainOptions = {}): TrainResult {
  if (data.length !== lora.count) throw new IclitError(`${data.length} training groups for ${lora.count} LoRA adapters: give one group per adapter`);
  if (lora.model !== model) throw new IclitError('trainLora: the adapters belong to another model');
  return train(model, lora.params, data, { ...opts, forwardAt: (step, forward) => lora.apply(forward, { step }) });
}
