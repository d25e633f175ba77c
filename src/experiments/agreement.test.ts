// Output and attention agreement: a real run's record.outputs / record.attention against an independent float64 recomputation (naive LLaMA, LoRA merged), shared positions, Rec2FTP counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInstructionPool, loadDataset, SENTIMENT_LABEL_WORDS } from '../data/index.js';
import { loraScaling } from '../lora/index.js';
import { naiveLlamaForward } from '../test-support/naive-llama.js';
import { tempDir } from '../util/testing.js';
import { IclitError } from '../util/errors.js';
import { attentionAgreement, outputAgreement, sharedPositions } from './agreement.js';
import type { RecordSink, UnitResult } from './backend.js';
import { STUDY_DEFAULTS, findPreset, resolveConditions } from './conditions.js';
import { LlamaStudyBackend } from './llama-backend.js';
import { flipCounts } from './measures.js';
import { DEFAULT_METHODS } from './methods.js';
import { runPlan, type StudyPlan } from './runner.js';
import { writeTinyStudy } from './testing.js';

const root = tempDir(test, 'iclit-agreement-');

// ---------- independent float64 reference measures (plain loops, nothing from src/stats) ----------

function logProbs(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const z = Array.from(logits).reduce((s, v) => s + Math.exp(v - max), 0);
  return Array.from(logits, (v) => v - max - Math.log(z));
}
const kl = (p: number[], q: number[]): number => p.reduce((s, lp, i) => s + Math.exp(lp) * (lp - q[i]), 0);
function js(p: number[], q: number[]): number {
  let s = 0;
  p.forEach((lp, i) => {
    const m = 0.5 * (Math.exp(lp) + Math.exp(q[i]));
    s += 0.5 * Math.exp(lp) * (lp - Math.log(m)) + 0.5 * Math.exp(q[i]) * (q[i] - Math.log(m));
  });
  return s;
}
function cos(a: number[], b: number[]): number {
  const dot = a.reduce((s, v, i) => s + v * b[i], 0);
  return dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
}
/** The row divided by its sum (a distribution over the positions it covers). */
function sum1(row: number[]): number[] {
  const total = row.reduce((s, v) => s + v, 0);
  return row.map((v) => v / total);
}
/** Top token and its margin over the runner-up. */
function top(logits: ArrayLike<number>): { id: number; margin: number } {
  const order = Array.from(logits, (v, i) => [v, i]).sort((x, y) => y[0] - x[0]);
  return { id: order[0][1], margin: order[0][0] - order[1][0] };
}

test('sharedPositions on a known pair: common prefix X and suffix B, demonstrations between; never overlapping', () => {
  // anchor = X(1 2 3) + B(7 8), ICL = X + demonstrations(4 5 6) + B
  assert.deepEqual(sharedPositions([1, 2, 3, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]), { anchor: [0, 1, 2, 3, 4], icl: [0, 1, 2, 6, 7], demo: { start: 3, end: 6 } });
  // a boundary token that differs (B's first token merged with the demonstrations' end) is shared by neither
  assert.deepEqual(sharedPositions([1, 2, 9, 8], [1, 2, 4, 5, 3, 8]), { anchor: [0, 1, 3], icl: [0, 1, 5], demo: { start: 2, end: 5 } });
  // the anchor is all prefix: the suffix may not reuse its tokens (X = 1 2 1, demonstrations 2 1)
  assert.deepEqual(sharedPositions([1, 2, 1], [1, 2, 1, 2, 1]), { anchor: [0, 1, 2], icl: [0, 1, 2], demo: { start: 3, end: 5 } });
  // identical prompts: everything shared, an empty demonstration span
  assert.deepEqual(sharedPositions([5, 6], [5, 6]), { anchor: [0, 1], icl: [0, 1], demo: { start: 2, end: 2 } });
});

