// Synthetic runs with control conditions: a real condition and the three controls, every per-record measure (states, outputs, attention, patching) built from one "agreement strength" per condition.
import type { RepeatRecord } from '../experiments/record.js';
import type { SituationStates } from '../experiments/backend.js';
import { cosine, updateCosine } from '../stats/index.js';
import { seededRandom, standardNormal } from '../util/random.js';
import { makeRecord, type SyntheticRun } from './synthetic.js';

export interface SyntheticControlsOptions {
  /**
   * 'beyond-controls': every control agrees less (strength 0.2 against the real condition's 1), so ICL ≈ IT beyond
   * every control; 'untrained-matches': the untrained control's margin over its null is as large as the real one's
   * (strength 1.05, Deutch et al.'s finding), the other controls' smaller; 'untrained-uniform': the untrained control
   * is near-uniform (states, attention and outputs nearly the same in anchor, ICL and IT: KL ≈ 0, attention cosine ≈ 1,
   * s(ICL,IT) ≈ 1) but its null moves with it, so its margin is ≈ 0, the real one's larger; 'null-fails': the real
   * condition agrees with IT no more than its null does (strength 0, no shared query), every control less still
   * (strength −1).
   */
  pattern: 'beyond-controls' | 'untrained-matches' | 'untrained-uniform' | 'null-fails';
  seed?: number;
  repeats?: number;
  /** Controls to include (default all three). */
  controls?: string[];
  /** Leave out the per-record measures other helpers add (outputs, attention, patching): rows say "not measured". */
  statesOnly?: boolean;
  dims?: number;
}

const LAYER = 8;
const PATCH_POINTS = [0, 1, 2, 3, 4, 5, 6, 7];

/** A condition's agreement strength (1: the real model's; 0: no more than its null; < 0: less), or 'uniform' (an untrained model's flat outputs). */
function strengthOf(pattern: SyntheticControlsOptions['pattern'], control: string | null): number | 'uniform' {
  if (pattern === 'null-fails') return control === null ? 0 : -1;
  if (control === null) return 1;
  if (control === 'untrained' && pattern === 'untrained-matches') return 1.05;
  if (control === 'untrained' && pattern === 'untrained-uniform') return 'uniform';
  return 0.2;
}

/**
 * Records of the 'convergence' preset (condition 'right-labels' and `control:<name>` per control, extra.control set)
 * and of 'patching' (its own 'default' condition and the same controls), with the states the convergence records
 * were computed from. At strength s a repeat's ICL state moves the anchor (mean + q·query) by v + σε and its IT state
 * by s·0.8·v + (1 − min(|s|, 1))·w + σε′ (w independent of v; q = 0 for 'null-fails', else 1); the margins of
 * outputs, attention and the patching cross curve grow with s likewise (≈ 0 at s = 0). A 'uniform' condition's
 * states are one shared vector plus tiny noise, its attention cosines ≈ 1, its KLs ≈ 0, its cross curve noise.
 */
