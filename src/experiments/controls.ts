// The built-in controls as data: each one a change to the preset's first condition, appended as a condition named control:<name>.
import type { Condition } from './conditions.js';
import type { TunedAdapters } from './backend.js';

/**
 * What each control changes in the condition it copies (docs/METHODS.md, "Controls"):
 * - untrained: the same study on a randomly initialised copy of the model (Deutch et al. 2024: the ICL–fine-tuning
 *   similarity measures score about as high on untrained models);
 * - random-adapter: the IT read through the tuned adapters turned to a random direction of the same norms;
 * - shuffled-labels: each demonstration labelled with the gold label of the same-position demonstration of another
 *   repeat (labels that carry no information about their texts; Dai et al. 2023 compare with such baselines).
 */
export const CONTROLS = {
  untrained: { weights: 'untrained' },
  'random-adapter': { itAdapter: 'random-direction' },
  'shuffled-labels': { labels: 'shuffled' },
} as const satisfies Record<string, Partial<Condition>>;

export type ControlName = keyof typeof CONTROLS;

/** The controls in the order their conditions are appended (whatever order the user named them in). */
export const CONTROL_NAMES: readonly ControlName[] = Object.keys(CONTROLS) as ControlName[];

/** The prefix of a control condition's name. */
export const CONTROL_PREFIX = 'control:';

/**
 * `conditions` with, for each control named, a copy of the FIRST condition changed as CONTROLS says, named
 * `control:<name>` and marked `control: <name>`, appended in CONTROL_NAMES order. No controls: `conditions` as given
 * (so the manifest of a run without controls is what it always was).
 */
export function withControls(conditions: Condition[], controls: readonly ControlName[]): Condition[] {
  if (controls.length === 0 || conditions.length === 0) return conditions;
  const first = conditions[0];
  const added = CONTROL_NAMES.filter((n) => controls.includes(n)).map((n): Condition => ({ ...first, ...CONTROLS[n], name: `${CONTROL_PREFIX}${n}`, control: n }));
  return [...conditions, ...added];
}

/**
 * The adapters a condition's IT situation is read through: the tuned ones, or for a random-direction condition their
 * random-direction copy from `seeds` (one per adapter), which replaces them (the tuned set is disposed here).
 */
export function itAdapters(tuned: TunedAdapters, c: Condition, seeds: number[]): TunedAdapters {
  if (c.itAdapter !== 'random-direction') return tuned;
  try {
    return tuned.randomDirection(seeds);
  } finally {
    tuned.dispose();
  }
}
