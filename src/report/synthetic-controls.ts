// Synthetic runs with control conditions: a real condition and the three controls, every per-record measure (states, outputs, attention, patching) built from one "agreement strength" per condition.
import type { RepeatRecord } from '../experiments/record.js';
import type { SituationStates } from '../experiments/backend.js';
import { cosine, updateCosine } from '../stats/index.js';
import { seededRandom } from '../util/random.js';
import { makeRecord, type SyntheticRun } from './synthetic.js';

export interface SyntheticControlsOptions {
  /**
   * 'beyond-controls': every control agrees less (strength 0.2 against the real condition's 1), so ICL ≈ IT beyond
   * every control; 'untrained-matches': the untrained control agrees as much as the real condition (strength 1.05,
   * Deutch et al.'s finding), the other controls less.
   */
  pattern: 'beyond-controls' | 'untrained-matches';
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

/**
 * Records of the 'convergence' preset (condition 'right-labels' and `control:<name>` per control, extra.control set)
 * and of 'patching' (its own 'default' condition and the same controls), with the states the convergence records
 * were computed from. At strength s a repeat's ICL state moves the anchor by v + σε and its IT state by
 * s·0.8·v + (1 − min(s, 1))·w + σε′ (w independent of v); outputs, attention and patching move with s likewise.
 */
export function syntheticControlsRun(opts: SyntheticControlsOptions): SyntheticRun {
  const rand = seededRandom(opts.seed ?? 5);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const noise = (s: number) => (rand() - 0.5) * 2 * s;
  const dims = opts.dims ?? 32;
  const repeats = opts.repeats ?? 12;
  const controls = opts.controls ?? ['untrained', 'random-adapter', 'shuffled-labels'];
  const strengthOf = (control: string | null): number => (control === null ? 1 : control === 'untrained' && opts.pattern === 'untrained-matches' ? 1.05 : 0.2);
  const vec = (scale: number, offset = 0) => Float64Array.from({ length: dims }, () => offset + scale * normal());
  const mean = vec(0.5, 0.3);
  const states = new Map<RepeatRecord, SituationStates>();
  const out: RepeatRecord[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const query = vec(1);
    for (const control of [null, ...controls]) {
      const s = strengthOf(control);
      const extra: RepeatRecord['extra'] = { labels: 'right', shots: 1, ...(control ? { control } : {}) };
      const condition = control ? `control:${control}` : 'right-labels';
      // convergence: states and every measure computed from them or drawn around the strength
      const anchor = Float64Array.from(mean, (m, d) => m + query[d]);
      const v = vec(1);
      const w = vec(1);
      const icl = Float32Array.from(anchor, (a, d) => a + v[d] + 0.4 * normal());
      const it = Float32Array.from(anchor, (a, d) => a + s * 0.8 * v[d] + (1 - Math.min(s, 1)) * w[d] + 0.4 * normal());
      const st: SituationStates = { layers: [LAYER], anchor: [Float32Array.from(anchor)], icl: [icl], it: [it] };
      const klIclAnchor = 1 + noise(0.2);
      const more: Partial<RepeatRecord> = opts.statesOnly
        ? {}
        : {
            outputs: {
              klIclIt: klIclAnchor * (1.05 - 0.9 * Math.min(s, 1.02)) + noise(0.02) + 0.03,
              jsIclIt: 0.02 + 0.2 * (1 - Math.min(s, 1)) + noise(0.01),
              klIclAnchor,
              klItAnchor: 0.9 + noise(0.2),
              top1IclIt: rand() < 0.3 + 0.6 * Math.min(s, 1),
              top1AnchorIcl: rand() < 0.5,
              top1AnchorIt: rand() < 0.5,
            },
            attention: { anchorIcl: [0.6 + noise(0.05)], anchorIt: [0.62 + noise(0.05)], iclIt: [0.6 + 0.3 * s + noise(0.05)], change: [0.5 * s + noise(0.1)], demoShare: [0.4 + noise(0.1)] },
          };
      const r = makeRecord({
        experiment: 'convergence', condition, repeat, layers: [LAYER], extra,
        simAnchorIcl: [cosine(st.anchor[0], icl)], simAnchorIt: [cosine(st.anchor[0], it)], simIclIt: [cosine(icl, it)], simUpdate: [updateCosine(st.anchor[0], icl, it)],
        ...more,
      });
      states.set(r, st);
      out.push(r);
      if (opts.statesOnly) continue;
      // patching: the gap closed rises over the patch points, to a height set by the strength
      const curve = (scale: number) => PATCH_POINTS.map((l) => scale / (1 + Math.exp(-(l - 3.5))) + noise(0.03));
      out.push(makeRecord({ experiment: 'patching', condition: control ? condition : 'default', repeat, layers: [LAYER], extra, patching: { layers: PATCH_POINTS, icl: curve(0.3 + 0.6 * s), it: curve(0.9) } }));
    }
  }
  return { records: out, states: (r) => states.get(r) };
}
