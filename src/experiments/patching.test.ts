// Causal patching through the runner's own function: known answers (a run patched with its own states; cross = own when the two outputs agree), a float64 reference, the preset end to end and its counted passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInstructionPool, loadDataset, type Dataset } from '../data/index.js';
import { gapClosed, jensenShannon, logSoftmax } from '../stats/index.js';
import { naiveLlamaForward } from '../test-support/naive-llama.js';
import { LORA_DEFAULTS } from '../lora/index.js';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { LlamaModel, patchedLastTokenLogitsAt } from '../models/index.js';
import { tensor, tidy } from '../torch/index.js';
import { assertClose, tempDir } from '../util/testing.js';
import type { RecordSink, UnitResult } from './backend.js';
import { findPreset, resolveConditions, type Condition } from './conditions.js';
import { LlamaStudyBackend } from './llama-backend.js';
import { DEFAULT_METHODS } from './methods.js';
import { gapClosedByPoint, patchGroups, patchPoints, patchingOf } from './patching.js';
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
  const anchorOut = backend.read(anchor, [], { logits: true }).map((r) => r.logits!);
  const iclOut = backend.read(icl, [], { logits: true }).map((r) => r.logits!);
  const iclStates = backend.hidden(icl, points);
  const anchorStates = backend.hidden(anchor, points);
  anchor.forEach((_, i) => assert.ok(jensenShannon(logSoftmax(anchorOut[i]), logSoftmax(iclOut[i])) > 1e-4, `repeat ${i}: a real anchor→ICL gap`));
  // the output itself: every patched row equals the unpatched ICL read (float32 reads of other batch shapes: 1e-5)
  const rows = icl.flatMap((p, i) => points.map((l) => ({ p, l, s: iclStates[i][l], want: iclOut[i] })));
  backend.patchedLastLogits(rows.map((r) => r.p), rows.map((r) => r.l), rows.map((r) => r.s)).forEach((got, j) => assertClose(got, rows[j].want, 1e-5, 0, `ICL self-patch row ${j}`));
  const curves = [
    ...icl.map((p, i) => ({ receiver: p, donor: iclStates[i], source: anchorOut[i], targets: [iclOut[i]] })),
    ...anchor.map((p, i) => ({ receiver: p, donor: anchorStates[i], source: anchorOut[i], targets: [iclOut[i]] })),
    ...anchor.map((p, i) => ({ receiver: p, donor: iclStates[i], source: anchorOut[i], targets: [iclOut[i]] })),
  ];
  const closed = gapClosedByPoint(backend, points, curves).map(([c]) => c);
  for (let i = 0; i < 2; i++) {
    for (const v of closed[i]) assert.ok(Math.abs(v - 1) < 1e-4, `ICL self-patch closes ${v}`);
    for (const v of closed[2 + i]) assert.ok(Math.abs(v) < 1e-4, `anchor self-patch closes ${v}`);
    // the real patch: nothing at the embeddings (B's last token is the same), part of the gap after block 0
    const cross = closed[4 + i];
    assert.ok(Math.abs(cross[0]) < 1e-4 && cross[1] > 0.05 && cross[1] < 0.9999, `anchor ← ICL states closes ${cross}`);
  }
});

test('gapClosedByPoint: several targets read off one patched read per row (no extra rows); targets swapped give the curves swapped, exactly', () => {
  const points = patchPoints(backend.numHiddenStates);
  const anchor = anchorIds();
  const icl = iclIds();
  const anchorOut = backend.read(anchor, [], { logits: true }).map((r) => r.logits!);
  const iclOut = backend.read(icl, [], { logits: true }).map((r) => r.logits!);
  const iclStates = backend.hidden(icl, points);
  let rows = 0;
  const counting = { patchedLastLogits: (...a: Parameters<typeof backend.patchedLastLogits>) => ((rows += a[0].length), backend.patchedLastLogits(...a)) };
  // a second target that is not the first: the other repeat's ICL output
  const curve = (targets: ArrayLike<number>[]) => ({ receiver: anchor[0], donor: iclStates[0], source: anchorOut[0], targets });
  const [ab] = gapClosedByPoint(counting, points, [curve([iclOut[0], iclOut[1]])]);
  assert.equal(rows, points.length, 'one patched row per patch point, whatever the number of targets');
  const [ba] = gapClosedByPoint(counting, points, [curve([iclOut[1], iclOut[0]])]);
  const [[a]] = gapClosedByPoint(counting, points, [curve([iclOut[0]])]);
  assert.deepEqual(ba, [ab[1], ab[0]]);
  assert.deepEqual(a, ab[0]);
  assert.notDeepEqual(ab[0], ab[1], 'two different targets give two different curves');
});

