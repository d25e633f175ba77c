// The metric variants researchers cite, per condition at one layer, for summary.json: standardised cosines, Dai's SimAOU, debiased CKA.
import type { RepeatRecord } from '../experiments/record.js';
import type { Robustness } from '../results/robustness.js';
import { PAIRS } from './groups.js';
import { pairAt, simAouAt } from './measures.js';
import { dist } from './numbers.js';
import type { RobustDists } from './types.js';

/** The variants of one condition's records at `layer`; null where they need states the records lack. */
export function variantDists(records: readonly RepeatRecord[], layer: number | null, rob: Robustness | undefined): Pick<RobustDists, 'standardised' | 'simAou' | 'ckaDebiased'> {
  const withStates = rob !== undefined && layer !== null && records.some((r) => rob.of(r) !== undefined);
  if (!withStates) return { standardised: null, simAou: null, ckaDebiased: null };
  const first = records[0];
  const cka = rob.conditions.find((c) => c.model === first.model && c.experiment === first.experiment && c.condition === first.condition)?.layers.find((l) => l.layer === layer)?.ckaDebiased;
  const at = (k: (typeof PAIRS)[number]) => dist(records.map((r) => pairAt(rob, r, k, layer, 'standardised')));
  return {
    standardised: { simAnchorIcl: at('simAnchorIcl'), simAnchorIt: at('simAnchorIt'), simIclIt: at('simIclIt') },
    simAou: dist(records.map((r) => simAouAt(rob, r, layer))),
    ckaDebiased: cka === undefined || !Number.isFinite(cka) ? null : cka,
  };
}
