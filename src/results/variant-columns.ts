// The export columns of the metric variants researchers cite (standardised cosines, Dai's SimAOU), read from a record's robustness measures.
import type { RecordRobustness } from './robustness.js';

/** Column prefix (then _<layer> and _last, as every robustness column) and how to read it from computeRobustness's measures. */
export const VARIANT_COLUMNS: readonly (readonly [prefix: string, read: (m: RecordRobustness) => number[]])[] = [
  ['standardised_anchor_icl', (m) => m.standardised.anchorIcl],
  ['standardised_anchor_it', (m) => m.standardised.anchorIt],
  ['standardised_icl_it', (m) => m.standardised.iclIt],
  ['sim_aou', (m) => m.simAou],
];
