// Synthetic runs for every preset: seeded hidden states with the study's structure, and records computed from them as the runner does.
import type { RepeatRecord } from '../experiments/record.js';
import { PRESET_NAMES } from '../experiments/conditions.js';
import type { SituationStates } from '../experiments/backend.js';
import type { StatesOf } from '../results/robustness.js';
import { cosine, updateCosine } from '../stats/index.js';
import { seededRandom, standardNormal } from '../util/random.js';

export interface SyntheticOptions {
  model?: string;
  seed?: number;
  repeats?: number;
  /** Hidden-state count for the 'layers' preset (indices 0..nLayers); other presets measure nLayers only. */
  nLayers?: number;
  /** Presets to generate; all (PRESET_NAMES) by default. */
  experiments?: string[];
  /** Hidden size of the states. Default 32. */
  dims?: number;
}

export interface SyntheticRun {
  records: RepeatRecord[];
  /** The states every record was computed from. */
  states: StatesOf;
}

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
    configHash: 'feed'.padEnd(64, '0'),
    ...p,
    layers,
  };
}


/**
 * Records for every preset (condition names and extra keys as src/experiments writes them) computed from states
 * built as h = μ_layer + q_repeat (anchor) plus depth · (v + σ·ε) for ICL and depth · (0.8·v + σ·ε′) for IT: a shared
 * mean (anisotropy), the repeat's query, the record's demonstration direction v and noise σ that the condition sets
 * (flipped labels, other-task demos, fewer shots, less similar demos and SL all add noise, so s(ICL,IT) falls). The
 * 'layers' preset also carries a massive dimension (index 3, 400 at hidden states 2 … nLayers/2).
 */
export function syntheticRun(opts: SyntheticOptions = {}): SyntheticRun {
  const model = opts.model ?? 'tiny-llama';
  const rand = seededRandom(opts.seed ?? 1);
  const normal = standardNormal(rand);
  const repeats = opts.repeats ?? 30;
  const nLayers = opts.nLayers ?? 16;
  const dims = opts.dims ?? 32;
  const want = new Set(opts.experiments ?? PRESET_NAMES);
  const noise = (s: number) => (rand() - 0.5) * 2 * s;
  const vec = (scale: number, offset = 0) => Float64Array.from({ length: dims }, () => offset + scale * normal());
  const means = new Map<number, Float64Array>();
  const meanAt = (layer: number) => means.get(layer) ?? means.set(layer, vec(0.8, 0.5)).get(layer)!;
  const queries = new Map<string, Float64Array>();
  const queryOf = (experiment: string, repeat: number, layer: number) => {
    const k = `${experiment}/${repeat}/${layer}`;
    return queries.get(k) ?? queries.set(k, vec(1)).get(k)!;
  };
  const states = new Map<RepeatRecord, SituationStates>();
  const out: RepeatRecord[] = [];
  const add = (experiment: string, condition: string, repeat: number, sigma: number, extra: RepeatRecord['extra'], more: Partial<RepeatRecord> = {}, allLayers = false) => {
    const layers = allLayers ? Array.from({ length: nLayers + 1 }, (_, i) => i) : [nLayers];
    const s: SituationStates = { layers, anchor: [], icl: [], it: [] };
    for (const layer of layers) {
      const depth = layer / nLayers;
      const anchor = Float64Array.from(meanAt(layer), (m, d) => m + queryOf(experiment, repeat, layer)[d]);
      if (allLayers && layer >= 2 && layer <= nLayers / 2) anchor[3] += 400;
      const v = vec(1);
      s.anchor.push(Float32Array.from(anchor));
      s.icl.push(Float32Array.from(anchor, (a, d) => a + depth * (v[d] + sigma * normal())));
      s.it.push(Float32Array.from(anchor, (a, d) => a + depth * (0.8 * v[d] + sigma * normal())));
    }
    const at = (f: (i: number) => number) => layers.map((_, i) => f(i));
    const r: RepeatRecord = makeRecord({
      experiment,
      condition,
      repeat,
      model,
      seed: 1000 + repeat,
      layers,
      simAnchorIcl: at((i) => cosine(s.anchor[i], s.icl[i])),
      simAnchorIt: at((i) => cosine(s.anchor[i], s.it[i])),
      simIclIt: at((i) => cosine(s.icl[i], s.it[i])),
      simUpdate: at((i) => updateCosine(s.anchor[i], s.icl[i], s.it[i])),
      extra,
      tuneLoss: 0.3 + noise(0.1),
      ...more,
    });
    states.set(r, s);
    out.push(r);
  };
  const accuracy = (p: number) => {
    const frac = (q: number) => Math.round(100 * Math.max(0, Math.min(1, q + noise(0.08)))) / 100;
    return { zeroShot: frac(0.6), icl: frac(p), it: frac(p + 0.05), n: 100 };
  };
  for (let rep = 0; rep < repeats; rep++) {
    if (want.has('convergence')) add('convergence', 'right-labels', rep, 0.5, { labels: 'right' });
    if (want.has('wrong-label')) {
      add('wrong-label', 'right-labels', rep, 0.5, { labels: 'right' });
      add('wrong-label', 'flipped-labels', rep, 0.5 + 0.8 * rand(), { labels: 'wrong' });
    }
    if (want.has('cross-task')) {
      add('cross-task', 'same-task', rep, 0.5, { demoTask: 'sentiment' });
      add('cross-task', 'translation-demos', rep, 0.9, { demoTask: 'translation' });
    }
    if (want.has('demo-similarity'))
      for (let b = 0; b < 10; b++) add('demo-similarity', `bin=${b}`, rep, 1.2 - 0.08 * b, { bin: b, demoCosine: 0.1 * b + 0.05 + noise(0.04) });
    if (want.has('shots'))
      for (const [k, epochs] of [[1, 10], [2, 5], [5, 2], [10, 1]]) add('shots', `k=${k}`, rep, 0.9 - 0.12 * Math.log2(k), { shots: k, epochs });
    if (want.has('layers')) add('layers', 'all-layers', rep, 0.5, {}, {}, true);
    if (want.has('sl')) {
      add('sl', 'it', rep, 0.5, { withInstruction: true });
      add('sl', 'sl', rep, 0.8, { withInstruction: false });
    }
    if (want.has('translation')) add('translation', 'translation', rep, 0.55, {});
    if (want.has('accuracy'))
      for (const labels of ['right', 'wrong']) add('accuracy', `${labels}-labels`, rep, labels === 'right' ? 0.5 : 1, { labels }, { accuracy: accuracy(labels === 'right' ? 0.85 : 0.55) });
    if (want.has('token-loss')) add('token-loss', 'right-labels', rep, 0.5, { labels: 'right' }, { lossDecrease: { instruction: 0.05 + noise(0.05), example: 0.4 + noise(0.15) } });
  }
  return { records: out, states: (r) => states.get(r) };
}

/** The records of syntheticRun (without their states). */
export function syntheticRecords(opts: SyntheticOptions = {}): RepeatRecord[] {
  return syntheticRun(opts).records;
}