test('patchingOf, known answer: when the IT output equals the ICL output the cross curves equal the own curves exactly (same patched logits); one patched row per curve and patch point', () => {
  const layers = [0, 1, 2];
  const anchor = anchorIds();
  const icl = iclIds();
  const a = backend.read(anchor, layers, { logits: true });
  const i = backend.read(icl, layers, { logits: true });
  let rows = 0;
  const counting = { numHiddenStates: backend.numHiddenStates, patchedLastLogits: (...x: Parameters<typeof backend.patchedLastLogits>) => ((rows += x[0].length), backend.patchedLastLogits(...x)) };
  // the "IT" state: the other repeat's ICL state (a real curve, not the ICL one restated); the IT output: this repeat's ICL output
  const got = patchingOf(counting, anchor.map((p, n) => ({ anchor: p, icl: icl[n], states: { layers, anchor: a[n].hidden, icl: i[n].hidden, it: i[1 - n].hidden }, outputs: { anchor: a[n].logits!, icl: i[n].logits!, it: i[n].logits! } })));
  assert.equal(rows, anchor.length * 2 * 2, '2 repeats × 2 donors × 2 patch points: the cross curves cost no reads');
  for (const r of got) {
    assert.deepEqual(r.iclToIt, r.icl);
    assert.deepEqual(r.itToIcl, r.it);
    assert.ok(r.icl[1] > 0.05 && Math.abs(r.it[1] - r.icl[1]) > 1e-3, `real, different curves: ${r.icl}, ${r.it}`);
  }
});

test('patchingOf equals a float64 naive LLaMA (patched, and with the tuned adapter merged for the IT run) at every layer, cross curves and own curves, within 1e-5 (float32 vs float64: about 4e-7 seen)', () => {
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
    const a = backend.read(anchor, layers, { logits: true });
    const i = backend.read(icl, layers, { logits: true });
    const t = tuned.read(anchor, layers, { logits: true });
    const got = patchingOf(backend, anchor.map((p, n) => ({ anchor: p, icl: icl[n], states: { layers, anchor: a[n].hidden, icl: i[n].hidden, it: t[n].hidden }, outputs: { anchor: a[n].logits!, icl: i[n].logits!, it: t[n].logits! } })));
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
      // the ICL and IT outputs differ, so the cross curves are not the own curves restated
      assert.ok(jensenShannon(logSoftmax(iclRun.logits), logSoftmax(itRun.logits)) > 1e-5);
      // [curve, donor, target]: the cross curves (toward the other paradigm's output) and the own-output checks
      for (const [curve, donor, target] of [['iclToIt', iclRun, itRun], ['itToIcl', itRun, iclRun], ['icl', iclRun, iclRun], ['it', itRun, itRun]] as const) {
        const want = [0, 1].map((l) => {
          const patched = last(anchor[n], naiveLlamaForward(tiny.model, anchor[n], { patch: { index: l, state: donor.state(l) } }));
          return gapClosed(logSoftmax(base.logits), logSoftmax(patched.logits), logSoftmax(target.logits));
        });
        assertClose(got[n][curve]!, want, 1e-5, 0, `repeat ${n}, ${curve} curve`);
      }
      assert.ok(Math.abs(got[n].iclToIt![1] - got[n].icl[1]) > 1e-3, `the cross curve is its own curve: ${got[n].iclToIt} vs ${got[n].icl}`);
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
    const curves = [p.iclToIt!, p.itToIcl!, p.icl, p.it];
    assert.deepEqual(curves.map((c) => c.length), [n, n, n, n]);
    assert.ok(curves.flat().every(Number.isFinite), `repeat ${r.repeat}: ${JSON.stringify(p)}`);
    // hidden state 0 is the last token's embedding, the same in all three runs (LoRA on q/v leaves it): the patch changes nothing
    assert.ok(curves.every((c) => Math.abs(c[0]) < 1e-4), `repeat ${r.repeat}: ${curves.map((c) => c[0])}`);
    assert.ok(p.icl.some((v) => Math.abs(v) > 1e-3), 'a later patch point moves the output');
  }
  const plain = resolveConditions(findPreset('layers'), { shots: 1, epochs: 1 });
  const other: UnitResult[] = [];
  runPlan({ ...planOf(plain, 1), experiment: 'layers' }, backend, { isDone: () => false, save: (rs) => other.push(...rs) });
  assert.equal(other[0].record.patching, undefined);
});

