// Do ICL and IT agree beyond the hidden state: next-token distributions at the last input position, and the last token's attention over the tokens all three prompts share.
import { argmax, gatherPositions, headAveragedCosine, jensenShannon, klDivergence, logSoftmax, probabilityMass, renormaliseHeads, spanShare } from '../stats/index.js';
import { IclitError } from '../util/errors.js';
import type { PromptRead, ReadOptions, StudyBackend } from './backend.js';
import { answerToken } from './measures.js';
import type { RepeatRecord } from './record.js';
import type { Unit } from './units.js';

/** What the anchor, ICL and IT reads return besides their hidden states (one forward each): full logits and attention. */
export const AGREEMENT_READ: ReadOptions = { logits: true, attention: true };

/** The three reads of one unit: anchor (base, X + B), ICL (base, X + A + label(A) + B), IT (X + B through the adapter). */
export interface SituationReads {
  anchor: PromptRead;
  icl: PromptRead;
  it: PromptRead;
}

/**
 * The token positions the anchor (X + B) and ICL (X + demonstrations + B) prompts share: their common prefix and
 * their common suffix, the suffix cut short so the two never overlap. The IT prompt is the anchor's, so it shares the
 * anchor's positions. The ICL positions between prefix and suffix are the demonstrations' ([start, end)).
 */
export interface SharedPositions {
  anchor: number[];
  icl: number[];
  demo: { start: number; end: number };
}

export function sharedPositions(anchor: readonly number[], icl: readonly number[]): SharedPositions {
  const most = Math.min(anchor.length, icl.length);
  let prefix = 0;
  while (prefix < most && anchor[prefix] === icl[prefix]) prefix++;
  let suffix = 0;
  while (prefix + suffix < most && anchor[anchor.length - 1 - suffix] === icl[icl.length - 1 - suffix]) suffix++;
  const span = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  return {
    anchor: [...span(0, prefix), ...span(anchor.length - suffix, anchor.length)],
    icl: [...span(0, prefix), ...span(icl.length - suffix, icl.length)],
    demo: { start: prefix, end: icl.length - suffix },
  };
}

/** Token ids of the label words' first tokens after each prompt (answerToken), where the task has label words. */
export interface LabelTokens {
  anchor: number[];
  icl: number[];
}

/**
 * KL and Jensen–Shannon divergences (nats), top-1 agreement and label-word mass of the three next-token
 * distributions, from each read's full last-token logits (log-softmax in float64). The IT read scores the anchor
 * prompt's label tokens (it reads the anchor prompt).
 */
export function outputAgreement(logits: { anchor: ArrayLike<number>; icl: ArrayLike<number>; it: ArrayLike<number> }, labels?: LabelTokens): NonNullable<RepeatRecord['outputs']> {
  const a = logSoftmax(logits.anchor);
  const i = logSoftmax(logits.icl);
  const t = logSoftmax(logits.it);
  const [ta, ti, tt] = [argmax(a), argmax(i), argmax(t)];
  const out: NonNullable<RepeatRecord['outputs']> = {
    klIclIt: klDivergence(i, t),
    jsIclIt: jensenShannon(i, t),
    klIclAnchor: klDivergence(i, a),
    klItAnchor: klDivergence(t, a),
    top1IclIt: ti === tt,
    top1AnchorIcl: ta === ti,
    top1AnchorIt: ta === tt,
  };
  if (labels) out.labelMass = { anchor: probabilityMass(a, labels.anchor), icl: probabilityMass(i, labels.icl), it: probabilityMass(t, labels.anchor) };
  return out;
}

/** Query heads of a last-token attention row of `tokens` positions ([H · tokens], head-major). */
function headsOf(w: Float32Array, tokens: number): number {
  const heads = w.length / tokens;
  if (!Number.isInteger(heads) || heads < 1) throw new IclitError(`attention row of ${w.length} weights does not fit a prompt of ${tokens} tokens`);
  return heads;
}

/**
 * Per measured layer: head-averaged cosines of the three last-token attention rows over the shared positions, the
 * cosine of the two attention changes (ICL − anchor, IT − anchor) there with each head's shared-position row first
 * renormalised to sum 1, and the share of the ICL row's weight on the demonstrations. NaN at layer 0 (no block
 * produced the embeddings).
 */
export function attentionAgreement(
  att: { anchor: (Float32Array | null)[]; icl: (Float32Array | null)[]; it: (Float32Array | null)[] },
  ids: { anchor: readonly number[]; icl: readonly number[] },
): NonNullable<RepeatRecord['attention']> {
  const shared = sharedPositions(ids.anchor, ids.icl);
  const out: NonNullable<RepeatRecord['attention']> = { anchorIcl: [], anchorIt: [], iclIt: [], change: [], demoShare: [] };
  att.anchor.forEach((wa, l) => {
    const wi = att.icl[l];
    const wt = att.it[l];
    if (!wa || !wi || !wt) {
      for (const k of ['anchorIcl', 'anchorIt', 'iclIt', 'change', 'demoShare'] as const) out[k].push(NaN);
      return;
    }
    const H = headsOf(wa, ids.anchor.length);
    if (headsOf(wi, ids.icl.length) !== H || headsOf(wt, ids.anchor.length) !== H) throw new IclitError('the three reads\' attention rows have different head counts');
    const a = gatherPositions(wa, H, shared.anchor);
    const i = gatherPositions(wi, H, shared.icl);
    const t = gatherPositions(wt, H, shared.anchor);
    out.anchorIcl.push(headAveragedCosine(a, i, H));
    out.anchorIt.push(headAveragedCosine(a, t, H));
    out.iclIt.push(headAveragedCosine(i, t, H));
    // The change compares distributions over the shared positions: the ICL row sums to 1 − demoShare there, the
    // anchor's and IT's to about 1, so unrenormalised differences would mix attention moved to the demonstrations
    // into the redistribution among X and B. The plain cosines above ignore scale and need no renormalising.
    const [na, ni, nt] = [renormaliseHeads(a, H), renormaliseHeads(i, H), renormaliseHeads(t, H)];
    out.change.push(headAveragedCosine(ni.map((v, j) => v - na[j]), nt.map((v, j) => v - na[j]), H));
    out.demoShare.push(spanShare(wi, H, shared.demo.start, shared.demo.end));
  });
  return out;
}

/**
 * A unit's output and attention agreement from its three reads (each with logits and attention: AGREEMENT_READ);
 * label-word mass where the unit's task has label words. A read without logits or attention leaves that part out.
 */
export function agreementOf(
  backend: Pick<StudyBackend, 'encode'>,
  unit: Pick<Unit, 'anchor' | 'icl' | 'labelWords'>,
  ids: { anchor: number[]; icl: number[] },
  reads: SituationReads,
): Pick<RepeatRecord, 'outputs' | 'attention'> {
  const { anchor, icl, it } = reads;
  const out: Pick<RepeatRecord, 'outputs' | 'attention'> = {};
  if (anchor.logits && icl.logits && it.logits) {
    const w = unit.labelWords;
    const tokensAfter = (text: string, promptIds: number[]): number[] => w!.words.map((word) => answerToken(backend, text, promptIds, word, w!.answerSeparator));
    const labels = w && { anchor: tokensAfter(unit.anchor.text, ids.anchor), icl: tokensAfter(unit.icl.text, ids.icl) };
    out.outputs = outputAgreement({ anchor: anchor.logits, icl: icl.logits, it: it.logits }, labels);
  }
  if (anchor.attention && icl.attention && it.attention) out.attention = attentionAgreement({ anchor: anchor.attention, icl: icl.attention, it: it.attention }, ids);
  return out;
}
