// Test helpers for src/results and its users: well-formed RepeatRecords with awkward values (NaN, nasty prompts).
import type { RepeatRecord } from '../experiments/record.js';

/** The configHash sample records carry (a manifest made by sampleManifest has it too). */
export const SAMPLE_CONFIG_HASH = 'c0ffee'.padEnd(64, '0');

/** A complete record for `experiment/condition/repeat/model`; `over` replaces any field. */
export function sampleRecord(over: Partial<RepeatRecord> = {}): RepeatRecord {
  const repeat = over.repeat ?? 0;
  return {
    experiment: 'convergence',
    condition: 'correct-labels',
    repeat,
    seed: 1000 + repeat,
    model: 'tiny-llama',
    layers: [0, 2, 4],
    simAnchorIcl: [0.5, 0.25, NaN],
    simAnchorIt: [0.125, -0.75, 1],
    simIclIt: [0.1, 0.2, 0.30000000000000004],
    simUpdate: [NaN, 0.5, -0.25],
    accuracy: { zeroShot: 0.5, icl: 0.75, it: 1, n: 4 },
    lossDecrease: { instruction: 0.5, example: -0.125 },
    prompts: {
      anchor: 'Review: "great, fun" film\nSentiment:',
      icl: 'Review: bad\nSentiment: negative\n\nReview: "great, fun" film\nSentiment:',
      tuning: ['Classify: good,\n"yes"', ' leading space'],
    },
    tokenCounts: { anchor: 12, icl: 24, tuning: [7, 3] },
    tuneLoss: 0.693,
    millis: 1234.5,
    extra: { shots: 1, labels: 'positive,negative', flipped: false, bin: null },
    configHash: SAMPLE_CONFIG_HASH,
    ...over,
  };
}

/** Records for `conditions` × `repeats` (one group per repeat). */
export function sampleGroups(conditions: string[], repeats: number, over: Partial<RepeatRecord> = {}): RepeatRecord[][] {
  const groups: RepeatRecord[][] = [];
  for (let r = 0; r < repeats; r++) groups.push(conditions.map((condition) => sampleRecord({ ...over, condition, repeat: r })));
  return groups;
}
