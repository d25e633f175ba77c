// Degenerate hidden states named where they appear: a NaN/Inf or all-zero state makes every similarity NaN, so the repeat stops naming model, layer and condition.
import { IclitError } from '../util/errors.js';
import type { SituationStates } from './backend.js';

/** The first index of a non-finite value in `v`, or -1. */
function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}

/**
 * Throws one IclitError when a state of `s` (rows per measured layer `layers`) holds NaN/±Inf or is all zeros:
 * the cosines would be NaN. Names the model, the situation, the hidden-state index, the condition and the repeat,
 * and the likely cause (a bad weight, or float overflow in a low-precision dtype).
 */
export function checkStates(s: Pick<SituationStates, 'anchor' | 'icl' | 'it'>, where: { model: string; layers: readonly number[]; condition: string; repeat: number }): void {
  for (const [situation, rows] of [['anchor', s.anchor], ['ICL', s.icl], ['IT', s.it]] as const) {
    rows.forEach((v, l) => {
      const at = `the ${situation} hidden state ${where.layers[l]} of model ${where.model} (condition ${where.condition}, repeat ${where.repeat})`;
      const bad = firstNonFinite(v);
      if (bad >= 0) throw new IclitError(`${at} holds ${v[bad]} at dimension ${bad}; check the model's weights (and, in bfloat16, overflow: try --dtype float32)`);
      if (v.every((x) => x === 0)) throw new IclitError(`${at} is all zeros, so its similarities would be NaN; check the model's weights`);
    });
  }
}