test('attention agreement on hand-made rows: shared positions gathered per head, change cosine of the renormalised rows, demonstration share; NaN at layer 0', () => {
  // one head; anchor 3 tokens [x, b1, b2], ICL 5 tokens [x, d, d, b1, b2]
  const anchor = Float32Array.of(0.2, 0.3, 0.5);
  const icl = Float32Array.of(0.1, 0.2, 0.2, 0.1, 0.4);
  const it = Float32Array.of(0.5, 0.25, 0.25);
  const out = attentionAgreement({ anchor: [null, anchor], icl: [null, icl], it: [null, it] }, { anchor: [1, 7, 8], icl: [1, 4, 5, 7, 8] });
  const a = [0.2, 0.3, 0.5];
  const i = [0.1, 0.1, 0.4];
  const t = [0.5, 0.25, 0.25];
  assert.ok(Number.isNaN(out.anchorIcl[0]) && Number.isNaN(out.demoShare[0]));
  const close = (x: number, y: number): void => assert.ok(Math.abs(x - y) < 1e-7, `${x} vs ${y}`);
  close(out.anchorIcl[1], cos(a, i));
  close(out.anchorIt[1], cos(a, t));
  close(out.iclIt[1], cos(i, t));
  // the change compares the rows renormalised over the shared positions: ICL's [0.1, 0.1, 0.4] sums to 0.6 (1 − demoShare)
  const n = sum1(i);
  close(n[0], 1 / 6);
  close(n[2], 2 / 3);
  const change = cos(n.map((v, j) => v - sum1(a)[j]), sum1(t).map((v, j) => v - sum1(a)[j]));
  close(out.change[1], change);
  const raw = cos(i.map((v, j) => v - a[j]), t.map((v, j) => v - a[j]));
  assert.ok(Math.abs(change - raw) > 0.05, `renormalising matters here (${change} vs ${raw})`);
  close(out.demoShare[1], 0.4);
  // more weight on the demonstrations, the same shape over X and B: the plain cosines and the change stay, demoShare grows
  const moved = attentionAgreement({ anchor: [anchor], icl: [Float32Array.of(0.05, 0.35, 0.35, 0.05, 0.2)], it: [it] }, { anchor: [1, 7, 8], icl: [1, 4, 5, 7, 8] });
  close(moved.anchorIcl[0], out.anchorIcl[1]);
  close(moved.iclIt[0], out.iclIt[1]);
  close(moved.change[0], out.change[1]);
  close(moved.demoShare[0], 0.7);
  assert.throws(() => attentionAgreement({ anchor: [anchor], icl: [icl], it: [Float32Array.of(1, 0)] }, { anchor: [1, 7, 8], icl: [1, 4, 5, 7, 8] }), IclitError);
});

