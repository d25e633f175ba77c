// Learning-rate schedules as multipliers of the base rate per 0-based optimiser step (Hugging Face conventions).
import { IclitError } from '../util/errors.js';

/** lr multiplier for 0-based optimiser step `step` (the first update uses step 0, as HF's LambdaLR does). */
export type Schedule = (step: number) => number;

export const constantSchedule: Schedule = () => 1;

/** transformers.get_constant_schedule_with_warmup. */
export function constantWithWarmup(warmupSteps: number): Schedule {
  return (step) => (step < warmupSteps ? step / Math.max(1, warmupSteps) : 1);
}

/** transformers.get_linear_schedule_with_warmup: 0 → 1 over the warmup, then linearly down to 0 at totalSteps. */
export function linearWithWarmup(warmupSteps: number, totalSteps: number): Schedule {
  return (step) => {
    if (step < warmupSteps) return step / Math.max(1, warmupSteps);
    return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  };
}

export type ScheduleName = 'constant' | 'linear';

/** A schedule by its CLI name ('constant' honours the warmup too, like HF's constant_with_warmup). */
export function makeSchedule(name: ScheduleName, warmupSteps: number, totalSteps: number): Schedule {
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new IclitError(`warmup steps must be a non-negative integer, got ${warmupSteps}`);
  if (name === 'constant') return warmupSteps > 0 ? constantWithWarmup(warmupSteps) : constantSchedule;
  if (name === 'linear') return linearWithWarmup(warmupSteps, totalSteps);
  throw new IclitError(`unknown learning-rate schedule '${String(name)}' (constant, linear)`);
}
