// Causal patching through the runner's own function: known answers (a run patched with its own states), a float64 reference, the preset end to end and its counted passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInstructionPool, loadDataset, type Dataset } from '../data/index.js';
import { gapClosed, jensenShannon, logSoftmax } from '../stats/index.js';
import { naiveLlamaForward } from '../test-support/naive-llama.js';
import { LORA_DEFAULTS } from '../lora/index.js';
import { assertClose, tempDir } from '../util/testing.js';
import type { RecordSink, UnitResult } from './backend.js';
import { findPreset, resolveConditions, type Condition } from './conditions.js';
import { LlamaStudyBackend } from './llama-backend.js';
import { DEFAULT_METHODS } from './methods.js';
import { gapClosedByPoint, patchPoints, patchingOf } from './patching.js';
import { runPlan, type StudyPlan } from './runner.js';
import { letterEmbedder, writeTinyStudy } from './testing.js';
import { planWork } from './work.js';

const root = tempDir(test, 'iclit-patching-');
const tiny = writeTinyStudy(root);
let backend: LlamaStudyBackend;
let sst2: Dataset;

test.before(async () => {
  backend = await LlamaStudyBackend.load(tiny.model);
  sst2 = await loadDataset(tiny.sst2, 'sentiment');
});
test.after(() => backend.dispose());

// anchor X + B and ICL X + A + label(A) + B prompts of two repeats
const X = 'Classify the sentiment.\n';
const B = ['Review: a dull mess , great fun 3 .\nSentiment:', 'Review: wonderful acting 8 .\nSentiment:'];
const A = ['Review: a delight 1 .\nSentiment: positive\n', 'Review: tedious , awful script 2 .\nSentiment: negative\n'];
const anchorIds = () => B.map((b) => backend.encode(X + b));
const iclIds = () => B.map((b, i) => backend.encode(X + A[i] + b));

test('through gapClosedByPoint: the ICL run patched with its own state at every layer reproduces the ICL output (closes 100% of the anchor→ICL gap); the anchor run patched with its own closes 0%', () => {
  const points = patchPoints(backend.numHiddenStates);
  assert.deepEqual(points, [0, 1], 'a 2-layer model: patch points 0..n−1');
  const anchor = anchorIds();
  const icl = iclIds();
  const anchorOut = backend.lastDistribution(anchor);
  const iclOut = backend.lastDistribution(icl);
  const iclStates = backend.hidden(icl, points);
  const anchorStates = backend.hidden(anchor, points);
  anchor.forEach((_, i) => assert.ok(jensenShannon(logSoftmax(anchorOut[i]), logSoftmax(iclOut[i])) > 1e-4, `repeat ${i}: a real anchor→ICL gap`));
  // the output itself: every patched row equals the unpatched ICL read (float32 reads of other batch shapes: 1e-5)
  const rows = icl.flatMap((p, i) => points.map((l) => ({ p, l, s: iclStates[i][l], want: iclOut[i] })));
  backend.patchedLastLogits(rows.map((r) => r.p), rows.map((r) => r.l), rows.map((r) => r.s)).forEach((got, j) => assertClose(got, rows[j].want, 1e-5, 0, `ICL self-patch row ${j}`));
  const curves = [
    ...icl.map((p, i) => ({ receiver: p, donor: iclStates[i], source: anchorOut[i], target: iclOut[i] })),
    ...anchor.map((p, i) => ({ receiver: p, donor: anchorStates[i], source: anchorOut[i], target: iclOut[i] })),
    ...anchor.map((p, i) => ({ receiver: p, donor: iclStates[i], source: anchorOut[i], target: iclOut[i] })),
  ];
  const closed = gapClosedByPoint(backend, points, curves);
  for (let i = 0; i < 2; i++) {
    for (const v of closed[i]) assert.ok(Math.abs(v - 1) < 1e-4, `ICL self-patch closes ${v}`);
    for (const v of closed[2 + i]) assert.ok(Math.abs(v) < 1e-4, `anchor self-patch closes ${v}`);
    // the real patch: nothing at the embeddings (B's last token is the same), part of the gap after block 0
    const cross = closed[4 + i];
    assert.ok(Math.abs(cross[0]) < 1e-4 && cross[1] > 0.05 && cross[1] < 0.9999, `anchor ← ICL states closes ${cross}`);
  }
});

test('patchingOf equals a float64 naive LLaMA (patched, and with the tuned adapter merged for the IT run) at every layer, within 1e-5 (float32 vs float64: about 4e-7 seen)', () => {
  const anchor = anchorIds();
  const icl = iclIds();
  const layers = [0, 1, 2];
  const tuned = backend.tune({
    texts: A.map((a) => [{ ids: backend.encode(X + a) }]),
    seeds: [3, 4],
    shuffleSeed: 1,
    settings: { epochs: 3, lr: 3e-2, lrSchedule: 'constant', weightDecay: 0, lora: { ...LORA_DEFAULTS, r: 4, alpha: 16, dropout: 0 } },
  });
  try {
    const a = backend.hidden(anchor, layers);
    const i = backend.hidden(icl, layers);
    const t = tuned.hidden(anchor, layers);
    const got = patchingOf(backend, tuned, anchor.map((p, n) => ({ anchor: p, icl: icl[n], states: { layers, anchor: a[n], icl: i[n], it: t[n] }, adapter: n })));
    for (let n = 0; n < 2; n++) {
      assert.deepEqual(got[n].layers, [0, 1]);
      const w = tuned.weights(n);
      const adapter = { scaling: w.config.alpha / w.config.r, tensors: w.tensors };
      const last = (ids: number[], out: { hidden: Float64Array[]; logits: Float64Array; config: { hiddenSize: number; vocabSize: number } }) => ({
        state: (l: number) => out.hidden[l].slice((ids.length - 1) * out.config.hiddenSize, ids.length * out.config.hiddenSize),
        logits: out.logits.slice((ids.length - 1) * out.config.vocabSize, ids.length * out.config.vocabSize),
      });
      const base = last(anchor[n], naiveLlamaForward(tiny.model, anchor[n]));
      const iclRun = last(icl[n], naiveLlamaForward(tiny.model, icl[n]));
      const itRun = last(anchor[n], naiveLlamaForward(tiny.model, anchor[n], { adapter }));
      // the tuned adapter really moves the output, so the IT curve is not a NaN (no gap) curve
      assert.ok(jensenShannon(logSoftmax(base.logits), logSoftmax(itRun.logits)) > 1e-5);
      for (const [curve, donor] of [['icl', iclRun], ['it', itRun]] as const) {
        const want = [0, 1].map((l) => {
          const patched = last(anchor[n], naiveLlamaForward(tiny.model, anchor[n], { patch: { index: l, state: donor.state(l) } }));
          return gapClosed(logSoftmax(base.logits), logSoftmax(patched.logits), logSoftmax(donor.logits));
        });
        assertClose(got[n][curve], want, 1e-5, 0, `repeat ${n}, ${curve} curve`);
      }
    }
  } finally {
    tuned.dispose();
  }
});

