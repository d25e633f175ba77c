// Synthetic records with the paper's pattern (or its opposite) for every claim: what the Findings must call replicates (or does-not-replicate).
import type { RepeatRecord } from '../experiments/record.js';
import { seededRandom } from '../util/random.js';
import { makeRecord } from './synthetic.js';

export interface PatternOptions {
  /** 'paper': the paper's figures; 'opposite': every claim reversed. */
  pattern: 'paper' | 'opposite';
  repeats?: number;
  /** Model labels; a second one plays the paper's LLaMA-2-13B (Fig. 8a). Default one model. */
  models?: string[];
  seed?: number;
  /** Hidden states of the layers preset are 0..nLayers (the others measure nLayers only). Default 32. */
  nLayers?: number;
}

/**
 * Records as the runner writes them (condition names, typed extra fields) with similarities drawn around the
 * paper's numbers: anchors ≈ 0.05 and s(ICL,IT) ≈ 0.9 (Fig. 3a); wrong labels a little lower and more spread but
 * high (3b); cross-task all three high (3c); over 10 similarity bins s(anchor,IT) falling, s(anchor,ICL) flat and
 * s(ICL,IT) rising 0.4 → 0.8 (4a–c); s(ICL,IT) rising with k (5); a small IT accuracy drop that is not significant (6); a U over layers
 * (7); the second model with all three high (8a); SL below IT (8b); translation s(ICL,IT) high above both anchors
 * (8c, footnote 6); example tokens' loss falling more (10). 'opposite' reverses each.
 */
export function patternRecords(opts: PatternOptions): RepeatRecord[] {
  const rand = seededRandom(opts.seed ?? 7);
  const u = (s: number) => (rand() - 0.5) * 2 * s;
  const paper = opts.pattern === 'paper';
  const repeats = opts.repeats ?? 30;
  const nLayers = opts.nLayers ?? 32;
  const models = opts.models ?? ['llama-7b'];
  const out: RepeatRecord[] = [];
  const add = (model: string, experiment: string, condition: string, repeat: number, sims: [number, number, number], extra: RepeatRecord['extra'], more: Partial<RepeatRecord> = {}) => {
    out.push(makeRecord({ experiment, condition, repeat, model, layers: [nLayers], simAnchorIcl: [sims[0]], simAnchorIt: [sims[1]], simIclIt: [sims[2]], simUpdate: [sims[2] - 0.1], extra, ...more }));
  };
  const right = { labels: 'right', demoTask: 'sentiment', withInstruction: true };
  for (const [mi, model] of models.entries()) {
    const larger = mi > 0;
    for (let r = 0; r < repeats; r++) {
      // Fig. 3a / 8a
      const conv: [number, number, number] = larger
        ? paper ? [0.9 + u(0.03), 0.9 + u(0.03), 0.92 + u(0.03)] : [0.2 + u(0.05), 0.2 + u(0.05), 0.25 + u(0.05)]
        : paper ? [0.05 + u(0.03), 0.05 + u(0.03), 0.9 + u(0.03)] : [0.9 + u(0.03), 0.9 + u(0.03), 0.3 + u(0.05)];
      add(model, 'convergence', 'right-labels', r, conv, right);
      // Fig. 3b
      add(model, 'wrong-label', 'right-labels', r, [0.05, 0.05, paper ? 0.9 + u(0.01) : 0.5 + u(0.1)], right);
      add(model, 'wrong-label', 'wrong-labels', r, [0.05, 0.05, paper ? 0.84 + u(0.05) : 0.6 + u(0.01)], { ...right, labels: 'wrong' });
      // Fig. 3c
      add(model, 'cross-task', 'same-task', r, [0.05 + u(0.03), 0.05 + u(0.03), 0.9 + u(0.03)], right);
      add(model, 'cross-task', 'translation-demos', r, paper ? [0.92 + u(0.02), 0.92 + u(0.02), 0.93 + u(0.02)] : [0.2 + u(0.05), 0.2 + u(0.05), 0.2 + u(0.05)], { ...right, demoTask: 'translation' });
      // Fig. 4a–c: 10 equal-width bins, the last holding the inference example itself
      for (let b = 0; b < 10; b++) {
        const sims: [number, number, number] = paper ? [0.05 + u(0.02), 0.6 - 0.05 * b + u(0.02), 0.4 + 0.045 * b + u(0.02)] : [0.05 + 0.06 * b + u(0.02), 0.2 + 0.05 * b + u(0.02), 0.8 - 0.045 * b + u(0.02)];
        add(model, 'demo-similarity', `bin=${b}`, r, sims, { ...right, bin: b, binLo: b / 10, binHi: (b + 1) / 10 });
      }
      // Fig. 5
      for (const [k, epochs] of [[1, 10], [2, 5], [5, 2], [10, 1]]) {
        const s = paper ? 0.7 + 0.05 * Math.log2(k) : 0.9 - 0.05 * Math.log2(k);
        add(model, 'shots', `k=${k}`, r, [0.05, 0.05, s + u(0.02)], { ...right, shots: k, epochs });
      }
      // Fig. 7: hidden states 0..nLayers
      const layers = Array.from({ length: nLayers + 1 }, (_, i) => i);
      const curve = layers.map((l) => (l === 0 ? 1 : paper ? 0.95 - 0.8 * Math.sin((Math.PI * l) / nLayers) : 0.1 + (0.8 * l) / nLayers) + u(0.02));
      out.push(makeRecord({ experiment: 'layers', condition: 'all-layers', repeat: r, model, layers, simAnchorIcl: layers.map((l) => 1 - l / (nLayers + 1)), simAnchorIt: layers.map((l) => 1 - l / (nLayers + 1)), simIclIt: curve, simUpdate: curve, extra: right }));
      // Fig. 8b
      add(model, 'sl', 'it', r, [0.05, 0.05, paper ? 0.9 + u(0.02) : 0.6 + u(0.02)], right);
      add(model, 'sl', 'sl', r, [0.05, 0.05, paper ? 0.6 + u(0.03) : 0.9 + u(0.02)], { ...right, withInstruction: false });
      // Fig. 8c, footnote 6
      add(model, 'translation', 'translation', r, paper ? [0.5 + u(0.05), 0.5 + u(0.05), 0.9 + u(0.02)] : [0.8 + u(0.03), 0.8 + u(0.03), 0.3 + u(0.05)], { demoTask: 'translation', withInstruction: true });
      // Fig. 6
      const itRight = 0.85 + u(0.02);
      const acc = (it: number) => ({ zeroShot: 0.6, icl: 0.8, it: Math.round(100 * it) / 100, n: 100 });
      add(model, 'accuracy', 'right-labels', r, [0.05, 0.05, 0.9], right, { accuracy: acc(itRight) });
      add(model, 'accuracy', 'wrong-labels', r, [0.05, 0.05, 0.85], { ...right, labels: 'wrong' }, { accuracy: acc(paper ? itRight - 0.005 + u(0.04) : itRight - 0.3 + u(0.02)) });
      // Fig. 10
      const loss = paper ? { instruction: 0.05 + u(0.05), example: 0.4 + u(0.05) } : { instruction: 0.4 + u(0.05), example: 0.05 + u(0.05) };
      add(model, 'token-loss', 'right-labels', r, [0.05, 0.05, 0.9], right, { lossDecrease: loss });
    }
  }
  return out;
}
