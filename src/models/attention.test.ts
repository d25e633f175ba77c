// The last token's attention weights (CaptureRequest.lastTokenAttention) against an independent float64 attention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig, writeRandomCheckpoint, type DecoderConfig } from '../io/index.js';
import { noGrad } from '../torch/index.js';
import { assertClose, makeTempDir, tempDir } from '../util/testing.js';
import { LlamaModel } from './llama.js';
import { naiveLlamaForward } from '../test-support/naive-llama.js';

const root = tempDir(test, 'iclit-attention-');

const variants: [string, Partial<DecoderConfig>][] = [
  ['grouped-query heads (4 query heads on 2 kv heads)', { numKvHeads: 2 }],
  ['one kv head per query head', { numKvHeads: 4 }],
  ['mistral sliding window 4', { modelType: 'mistral', slidingWindow: 4 }],
];

for (const [name, over] of variants) {
  test(`last-token attention, ${name}: a batch of unequal sequences matches a naive float64 attention within 1e-5, zero past each end`, () => {
    const dir = writeRandomCheckpoint(makeTempDir('attn-', root), tinyConfig(over), { seed: 5 });
    const seqs = [
      [1, 5, 9, 40, 3, 77, 12, 8, 95, 0],
      [7, 2, 61, 4, 33, 18],
    ];
    const model = LlamaModel.load(dir);
    const c = model.config;
    const out = noGrad(() => model.forward(seqs, { lastTokenAttention: true }));
    assert.equal(out.attention?.size, c.numLayers);
    const T = Math.max(...seqs.map((s) => s.length));
    seqs.forEach((ids, b) => {
      const want = naiveLlamaForward(dir, ids).lastAttention;
      const L = ids.length;
      for (let l = 0; l < c.numLayers; l++) {
        const w = out.attention!.get(l)!;
        assert.deepEqual(w.shape, [seqs.length, c.numHeads, T]);
        const all = w.toFloat32Array();
        for (let h = 0; h < c.numHeads; h++) {
          const row = all.subarray((b * c.numHeads + h) * T, (b * c.numHeads + h + 1) * T);
          assertClose(row.subarray(0, L), want[l].subarray(h * L, (h + 1) * L), 1e-5, 0, `sequence ${b} layer ${l} head ${h}`);
          for (let s = L; s < T; s++) assert.equal(row[s], 0, `padding at ${s}`);
        }
      }
    });
    for (const w of out.attention!.values()) w.dispose();
    for (const h of out.hidden.values()) h.dispose();
    model.dispose();
  });
}