test('the work counter counts the patching preset\'s extra forwards: per repeat the anchor stream carried up n − 1 blocks and each patched row from its patch point on (the outputs are the study reads\' own logits)', () => {
  const conditions = resolveConditions(findPreset('patching'), {});
  const model = { encode: (t: string) => backend.encode(t), numLayers: backend.numHiddenStates - 1, maxPositions: backend.maxPositions, vocabSize: backend.model.config.vocabSize };
  const repeats = 3;
  const withPatching = planWork(planOf(conditions, repeats), model);
  const without = planWork(planOf(conditions.map((c) => ({ ...c, measures: { ...c.measures, patching: false } })), repeats), model);
  // block × sequence units: a read of b rows through k blocks counts b·k
  const units = (ps: typeof withPatching) => ps.filter((p) => p.kind === 'read').reduce((s, p) => s + p.lengths.length * (p.kind === 'read' ? p.blocks : 0), 0);
  const n = model.numLayers;
  // the stream's n − 1 blocks and Σ_l 2·(n − l) = n(n + 1) for the two curves' rows; no read of its own for the outputs
  assert.equal(units(withPatching) - units(without), repeats * ((n - 1) + n * (n + 1)));
  // (beyond the logits every study read carries for the output agreement)
  const logitRows = (ps: typeof withPatching) => ps.filter((p) => p.kind === 'read' && p.logitRows > 0).reduce((s, p) => s + p.lengths.length, 0);
  assert.equal(logitRows(withPatching) - logitRows(without), repeats * 2 * n, 'one logit row per patched row');
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

test('patchGroups: distinct prompts in order of first appearance, groups of the given size, rows by patch point ascending', () => {
  const a = [1, 2];
  const b = [1, 3, 4];
  const c = [5];
  const groups = patchGroups([a, b, [1, 2], c, b, a], [1, 0, 0, 2, 1, 1], 2);
  assert.deepEqual(groups.map((g) => g.prompts), [[a, b], [c]]);
  assert.deepEqual(groups[0].steps, [
    { index: 0, rows: [1, 2], members: [1, 0] },
    { index: 1, rows: [0, 4, 5], members: [0, 1, 0] },
  ]);
  assert.deepEqual(groups[1].steps, [{ index: 2, rows: [3], members: [0] }]);
});

test('LlamaStudyBackend.patchedLastLogits (streams carried up a 4-layer model in groups, rows resumed at their patch point) equals one full patched forward per row, within 1e-5', async () => {
  const dir = join(root, 'deep');
  mkdirSync(dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(tiny.model, f), join(dir, f));
  writeRandomCheckpoint(dir, tinyConfig({ vocabSize: 400, hiddenSize: 32, numLayers: 4, maxPositionEmbeddings: 1024 }), { seed: 12, std: 0.1 });
  const deepBackend = await LlamaStudyBackend.load(dir);
  const deep = LlamaModel.load(dir);
  try {
    // 10 distinct receivers (two groups of PATCH_GROUP), each at every patch point with two donors' states: 80 rows (several READ_BATCH chunks), rows shuffled
    const texts = (sst2.examples as { text: string }[]).slice(0, 12).map((r) => `${X}Review: ${r.text}\nSentiment:`);
    const ids = texts.map((t) => deepBackend.encode(t));
    const points = patchPoints(deepBackend.numHiddenStates);
    assert.deepEqual(points, [0, 1, 2, 3]);
    const donors = deepBackend.hidden(ids, points);
    let rows = ids.slice(0, 10).flatMap((p, i) => points.flatMap((l) => [i + 1, i + 2].map((d) => ({ p, l, s: donors[d][l] }))));
    rows = rows.map((r, j) => ({ r, k: (j * 37) % rows.length })).sort((a, b) => a.k - b.k).map((x) => x.r);
    const got = deepBackend.patchedLastLogits(rows.map((r) => r.p), rows.map((r) => r.l), rows.map((r) => r.s));
    rows.forEach((r, j) => {
      const want = tidy(() => patchedLastTokenLogitsAt(deep, [r.p], [r.l], tensor(r.s, [1, 32], 'float32')).toFloat32Array());
      assertClose(got[j], want, 1e-5, 0, `row ${j} (patched at ${r.l})`);
    });
  } finally {
    deep.dispose();
    deepBackend.dispose();
  }
});