function planOf(conditions: Condition[], repeats: number): StudyPlan {
  return {
    experiment: 'patching',
    conditions,
    repeats,
    seed: 3,
    layers: 'all',
    tune: { lr: 1e-3, lrSchedule: 'constant', weightDecay: 0, lora: { ...LORA_DEFAULTS, r: 4, alpha: 16 } },
    batch: 2,
    materials: { data: sst2, instructions: defaultInstructionPool('sentiment'), embedder: letterEmbedder(), similarityCandidates: 30 },
    methods: DEFAULT_METHODS,
    evalExamples: 4,
    configHash: 'ef'.repeat(32),
    save: { states: false, adapters: false },
  };
}

test('the patching preset writes record.patching (n patch points, finite, 0 at the embeddings); other presets write none', () => {
  const preset = findPreset('patching');
  assert.equal(preset.allLayers, true);
  const conditions = resolveConditions(preset, {});
  assert.deepEqual(conditions.map((c) => [c.name, c.labels, c.measures]), [['right-labels', 'right', { accuracy: false, tokenLoss: false, patching: true }]]);
  const saved: UnitResult[] = [];
  const sink: RecordSink = { isDone: () => false, save: (rs) => saved.push(...rs) };
  runPlan(planOf(conditions, 3), backend, sink);
  assert.equal(saved.length, 3);
  const n = backend.numHiddenStates - 1;
  for (const { record: r } of saved) {
    const p = r.patching!;
    assert.deepEqual(p.layers, [...Array(n).keys()]);
    assert.equal(p.icl.length, n);
    assert.equal(p.it.length, n);
    assert.ok([...p.icl, ...p.it].every(Number.isFinite), `repeat ${r.repeat}: ${JSON.stringify(p)}`);
    // hidden state 0 is the last token's embedding, the same in all three runs (LoRA on q/v leaves it): the patch changes nothing
    assert.ok(Math.abs(p.icl[0]) < 1e-4 && Math.abs(p.it[0]) < 1e-4, `repeat ${r.repeat}: ${p.icl[0]}, ${p.it[0]}`);
    assert.ok(p.icl.some((v) => Math.abs(v) > 1e-3), 'a later patch point moves the output');
  }
  const plain = resolveConditions(findPreset('layers'), { shots: 1, epochs: 1 });
  const other: UnitResult[] = [];
  runPlan({ ...planOf(plain, 1), experiment: 'layers' }, backend, { isDone: () => false, save: (rs) => other.push(...rs) });
  assert.equal(other[0].record.patching, undefined);
});

test('the work counter counts the patching preset\'s extra forwards: per repeat 2·n patched rows and three full-logit reads, every block run', () => {
  const conditions = resolveConditions(findPreset('patching'), {});
  const model = { encode: (t: string) => backend.encode(t), numLayers: backend.numHiddenStates - 1, maxPositions: backend.maxPositions };
  const repeats = 3;
  const withPatching = planWork(planOf(conditions, repeats), model);
  const without = planWork(planOf(conditions.map((c) => ({ ...c, measures: { ...c.measures, patching: false } })), repeats), model);
  const rows = (ps: typeof withPatching) => ps.filter((p) => p.kind === 'read').reduce((s, p) => s + p.lengths.length, 0);
  const n = model.numLayers;
  assert.equal(rows(withPatching) - rows(without), repeats * (2 * n + 3));
  const extra = withPatching.filter((p) => p.kind === 'read' && p.logitRows > 0);
  assert.ok(extra.every((p) => p.kind === 'read' && p.blocks === n && p.logitRows === p.lengths.length));
  assert.equal(extra.reduce((s, p) => s + p.lengths.length, 0), repeats * (2 * n + 3));
  // and the backend really runs those blocks: the events it reports match the counted passes
  const seen: string[] = [];
  backend.onWork = (e) => seen.push(`${e.kind} ${e.lengths.join(',')}`);
  try {
    runPlan(planOf(conditions, repeats), backend, { isDone: () => false, save: () => undefined });
  } finally {
    backend.onWork = undefined;
  }
  const expected = withPatching.flatMap((p) => {
    const blocks = new Array<string>(p.kind === 'read' ? p.blocks : n).fill(`block ${p.lengths.join(',')}`);
    return p.kind === 'step' ? [...blocks, `step ${p.lengths.join(',')}`] : blocks;
  });
  assert.deepEqual(expected.sort(), seen.sort());
});
