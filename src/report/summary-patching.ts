// summary.json's patching numbers: per patch point, each curve's (cross and own-output) distribution over repeats and the 95% interval of its mean.
import type { RepeatRecord } from '../experiments/record.js';
import { meanTInterval } from '../stats/index.js';
import { CROSS_CURVES, patchPointsOf, patchingAt } from './patching-values.js';
import { dist } from './numbers.js';
import type { PatchingDist, PatchingSummary } from './types.js';

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function patchingDist(values: number[]): PatchingDist {
  const ci = meanTInterval(values);
  return { ...dist(values), ci95: { lower: orNull(ci.lower), upper: orNull(ci.upper) } };
}

/** `{ patching }` for a condition whose records carry patching values, else `{}` (so other summaries keep their shape). */
export function patchingSummaryOf(records: readonly RepeatRecord[]): { patching?: PatchingSummary } {
  const withPatching = records.filter((r) => r.patching !== undefined);
  if (withPatching.length === 0) return {};
  // cross curves only where some record has them (older records lack them; theirs count as NaN, like a record without a gap)
  const cross = CROSS_CURVES.filter((k) => withPatching.some((r) => r.patching![k] !== undefined));
  const layers = patchPointsOf(withPatching).map((layer) => ({
    layer,
    ...Object.fromEntries(cross.map((k) => [k, patchingDist(withPatching.map((r) => patchingAt(r, k, layer)))])),
    icl: patchingDist(withPatching.map((r) => patchingAt(r, 'icl', layer))),
    it: patchingDist(withPatching.map((r) => patchingAt(r, 'it', layer))),
  }));
  return { patching: { layers } };
}
