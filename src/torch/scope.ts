// Tensor lifetimes: tidy scopes that free what a block created, keep() to let a tensor out, and autograd switches.
import { binding } from './native.js';

/** What scopes need of a tensor (the Tensor class implements it; kept abstract here so this file stands first). */
export interface Scoped {
  readonly disposed: boolean;
  dispose(): void;
}

/** Marks Tensor instances, so that scopes recognise them without importing the class. */
export const TENSOR = Symbol('iclit.tensor');

function isScoped(v: unknown): v is Scoped {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TENSOR] === true;
}

// Each tidy() opens a scope; tensors created inside it are disposed when it closes unless returned or kept.
const scopes: Set<Scoped>[] = [];

/** Adds a new tensor to the innermost open scope (the Tensor constructor calls this). */
export function track(t: Scoped): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes `t` from the scope it was created in, so it outlives that scope; the caller now owns it. */
export function keep<T extends Scoped>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Tensors reachable from a tidy result: through arrays, Maps, Sets and plain objects, at any depth. A tensor of the
 * closing scope found inside anything else (a class instance) is an error: tidy would otherwise free a tensor the
 * caller still holds. Return such objects' tensors in a plain structure, or keep() them.
 */
function collect(value: unknown, scope: Set<Scoped>, into: Set<Scoped>, seen: Set<object>, path: string, inside: string | null): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isScoped(value)) {
    if (inside !== null && scope.has(value)) {
      throw new Error(`tidy: the result holds a tensor created in this scope at ${path}, inside a ${inside}, which tidy does not look into; keep() it or return it in an array, Map or plain object`);
    }
    into.add(value);
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  if (Array.isArray(value)) value.forEach((v, i) => collect(v, scope, into, seen, `${path}[${i}]`, inside));
  else if (value instanceof Map) for (const [k, v] of value) collect(v, scope, into, seen, `${path}.get(${JSON.stringify(k)})`, inside);
  else if (value instanceof Set) for (const v of value) collect(v, scope, into, seen, `${path}.<set entry>`, inside);
  else {
    const owner = inside ?? (isPlain(value) ? null : (value.constructor?.name ?? 'object'));
    for (const [k, v] of Object.entries(value)) collect(v, scope, into, seen, `${path}.${k}`, owner);
  }
}

/**
 * Runs `fn` and disposes every tensor created during it, except tensors reachable from its result (a tensor, or
 * arrays / plain objects / Maps / Sets of them at any depth), which move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Scoped>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    // As tfjs does: tensors made after an await would land in no scope (or in another caller's), so async is refused.
    if (result instanceof Promise || typeof (result as { then?: unknown } | null)?.then === 'function') {
      throw new Error('tidy() cannot take a function that returns a promise: tensors made after an await would escape the scope (await first, then tidy the synchronous part)');
    }
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (scope.size === 0) return result;
  const kept = new Set<Scoped>();
  try {
    collect(result, scope, kept, new Set(), 'result', null);
  } catch (e) {
    for (const t of scope) t.dispose();
    throw e;
  }
  for (const t of scope) {
    if (kept.has(t)) track(t);
    else t.dispose();
  }
  return result;
}

/** Runs `fn` with autograd recording switched off (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const b = binding();
  const prev = b.setGradEnabled(false);
  try {
    return fn();
  } finally {
    b.setGradEnabled(prev);
  }
}

/** noGrad(() => tidy(fn)): inference code that records no graph and frees its temporaries. */
export function tidyNoGrad<T>(fn: () => T): T {
  return noGrad(() => tidy(fn));
}
