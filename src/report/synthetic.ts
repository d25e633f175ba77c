// Synthetic RepeatRecords for every preset (seeded, plausible values) so tests and demos can build a full report without a model.
import type { RepeatRecord } from '../experiments/record.js';

/** mulberry32: a small seeded PRNG, enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  model?: string;
  seed?: number;
  repeats?: number;
  /** Hidden-state count for the 'layers' preset (indices 0..nLayers). */
  nLayers?: number;
  /** Presets to generate; all by default. */
  experiments?: string[];
}

export const ALL_PRESETS = ['convergence', 'wrong-label', 'cross-task', 'demo-similarity', 'shots', 'layers', 'sl', 'translation', 'accuracy', 'token-loss'];

/** One record with the given similarities (last-layer only unless `layers` is given). */
export function makeRecord(p: Partial<RepeatRecord> & { experiment: string; condition: string; repeat: number }): RepeatRecord {
  const layers = p.layers ?? [16];
  return {
    seed: 1000 + p.repeat,
    model: 'tiny-llama',
    simAnchorIcl: layers.map(() => 0.5),
    simAnchorIt: layers.map(() => 0.6),
    simIclIt: layers.map(() => 0.8),
    simUpdate: layers.map(() => 0.7),
    prompts: { anchor: 'Review: fine. Sentiment:', icl: 'Review: good. Sentiment: positive\nReview: fine. Sentiment:', tuning: ['Review: good. Sentiment: positive'] },
    tokenCounts: { anchor: 6, icl: 14, tuning: [8] },
    millis: 10,
    extra: {},
    configHash: 'c0ffee',
    ...p,
    layers,
  };
}

/** Records for every preset (condition names and extra keys as src/experiments writes them) with the study's qualitative shape: s(ICL,IT) above both anchor similarities. */
export function syntheticRecords(opts: SyntheticOptions = {}): RepeatRecord[] {
  const model = opts.model ?? 'tiny-llama';
  const rand = seededRandom(opts.seed ?? 1);
  const repeats = opts.repeats ?? 30;
  const nLayers = opts.nLayers ?? 16;
  const want = new Set(opts.experiments ?? ALL_PRESETS);
  const noise = (s: number) => (rand() - 0.5) * 2 * s;
  const clamp = (v: number) => Math.max(-1, Math.min(1, v));
  const out: RepeatRecord[] = [];
  const sims = (base: number) => ({
    simAnchorIcl: [clamp(base - 0.25 + noise(0.08))],
    simAnchorIt: [clamp(base - 0.15 + noise(0.08))],
    simIclIt: [clamp(base + noise(0.06))],
  });
  const add = (experiment: string, condition: string, repeat: number, extra: RepeatRecord['extra'], more: Partial<RepeatRecord> = {}) =>
    out.push(makeRecord({ experiment, condition, repeat, model, seed: 1000 + repeat, layers: [nLayers], ...sims(0.8), extra, tuneLoss: 0.3 + noise(0.1), ...more }));
  for (let rep = 0; rep < repeats; rep++) {
    if (want.has('convergence')) add('convergence', 'right-labels', rep, { labels: 'right' });
    if (want.has('wrong-label')) {
      add('wrong-label', 'right-labels', rep, { labels: 'right' });
      add('wrong-label', 'flipped-labels', rep, { labels: 'flipped' }, sims(0.7));
    }
    if (want.has('cross-task')) {
      add('cross-task', 'same-task', rep, {});
      add('cross-task', 'translation-demos', rep, { demoTask: 'translation' }, sims(0.7));
    }
    if (want.has('demo-similarity'))
      for (let b = 0; b < 10; b++) add('demo-similarity', `bin=${b}`, rep, { bin: b, similarity: 0.1 * b + 0.05 }, sims(0.6 + 0.03 * b));
    if (want.has('shots'))
      for (const k of [1, 2, 5, 10]) add('shots', `k=${k}`, rep, { shots: k, epochs: 10 }, sims(0.65 + 0.03 * Math.log2(k)));
    if (want.has('layers')) {
      const layers = Array.from({ length: nLayers + 1 }, (_, i) => i);
      const f = (base: number, i: number) => clamp(1 - (1 - base) * (i / nLayers) + noise(0.05));
      add('layers', 'all-layers', rep, {}, {
        layers,
        simAnchorIcl: layers.map((i) => f(0.55, i)),
        simAnchorIt: layers.map((i) => f(0.65, i)),
        simIclIt: layers.map((i) => f(0.8, i)),
      });
    }
    if (want.has('sl')) {
      add('sl', 'it', rep, { withInstruction: true });
      add('sl', 'sl', rep, { withInstruction: false }, sims(0.75));
    }
    if (want.has('translation')) add('translation', 'translation', rep, {});
    if (want.has('accuracy'))
      for (const labels of ['right', 'flipped']) {
        const p = labels === 'right' ? 0.85 : 0.55;
        add('accuracy', `${labels}-labels`, rep, { labels }, {
          accuracy: { zeroShot: rand() < 0.6 ? 1 : 0, icl: rand() < p ? 1 : 0, it: rand() < p + 0.05 ? 1 : 0, n: 1 },
        });
      }
    if (want.has('token-loss')) add('token-loss', 'right-labels', rep, { labels: 'right' }, { lossDecrease: { instruction: 0.05 + noise(0.05), example: 0.4 + noise(0.15) } });
  }
  return out;
}
