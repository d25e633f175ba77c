// summary.json's output and attention agreement per condition: the mean of each record measure with a bootstrap CI, and the pooled Rec2FTP flip recall.
import type { RepeatRecord } from '../experiments/record.js';
import { bootstrapMeanCI } from '../stats/index.js';
import { layersOf, lastLayerOf } from './groups.js';

/** Resamples and seed of every mean CI here (seeded: the same records give the same summary). */
const RESAMPLES = 2000;
const CONFIDENCE = 0.95;

/** Mean of the finite values and its 95% percentile-bootstrap CI (null with fewer than 2 finite values). */
export interface MeanCI {
  /** Finite values used. */
  n: number;
  /** Values left out because they were NaN or infinite. */
  nanCount: number;
  mean: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
}

/** Outputs per condition: divergences in nats; top-1 agreements as the share of repeats that agree. */
export interface OutputsSummary {
  klIclIt: MeanCI;
  jsIclIt: MeanCI;
  klIclAnchor: MeanCI;
  klItAnchor: MeanCI;
  top1IclIt: MeanCI;
  top1AnchorIcl: MeanCI;
  top1AnchorIt: MeanCI;
  /** Where the records carry label-word mass. */
  labelMass: { anchor: MeanCI; icl: MeanCI; it: MeanCI } | null;
}

export interface AttentionLayerSummary {
  layer: number;
  anchorIcl: MeanCI;
  anchorIt: MeanCI;
  iclIt: MeanCI;
  change: MeanCI;
  demoShare: MeanCI;
}

/** Rec2FTP (accuracy preset): flip counts per repeat, and the pooled share of one paradigm's flips the other makes too. */
export interface FlipsSummary {
  it: MeanCI;
  icl: MeanCI;
  both: MeanCI;
  /** Σ both / Σ it over the condition's repeats: of the zero-shot errors IT fixes, the share ICL fixes too (Dai's Rec2FTP); null when IT fixes none. */
  iclRecallOfIt: number | null;
  /** Σ both / Σ icl: the other direction. */
  itRecallOfIcl: number | null;
}

export interface AgreementSummary {
  outputs: OutputsSummary | null;
  /** Per measured layer, ascending, and at the last one. */
  attention: { layers: AttentionLayerSummary[]; last: AttentionLayerSummary | null } | null;
  flips: FlipsSummary | null;
}

export function meanCI(values: readonly number[]): MeanCI {
  const finite = values.filter((v) => Number.isFinite(v));
  const base = { n: finite.length, nanCount: values.length - finite.length, confidence: CONFIDENCE };
  if (finite.length === 0) return { ...base, mean: null, lower: null, upper: null };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  if (finite.length < 2) return { ...base, mean, lower: null, upper: null };
  const ci = bootstrapMeanCI(finite, { confidence: CONFIDENCE, resamples: RESAMPLES, seed: 0 });
  return { ...base, mean, lower: ci.lower, upper: ci.upper };
}

const share = (flags: boolean[]): MeanCI => meanCI(flags.map((f) => (f ? 1 : 0)));

function outputsSummary(records: readonly RepeatRecord[]): OutputsSummary | null {
  const o = records.flatMap((r) => (r.outputs ? [r.outputs] : []));
  if (o.length === 0) return null;
  const m = o.flatMap((x) => (x.labelMass ? [x.labelMass] : []));
  return {
    klIclIt: meanCI(o.map((x) => x.klIclIt)),
    jsIclIt: meanCI(o.map((x) => x.jsIclIt)),
    klIclAnchor: meanCI(o.map((x) => x.klIclAnchor)),
    klItAnchor: meanCI(o.map((x) => x.klItAnchor)),
    top1IclIt: share(o.map((x) => x.top1IclIt)),
    top1AnchorIcl: share(o.map((x) => x.top1AnchorIcl)),
    top1AnchorIt: share(o.map((x) => x.top1AnchorIt)),
    labelMass: m.length ? { anchor: meanCI(m.map((x) => x.anchor)), icl: meanCI(m.map((x) => x.icl)), it: meanCI(m.map((x) => x.it)) } : null,
  };
}

function attentionAt(records: readonly RepeatRecord[], layer: number): AttentionLayerSummary {
  const at = (k: keyof NonNullable<RepeatRecord['attention']>): MeanCI =>
    meanCI(records.map((r) => {
      const i = r.layers.indexOf(layer);
      return i < 0 ? NaN : r.attention![k][i];
    }));
  return { layer, anchorIcl: at('anchorIcl'), anchorIt: at('anchorIt'), iclIt: at('iclIt'), change: at('change'), demoShare: at('demoShare') };
}

function flipsSummary(records: readonly RepeatRecord[]): FlipsSummary | null {
  const f = records.flatMap((r) => (r.accuracy?.flips ? [r.accuracy.flips] : []));
  if (f.length === 0) return null;
  const sum = (k: 'it' | 'icl' | 'both'): number => f.reduce((a, x) => a + x[k], 0);
  return {
    it: meanCI(f.map((x) => x.it)),
    icl: meanCI(f.map((x) => x.icl)),
    both: meanCI(f.map((x) => x.both)),
    iclRecallOfIt: sum('it') > 0 ? sum('both') / sum('it') : null,
    itRecallOfIcl: sum('icl') > 0 ? sum('both') / sum('icl') : null,
  };
}

/** The agreement measures of one condition's records; null when none carries any. */
export function summarizeAgreement(records: readonly RepeatRecord[]): AgreementSummary | null {
  const withAttention = records.filter((r) => r.attention !== undefined);
  const last = lastLayerOf(withAttention);
  const attention = withAttention.length
    ? { layers: layersOf(withAttention).map((l) => attentionAt(withAttention, l)), last: last === null ? null : attentionAt(withAttention, last) }
    : null;
  const out = { outputs: outputsSummary(records), attention, flips: flipsSummary(records) };
  return out.outputs || out.attention || out.flips ? out : null;
}