test('output agreement of known distributions: KL, JS, top-1 and label mass', () => {
  const p = [Math.log(0.7), Math.log(0.2), Math.log(0.1)];
  const q = [Math.log(0.1), Math.log(0.6), Math.log(0.3)];
  const r = [Math.log(0.6), Math.log(0.3), Math.log(0.1)];
  const o = outputAgreement({ anchor: r, icl: p, it: q }, { anchor: [1, 2], icl: [0, 1] });
  const close = (x: number, y: number): void => assert.ok(Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  close(o.klIclIt, 0.7 * Math.log(7) + 0.2 * Math.log(0.2 / 0.6) + 0.1 * Math.log(1 / 3));
  close(o.jsIclIt, js(p, q));
  close(o.klIclAnchor, kl(p, r));
  close(o.klItAnchor, kl(q, r));
  assert.deepEqual([o.top1IclIt, o.top1AnchorIcl, o.top1AnchorIt], [false, true, false]);
  close(o.labelMass!.anchor, 0.4);
  close(o.labelMass!.icl, 0.9);
  close(o.labelMass!.it, 0.9);
  assert.equal(outputAgreement({ anchor: r, icl: p, it: q }).labelMass, undefined);
});

test("Rec2FTP flip counts on a hand-made case: zero-shot errors fixed by IT, by ICL, by both", () => {
  // examples:    0      1      2      3      4
  const zs = [false, false, true, false, false];
  const icl = [true, false, true, true, false];
  const it = [true, true, false, false, false];
  // zero-shot wrong: 0, 1, 3, 4 — IT fixes 0, 1; ICL fixes 0, 3; both 0 (example 2, right zero-shot, does not count)
  assert.deepEqual(flipCounts(zs, icl, it), { it: 2, icl: 2, both: 1 });
  assert.deepEqual(flipCounts([true, true], [true, false], [false, true]), { it: 0, icl: 0, both: 0 });
  assert.throws(() => flipCounts([true], [true, false], [true]), IclitError);
});

test('a real run: record.outputs and record.attention equal a float64 recomputation from the naive LLaMA (anchor, ICL, IT through the merged adapter) within 1e-4', async () => {
  const tiny = writeTinyStudy(root);
  const backend = await LlamaStudyBackend.load(tiny.model);
  try {
    const p = findPreset('convergence');
    const plan: StudyPlan = {
      experiment: p.name,
      conditions: resolveConditions(p, { shots: 2, epochs: 2 }),
      repeats: 2,
      seed: 3,
      layers: 'all',
      // a large rate so the adapter moves the output visibly in two epochs
      tune: { lr: 3e-2, lrSchedule: 'constant', weightDecay: 0, lora: { ...STUDY_DEFAULTS.lora, targets: [...STUDY_DEFAULTS.lora.targets], r: 4, alpha: 16, dropout: 0 } },
      batch: 2,
      materials: { data: await loadDataset(tiny.sst2, 'sentiment'), instructions: defaultInstructionPool('sentiment') },
      methods: DEFAULT_METHODS,
      evalExamples: 4,
      configHash: 'ef'.repeat(32),
      save: { states: false, adapters: true },
    };
    const results: UnitResult[] = [];
    const sink: RecordSink = { isDone: () => false, save: (rs) => void results.push(...rs) };
    runPlan(plan, backend, sink);
    assert.equal(results.length, 2);
    const tol = 1e-4;
    const close = (x: number, y: number, what: string): void => assert.ok(Math.abs(x - y) < tol, `${what}: ${x} vs ${y}`);
    for (const { record: r, adapter } of results) {
      const ids = { anchor: backend.encode(r.prompts.anchor), icl: backend.encode(r.prompts.icl) };
      const lora = { scaling: loraScaling(adapter!.config), tensors: adapter!.tensors };
      const runs = { anchor: naiveLlamaForward(tiny.model, ids.anchor), icl: naiveLlamaForward(tiny.model, ids.icl), it: naiveLlamaForward(tiny.model, ids.anchor, { adapter: lora }) };
      const V = runs.anchor.config.vocabSize;
      const last = (x: { logits: Float64Array }, T: number): Float64Array => x.logits.subarray((T - 1) * V, T * V);
      const logits = { anchor: last(runs.anchor, ids.anchor.length), icl: last(runs.icl, ids.icl.length), it: last(runs.it, ids.anchor.length) };
      const [a, i, t] = [logProbs(logits.anchor), logProbs(logits.icl), logProbs(logits.it)];
      const o = r.outputs!;
      close(o.klIclIt, kl(i, t), 'KL(ICL‖IT)');
      close(o.jsIclIt, js(i, t), 'JS');
      close(o.klIclAnchor, kl(i, a), 'KL(ICL‖anchor)');
      close(o.klItAnchor, kl(t, a), 'KL(IT‖anchor)');
      assert.ok(kl(t, a) > 1e-3, `the adapter moved the output (KL ${kl(t, a)}), so the IT read is tested`);
      const [ta, ti, tt] = [top(logits.anchor), top(logits.icl), top(logits.it)];
      const decided = (x: { margin: number }, y: { margin: number }): boolean => x.margin > 1e-4 && y.margin > 1e-4;
      if (decided(ti, tt)) assert.equal(o.top1IclIt, ti.id === tt.id);
      if (decided(ta, ti)) assert.equal(o.top1AnchorIcl, ta.id === ti.id);
      if (decided(ta, tt)) assert.equal(o.top1AnchorIt, ta.id === tt.id);
      // label words' first tokens: the token after each prompt's own ids in "prompt Word"
      const firstToken = (text: string, promptIds: number[], word: string): number => {
        const full = backend.encode(`${text} ${word}`);
        assert.deepEqual(full.slice(0, promptIds.length), promptIds);
        return full[promptIds.length];
      };
      const mass = (lp: number[], text: string, promptIds: number[]): number => [...new Set(SENTIMENT_LABEL_WORDS.map((w) => firstToken(text, promptIds, w)))].reduce((s, id) => s + Math.exp(lp[id]), 0);
      close(o.labelMass!.anchor, mass(a, r.prompts.anchor, ids.anchor), 'label mass anchor');
      close(o.labelMass!.icl, mass(i, r.prompts.icl, ids.icl), 'label mass ICL');
      close(o.labelMass!.it, mass(t, r.prompts.anchor, ids.anchor), 'label mass IT');
      // attention: positions shared by X + B and X + A + B (common prefix, then common suffix not overlapping it)
      let prefix = 0;
      while (ids.anchor[prefix] === ids.icl[prefix]) prefix++;
      let suffix = 0;
      while (prefix + suffix < ids.anchor.length && ids.anchor.at(-1 - suffix) === ids.icl.at(-1 - suffix)) suffix++;
      assert.ok(prefix > 0 && suffix > 0 && ids.icl.length - suffix > prefix, 'X and B are both shared, demonstrations between');
      const La = ids.anchor.length;
      const Li = ids.icl.length;
      const posA = [...Array(La).keys()].filter((x) => x < prefix || x >= La - suffix);
      const posI = [...Array(Li).keys()].filter((x) => x < prefix || x >= Li - suffix);
      const H = runs.anchor.config.numHeads;
      assert.deepEqual(r.layers, [0, 1, 2]);
      const att = r.attention!;
      for (const k of ['anchorIcl', 'anchorIt', 'iclIt', 'change', 'demoShare'] as const) assert.ok(Number.isNaN(att[k][0]), `${k} NaN at the embeddings`);
      for (const l of [1, 2]) {
        const row = (x: { lastAttention: Float64Array[] }, T: number, h: number, pos: number[]): number[] => pos.map((s) => x.lastAttention[l - 1][h * T + s]);
        const mean = (f: (h: number) => number): number => [...Array(H).keys()].reduce((s, h) => s + f(h), 0) / H;
        const A = (h: number) => row(runs.anchor, La, h, posA);
        const I = (h: number) => row(runs.icl, Li, h, posI);
        const T = (h: number) => row(runs.it, La, h, posA);
        close(att.anchorIcl[l], mean((h) => cos(A(h), I(h))), `s_att(anchor, ICL) layer ${l}`);
        close(att.anchorIt[l], mean((h) => cos(A(h), T(h))), `s_att(anchor, IT) layer ${l}`);
        close(att.iclIt[l], mean((h) => cos(I(h), T(h))), `s_att(ICL, IT) layer ${l}`);
        const d = (x: number[], y: number[]): number[] => x.map((v, j) => v - y[j]);
        // each head's shared-position row renormalised to sum 1 first (ICL's sums to 1 − its demonstration share)
        close(att.change[l], mean((h) => cos(d(sum1(I(h)), sum1(A(h))), d(sum1(T(h)), sum1(A(h))))), `attention change layer ${l}`);
        const demo = [...Array(Li).keys()].filter((x) => x >= prefix && x < Li - suffix);
        close(att.demoShare[l], mean((h) => row(runs.icl, Li, h, demo).reduce((s, v) => s + v, 0)), `demonstration share layer ${l}`);
        assert.ok(att.demoShare[l] > 0 && att.demoShare[l] < 1);
      }
    }
  } finally {
    backend.dispose();
  }
});
