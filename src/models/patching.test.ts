// Activation patching at the last token: known answers (a run patched with its own states is unchanged; with another run's, it moves toward it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig, writeRandomCheckpoint } from '../io/index.js';
import { noGrad, tensor, tidy } from '../torch/index.js';
import { gapClosed, logSoftmax } from '../stats/index.js';
import { assertClose, makeTempDir, tempDir } from '../util/testing.js';
import { LlamaModel, unpadRows } from './llama.js';
import { patchedLastTokenLogits, patchedLastTokenLogitsAt } from './patching.js';
import { naiveLlamaForward } from '../test-support/naive-llama.js';

const root = tempDir(test, 'iclit-patching-');

// Two "anchor" prompts of unequal length and their "ICL" versions (a demonstration in front), as token ids.
const anchor = [
  [1, 5, 9, 40, 3],
  [1, 77, 12],
];
const icl0 = [1, 60, 61, 62, 8, 5, 9, 40, 3];
const icl1 = [1, 60, 61, 62, 8, 77, 12];
const icl = [icl0, icl1];

function rowsOf(t: { toFloat32Array(): Float32Array; shape: number[] }): Float32Array[] {
  const [B, V] = t.shape;
  const all = t.toFloat32Array();
  return Array.from({ length: B }, (_, b) => all.slice(b * V, (b + 1) * V));
}

test('patching a run with its own last-token state at every layer leaves its logits unchanged (the ICL run: 100% of the anchor→ICL gap; the anchor run: 0%)', () => {
  const dir = writeRandomCheckpoint(makeTempDir('patch-', root), tinyConfig({ numLayers: 3 }), { seed: 9 });
  const model = LlamaModel.load(dir);
  const n = model.config.numLayers;
  const indices = [...Array(n).keys()];
  const base = (batch: number[][]) => noGrad(() => model.forward(batch, { hiddenStates: indices, logits: true, logitsPositions: 'last' }));
  const a = base(anchor);
  const i = base(icl);
  const aLogits = rowsOf(a.logits!);
  const iLogits = rowsOf(i.logits!);
  for (const l of indices) {
    const selfIcl = rowsOf(tidy(() => patchedLastTokenLogits(model, icl, l, i.hidden.get(l)!)));
    const selfAnchor = rowsOf(tidy(() => patchedLastTokenLogits(model, anchor, l, a.hidden.get(l)!)));
    for (let b = 0; b < anchor.length; b++) {
      assertClose(selfIcl[b], iLogits[b], 1e-5, 0, `ICL patched with its own state at ${l}, sequence ${b}`);
      assertClose(selfAnchor[b], aLogits[b], 1e-5, 0, `anchor patched with its own state at ${l}, sequence ${b}`);
      const closedIcl = gapClosed(logSoftmax(aLogits[b]), logSoftmax(selfIcl[b]), logSoftmax(iLogits[b]));
      const closedAnchor = gapClosed(logSoftmax(aLogits[b]), logSoftmax(selfAnchor[b]), logSoftmax(iLogits[b]));
      assert.ok(Math.abs(closedIcl - 1) < 1e-4, `ICL self-patch closes ${closedIcl}`);
      assert.ok(Math.abs(closedAnchor) < 1e-4, `anchor self-patch closes ${closedAnchor}`);
    }
  }
  model.dispose();
});

test('patching the anchor run with the ICL run\'s last-token state moves every sequence\'s output (the last real token is patched, not padding)', () => {
  const dir = writeRandomCheckpoint(makeTempDir('patch-', root), tinyConfig({ numLayers: 3 }), { seed: 9 });
  const model = LlamaModel.load(dir);
  const n = model.config.numLayers;
  const a = noGrad(() => model.forward(anchor, { logits: true, logitsPositions: 'last' }));
  const i = noGrad(() => model.forward(icl, { hiddenStates: [n - 1], logits: true, logitsPositions: 'last' }));
  const patched = rowsOf(tidy(() => patchedLastTokenLogits(model, anchor, n - 1, i.hidden.get(n - 1)!)));
  const aLogits = rowsOf(a.logits!);
  const iLogits = rowsOf(i.logits!);
  for (let b = 0; b < anchor.length; b++) {
    const closed = gapClosed(logSoftmax(aLogits[b]), logSoftmax(patched[b]), logSoftmax(iLogits[b]));
    // after block n−2 only the last block still reads the context, so most of the gap closes
    assert.ok(closed > 0.2 && closed <= 1, `sequence ${b}: gap closed ${closed}`);
  }
  assert.throws(() => patchedLastTokenLogits(model, anchor, n, i.hidden.get(n - 1)!), /outside 0\.\.2/);
  model.dispose();
});

