// Optimisers as pure {init, update} pairs over named tensors, their state a tensor tree (optax's shape): AdamW as torch.optim.AdamW, and SGD.
import { adamwStep, tidyNoGrad, zerosLike, type Tensor, type TensorTree } from '../torch/index.js';

export type Params = Map<string, Tensor>;

/**
 * An optimiser: `init` makes its state for `params`, a tree of tensors that one disposeTree(state) frees; `update`
 * returns new parameters and a new state for the 1-based `step` at learning rate `lr`, leaving its inputs untouched
 * (the caller copies the result into its leaves and disposes the old state). Parameters without a gradient are
 * returned unchanged (torch skips them). State tensors live where the parameters do (same device).
 */
export interface Optimizer<S extends TensorTree> {
  readonly lr: number;
  init(params: Params): S;
  update(params: Params, grads: Params, state: S, step: number, lr?: number): { params: Params; state: S };
}

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** AdamW's moments by parameter name (float32, like the parameters' shapes and device). */
export type AdamState = { expAvg: Params; expAvgSq: Params };

/**
 * torch.optim.AdamW (amsgrad off, defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 * Moments are kept in float32 whatever the parameters' dtype. The arithmetic runs natively (adamwStep: the same
 * float32 ops in this order, for every parameter in one call); the scalars are computed here.
 */
export function adamw(opts: AdamWOptions = {}): Optimizer<AdamState> {
  const lr0 = opts.lr ?? 1e-3;
  const [b1, b2] = opts.betas ?? [0.9, 0.999];
  const eps = opts.eps ?? 1e-8;
  const wd = opts.weightDecay ?? 1e-2;
  return {
    lr: lr0,
    init(params) {
      const expAvg = new Map<string, Tensor>();
      const expAvgSq = new Map<string, Tensor>();
      for (const [k, p] of params) {
        expAvg.set(k, zerosLike(p, 'float32'));
        expAvgSq.set(k, zerosLike(p, 'float32'));
      }
      return { expAvg, expAvgSq };
    },
    update(params, grads, state, step, lr = lr0) {
      return tidyNoGrad(() => {
        const out = new Map<string, Tensor>();
        const expAvg = new Map<string, Tensor>();
        const expAvgSq = new Map<string, Tensor>();
        const names = [...params.keys()].filter((k) => grads.has(k));
        // every parameter with a gradient in one native call (a LoRA chunk's 2 × modules tensors hold all its adapters)
        const stepped = adamwStep(
          names.map((k) => params.get(k)!),
          names.map((k) => grads.get(k)!),
          names.map((k) => state.expAvg.get(k)!),
          names.map((k) => state.expAvgSq.get(k)!),
          [1 - lr * wd, b1, 1 - b1, b2, 1 - b2, Math.sqrt(1 - Math.pow(b2, step)), eps, lr / (1 - Math.pow(b1, step))],
        );
        const index = new Map(names.map((k, i) => [k, i]));
        for (const [k, p] of params) {
          const i = index.get(k);
          out.set(k, i === undefined ? p.clone() : stepped.params[i]);
          expAvg.set(k, i === undefined ? state.expAvg.get(k)!.clone() : stepped.expAvg[i]);
          expAvgSq.set(k, i === undefined ? state.expAvgSq.get(k)!.clone() : stepped.expAvgSq[i]);
        }
        return { params: out, state: { expAvg, expAvgSq } };
      });
    },
  };
}

export interface SgdOptions {
  lr?: number;
  momentum?: number;
  weightDecay?: number;
}

/** SGD's momentum buffers by parameter name (empty without momentum). */
export type SgdState = { momentum: Params };

/** torch.optim.SGD (dampening 0, no Nesterov): g ← g + wd·p; b ← μ·b + g (b = g at step 1); p ← p − lr·b. */
export function sgd(opts: SgdOptions = {}): Optimizer<SgdState> {
  const lr0 = opts.lr ?? 1e-3;
  const mu = opts.momentum ?? 0;
  const wd = opts.weightDecay ?? 0;
  return {
    lr: lr0,
    init() {
      return { momentum: new Map() };
    },
    update(params, grads, state, step, lr = lr0) {
      return tidyNoGrad(() => {
          const out = new Map<string, Tensor>();
          const momentum = new Map<string, Tensor>();
          for (const [k, p] of params) {
            const g0 = grads.get(k);
            const b0 = state.momentum.get(k);
            if (!g0) {
              out.set(k, p.clone());
              if (b0) momentum.set(k, b0.clone());
              continue;
            }
            const p32 = p.to('float32');
            let g = g0.to('float32');
            if (wd !== 0) g = g.add(p32.mul(wd));
            if (mu !== 0) {
              g = b0 && step > 1 ? b0.mul(mu).add(g) : g.clone();
              momentum.set(k, g);
            }
            out.set(k, p32.sub(g.mul(lr)).to(p.dtype));
          }
          return { params: out, state: { momentum } };
        });
    },
  };
}
