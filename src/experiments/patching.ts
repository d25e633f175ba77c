// Causal patching across paradigms: per layer, how much of the anchor → IT (→ ICL) output gap the ICL (IT) run's last-token state closes, and the own-output checks.
/*
 * For one repeat and patch point l (HF hidden-state index 0..n−1): the base model reads the anchor prompt X + B with
 * its last-token residual state at l replaced by the donor run's state at l, and gapClosed (src/stats/distributions)
 * says how much of the way from the anchor's next-token distribution to a target output it went. Donors: the ICL run
 * (the base model reading X + A + label(A) + B) and the IT run (X + B through the tuned adapter). Targets, read off the
 * same patched logits: the OTHER paradigm's output (the cross curves: does the ICL state carry what tuning put into
 * the weights, and back) and the donor's own output (a check: near 1 at the top layers by construction). Every patch point of
 * every repeat of a chunk is one row of the backend's patched reads. A row patched at l shares blocks 0..l−1 with
 * the unpatched anchor run, so the backend carries each anchor's residual stream up the layers once (patchGroups) and
 * resumes each row at its l: a repeat costs about n_layers + 1 anchor forwards (Σ_l 2·(n − l) blocks plus n − 1 for
 * the carried stream); the three outputs are the logits of the runner's own reads.
 */
import { gapClosed, logSoftmax } from '../stats/index.js';
import { IclitError } from '../util/errors.js';
import type { SituationStates, StudyBackend } from './backend.js';
import type { RepeatRecord } from './record.js';

export type PatchingRecord = NonNullable<RepeatRecord['patching']>;

/** The patch points of a model with `numHiddenStates` HF hidden states: 0..n−1 (index n, after the final norm, would only restate the donor's output). */
export function patchPoints(numHiddenStates: number): number[] {
  return Array.from({ length: numHiddenStates - 1 }, (_, l) => l);
}

/** One curve: the base model reads `receiver` with its last-token state at each patch point replaced by the donor's there. */
export interface PatchCurve {
  receiver: number[];
  /** The donor run's last-token state at each patch point (aligned with the points). */
  donor: Float32Array[];
  /** Full next-token logits where the gap starts (the unpatched run). */
  source: ArrayLike<number>;
  /** Full next-token logits of each output the gap is measured toward; all read off the same patched logits. */
  targets: readonly ArrayLike<number>[];
}

/** gapClosed per curve, target and patch point ([curve][target][point]); every curve's patched reads go to the backend in one call (targets cost no reads). */
export function gapClosedByPoint(backend: Pick<StudyBackend, 'patchedLastLogits'>, points: readonly number[], curves: readonly PatchCurve[]): number[][][] {
  for (const c of curves) if (c.donor.length !== points.length) throw new IclitError(`patching: ${c.donor.length} donor states for ${points.length} patch points`);
  const patched = backend.patchedLastLogits(
    curves.flatMap((c) => points.map(() => c.receiver)),
    curves.flatMap(() => [...points]),
    curves.flatMap((c) => c.donor),
  );
  return curves.map((c, i) => {
    const source = logSoftmax(c.source);
    const rows = points.map((_, j) => logSoftmax(patched[i * points.length + j]));
    return c.targets.map((t) => {
      const target = logSoftmax(t);
      return rows.map((row) => gapClosed(source, row, target));
    });
  });
}

/** One repeat as the runner holds it: its prompts' token ids, the states it read, and the full last-token logits of its three reads (the runner's own reads carry them). */
export interface PatchingItem {
  anchor: number[];
  icl: number[];
  states: SituationStates;
  outputs: { anchor: ArrayLike<number>; icl: ArrayLike<number>; it: ArrayLike<number> };
}

/** The state of `which` at hidden-state index l, refusing a plan that did not measure it (the preset measures every layer). */
function stateAt(states: SituationStates, which: 'icl' | 'it', l: number): Float32Array {
  const i = states.layers.indexOf(l);
  if (i < 0) throw new IclitError(`patching needs the states of every hidden-state index 0..n−1; hidden state ${l} was not measured (measure every layer)`);
  return states[which][i];
}

/**
 * record.patching of each item: the anchor run patched at every layer with its ICL run's state and, separately, its IT
 * run's; each patched row measured toward the other paradigm's output (iclToIt, itToIcl: the evidence) and toward the
 * donor's own (icl, it: checks).
 */
export function patchingOf(backend: Pick<StudyBackend, 'numHiddenStates' | 'patchedLastLogits'>, items: readonly PatchingItem[]): PatchingRecord[] {
  if (items.length === 0) return [];
  const points = patchPoints(backend.numHiddenStates);
  const curves = items.flatMap((x): PatchCurve[] => [
    { receiver: x.anchor, donor: points.map((l) => stateAt(x.states, 'icl', l)), source: x.outputs.anchor, targets: [x.outputs.it, x.outputs.icl] },
    { receiver: x.anchor, donor: points.map((l) => stateAt(x.states, 'it', l)), source: x.outputs.anchor, targets: [x.outputs.icl, x.outputs.it] },
  ]);
  const closed = gapClosedByPoint(backend, points, curves);
  return items.map((_, i) => {
    const [[iclToIt, icl], [itToIcl, it]] = [closed[2 * i], closed[2 * i + 1]];
    return { layers: points, iclToIt, itToIcl, icl, it };
  });
}

/** Distinct prompts whose residual stream a backend carries up the layers together (their states at one index are held at a time). */
export const PATCH_GROUP = 8;

/** A group of distinct prompts and, per patch point ascending, the rows patched there and each row's prompt in the group. */
export interface PatchGroup {
  prompts: number[][];
  steps: { index: number; rows: number[]; members: number[] }[];
}

/**
 * How patched rows are run (LlamaStudyBackend and the work counter follow it alike): the distinct prompts, in order of
 * first appearance, in groups of `groupSize`; within a group the rows by patch point, ascending.
 */
export function patchGroups(prompts: readonly number[][], index: readonly number[], groupSize = PATCH_GROUP): PatchGroup[] {
  const memberOf = new Map<string, number>();
  const distinct: number[][] = [];
  const member = prompts.map((p) => {
    const key = p.join(',');
    let m = memberOf.get(key);
    if (m === undefined) memberOf.set(key, (m = distinct.push(p) - 1));
    return m;
  });
  const groups: PatchGroup[] = [];
  for (let g0 = 0; g0 < distinct.length; g0 += groupSize) {
    const byIndex = new Map<number, { rows: number[]; members: number[] }>();
    member.forEach((m, row) => {
      if (m < g0 || m >= g0 + groupSize) return;
      const at = byIndex.get(index[row]) ?? byIndex.set(index[row], { rows: [], members: [] }).get(index[row])!;
      at.rows.push(row);
      at.members.push(m - g0);
    });
    const steps = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([i, x]) => ({ index: i, ...x }));
    groups.push({ prompts: distinct.slice(g0, g0 + groupSize), steps });
  }
  return groups;
}
