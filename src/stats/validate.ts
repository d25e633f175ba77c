// Input checks shared by the statistics functions: one clear IclitError naming the function, the argument and the bad value.
import { IclitError } from '../util/errors.js';

/** Throws unless every value is a finite number; `where` names the caller and argument, e.g. "wilcoxon: d". */
export function checkFinite(values: ArrayLike<number>, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new IclitError(`${where}[${i}] is ${String(v)}; expected a finite number`);
    }
  }
}

/** Throws unless the array holds no NaN (±Infinity is allowed where order statistics make sense of it). */
export function checkNotNaN(values: ArrayLike<number>, where: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new IclitError(`${where}[${i}] is ${String(v)}; expected a number (drop NaN first, or use describe())`);
    }
  }
}

/** Throws unless the array has at least `min` elements. */
export function checkLength(values: ArrayLike<number>, min: number, where: string): void {
  if (values.length < min) {
    throw new IclitError(`${where} has ${values.length} value(s); needs at least ${min}`);
  }
}

/** A sorted (ascending) copy as a Float64Array. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const s = Float64Array.from(values);
  s.sort();
  return s;
}
