// Trees of tensors (optimiser states, parameter sets): one call frees or keeps every tensor in them, as optax/jax-js trees.
import { keep } from './scope.js';
import { Tensor } from './tensor.js';

/** A tensor, a number (a non-tensor leaf such as a step count), or arrays / Maps / records of trees. */
export type TensorTree = Tensor | number | readonly TensorTree[] | ReadonlyMap<string, TensorTree> | { readonly [key: string]: TensorTree };

/** Every tensor in `tree`, depth first, in insertion order. */
export function treeLeaves(tree: TensorTree): Tensor[] {
  const out: Tensor[] = [];
  const walk = (t: TensorTree): void => {
    if (t instanceof Tensor) out.push(t);
    else if (typeof t === 'number') return;
    else if (Array.isArray(t)) for (const v of t as readonly TensorTree[]) walk(v);
    else if (t instanceof Map) for (const v of (t as ReadonlyMap<string, TensorTree>).values()) walk(v);
    else for (const v of Object.values(t as { [key: string]: TensorTree })) walk(v);
  };
  walk(tree);
  return out;
}

/** Frees every tensor of `tree` (safe to call twice). */
export function disposeTree(tree: TensorTree): void {
  for (const t of treeLeaves(tree)) t.dispose();
}

/** keep() for every tensor of `tree`: the whole tree outlives the tidy scope it was made in. Returns `tree`. */
export function keepTree<T extends TensorTree>(tree: T): T {
  for (const t of treeLeaves(tree)) keep(t);
  return tree;
}