export function syntheticControlsRun(opts: SyntheticControlsOptions): SyntheticRun {
  const rand = seededRandom(opts.seed ?? 5);
  const normal = standardNormal(rand);
  const noise = (s: number) => (rand() - 0.5) * 2 * s;
  const dims = opts.dims ?? 32;
  const repeats = opts.repeats ?? 12;
  const controls = opts.controls ?? ['untrained', 'random-adapter', 'shuffled-labels'];
  const q = opts.pattern === 'null-fails' ? 0 : 1;
  const vec = (scale: number, offset = 0) => Float64Array.from({ length: dims }, () => offset + scale * normal());
  const mean = vec(0.5, 0.3);
  const flat = vec(1, 3); // the untrained model's shared state
  const states = new Map<RepeatRecord, SituationStates>();
  const out: RepeatRecord[] = [];
  const sigmoid = (l: number) => 1 / (1 + Math.exp(-(l - 3.5)));
  for (let repeat = 0; repeat < repeats; repeat++) {
    const query = vec(1);
    for (const control of [null, ...controls]) {
      const strength = strengthOf(opts.pattern, control);
      const uniform = strength === 'uniform';
      const s = uniform ? 0 : strength;
      const extra: RepeatRecord['extra'] = { labels: 'right', shots: 1, ...(control ? { control } : {}) };
      const condition = control ? `control:${control}` : 'right-labels';
      // convergence: states and every measure computed from them or drawn around the strength
      const v = vec(1);
      const w = vec(1);
      const anchor = uniform ? Float64Array.from(flat, (f) => f + 0.01 * normal()) : Float64Array.from(mean, (m, d) => m + q * query[d]);
      const icl = uniform ? Float32Array.from(flat, (f) => f + 0.01 * normal()) : Float32Array.from(anchor, (a, d) => a + v[d] + 0.4 * normal());
      const it = uniform
        ? Float32Array.from(flat, (f) => f + 0.01 * normal())
        : Float32Array.from(anchor, (a, d) => a + s * 0.8 * v[d] + (1 - Math.min(Math.abs(s), 1)) * w[d] + 0.4 * normal());
      const st: SituationStates = { layers: [LAYER], anchor: [Float32Array.from(anchor)], icl: [icl], it: [it] };
      const klIclAnchor = uniform ? 0.001 * (1 + noise(0.5)) : 1 + noise(0.2);
      const near1 = () => 0.999 + noise(0.0005);
      const more: Partial<RepeatRecord> = opts.statesOnly
        ? {}
        : {
            outputs: {
              klIclIt: uniform ? 0.001 * (1 + noise(0.5)) : klIclAnchor * (1 - 0.8 * s) + noise(0.05),
              jsIclIt: uniform ? 0.0002 : 0.02 + 0.2 * (1 - Math.min(Math.max(s, 0), 1)) + noise(0.01),
              klIclAnchor,
              klItAnchor: uniform ? 0.001 : 0.9 + noise(0.2),
              top1IclIt: rand() < 0.3 + 0.6 * Math.min(Math.max(s, 0), 1),
              top1AnchorIcl: rand() < 0.5,
              top1AnchorIt: rand() < 0.5,
            },
            attention: uniform
              ? { anchorIcl: [near1()], anchorIt: [near1()], iclIt: [near1()], change: [noise(0.1)], demoShare: [0.5 + noise(0.05)] }
              : { anchorIcl: [0.6 + noise(0.05)], anchorIt: [0.62 + noise(0.05)], iclIt: [0.62 + 0.3 * s + noise(0.05)], change: [0.5 * s + noise(0.1)], demoShare: [0.4 + noise(0.1)] },
          };
      const r = makeRecord({
        experiment: 'convergence', condition, repeat, layers: [LAYER], extra,
        simAnchorIcl: [cosine(st.anchor[0], icl)], simAnchorIt: [cosine(st.anchor[0], it)], simIclIt: [cosine(icl, it)], simUpdate: [updateCosine(st.anchor[0], icl, it)],
        ...more,
      });
      states.set(r, st);
      out.push(r);
      if (opts.statesOnly) continue;
      // patching: each gap closed rises over the patch points, to a height set by the strength; the cross curves carry the margin
      const curve = (scale: number, sd = 0.03) => PATCH_POINTS.map((l) => scale * sigmoid(l) + noise(sd));
      const cross = () => (uniform ? curve(0, 0.1) : curve(0.6 * s));
      const patching = { layers: PATCH_POINTS, icl: curve(uniform ? 0.3 : 0.3 + 0.6 * s), it: curve(0.9), iclToIt: cross(), itToIcl: cross() };
      out.push(makeRecord({ experiment: 'patching', condition: control ? condition : 'default', repeat, layers: [LAYER], extra, patching }));
    }
  }
  return { records: out, states: (r) => states.get(r) };
}