test('one batch with a patch point per row equals a naive float64 LLaMA patched at that point, row by row (within 1e-4)', () => {
  const dir = writeRandomCheckpoint(makeTempDir('patch-', root), tinyConfig({ numLayers: 3 }), { seed: 4 });
  const model = LlamaModel.load(dir);
  const n = model.config.numLayers;
  const C = model.config.hiddenSize;
  // every patch point of both anchors, each patched with its ICL version's state there (from the naive model)
  const rowsIn = anchor.flatMap((a, b) => [...Array(n).keys()].map((l) => ({ a, l, state: naiveLlamaForward(dir, icl[b]).hidden[l].slice((icl[b].length - 1) * C, icl[b].length * C) })));
  const states = tensor(rowsIn.flatMap((r) => [...r.state]), [rowsIn.length, C], 'float32');
  const got = rowsOf(tidy(() => patchedLastTokenLogitsAt(model, rowsIn.map((r) => r.a), rowsIn.map((r) => r.l), states)));
  rowsIn.forEach((r, i) => {
    const want = naiveLlamaForward(dir, r.a, { patch: { index: r.l, state: r.state } }).logits;
    const V = model.config.vocabSize;
    assertClose(got[i], want.slice((r.a.length - 1) * V, r.a.length * V), 1e-4, 0, `row ${i} (patched at ${r.l})`);
  });
  // the rows really differ by patch point (a patch that did nothing would pass the comparison above only if the naive one did nothing too)
  assert.ok(got.some((g, i) => i > 0 && rowsIn[i].a === rowsIn[i - 1].a && Math.abs(g[0] - got[i - 1][0]) > 1e-6));
  assert.throws(() => patchedLastTokenLogitsAt(model, [anchor[0]], [0, 1], states), /2 patch points for 1 sequences/);
  states.dispose();
  model.dispose();
});

test('a forward resumed at hidden state l from the packed states there equals the full forward (states after l, logits, a patch at l); asking for anything before l is refused', () => {
  const dir = writeRandomCheckpoint(makeTempDir('patch-', root), tinyConfig({ numLayers: 3 }), { seed: 5 });
  const model = LlamaModel.load(dir);
  const n = model.config.numLayers;
  const all = [...Array(n + 1).keys()];
  const full = noGrad(() => model.forward(anchor, { hiddenStates: all, positions: 'all', logits: true, logitsPositions: 'last' }));
  const layout = { lengths: anchor.map((a) => a.length), T: Math.max(...anchor.map((a) => a.length)) };
  const icl = noGrad(() => model.forward([icl0, icl1], { hiddenStates: all }));
  for (let l = 0; l < n; l++) {
    const packed = unpadRows(full.hidden.get(l)!, layout); // [N, C]
    const resumed = noGrad(() => model.forward(anchor, { from: { index: l, hidden: packed }, hiddenStates: all.filter((i) => i >= l), positions: 'all', logits: true, logitsPositions: 'last' }));
    for (let i = l; i <= n; i++) assertClose(resumed.hidden.get(i)!.toFloat32Array(), full.hidden.get(i)!.toFloat32Array(), 1e-6, 0, `state ${i} resumed at ${l}`);
    assertClose(resumed.logits!.toFloat32Array(), full.logits!.toFloat32Array(), 1e-5, 0, `logits resumed at ${l}`);
    const state = icl.hidden.get(l)!;
    const whole = rowsOf(tidy(() => patchedLastTokenLogitsAt(model, anchor, [l, l], state)));
    const fromL = rowsOf(tidy(() => patchedLastTokenLogitsAt(model, anchor, [l, l], state, packed)));
    whole.forEach((w, b) => assertClose(fromL[b], w, 1e-5, 0, `patched at ${l}, resumed there, sequence ${b}`));
    if (l > 0) assert.throws(() => model.forward(anchor, { from: { index: l, hidden: packed }, hiddenStates: [l - 1] }), /before it cannot be computed/);
    packed.dispose();
  }
  assert.throws(() => model.forward(anchor, { from: { index: 1, hidden: unpadRows(full.hidden.get(1)!, layout).slice(0, 0, 3) } }), /expected the batch's 8 tokens/);
  model.dispose();
});

test('gapClosed: 1 at the target, 0 at the source, NaN without a gap', () => {
  const s = logSoftmax([2, 0, 0]);
  const t = logSoftmax([0, 2, 0]);
  assert.ok(Math.abs(gapClosed(s, t, t) - 1) < 1e-15);
  assert.ok(Math.abs(gapClosed(s, s, t)) < 1e-15);
  assert.ok(Number.isNaN(gapClosed(s, t, s)));
});
