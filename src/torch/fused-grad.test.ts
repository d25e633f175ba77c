// The composite native ops' written-out backward (norm, RoPE, packed attention, the LoRA update, AdamW) against autograd through their plain-op definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adamwStep, assignLeaves, cat, dropoutMask, getNumThreads, leafGrads, linear, loraAdd, manualSeed, packedAttention, randn, rmsNorm, rope, setNumThreads, tensor, tidy, zeros, type Tensor } from './index.js';
import { assertClose } from '../util/testing.js';
import { eachKernelPath } from './testing.js';

/** Gradients of Σ g ⊙ f(inputs) with respect to each input (fresh leaves), as float32 arrays. */
function grads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], g: Tensor): Float32Array[] {
  const leaves = inputs.map((x) => x.detach().requiresGrad_());
  f(...leaves).mul(g).sum().backward();
  return leaves.map((l) => l.grad!.toFloat32Array());
}

function compare(name: string, fused: (...xs: Tensor[]) => Tensor, plain: (...xs: Tensor[]) => Tensor, inputs: Tensor[], atol = 1e-5): void {
  const out = fused(...inputs);
  assertClose(out.toFloat32Array(), plain(...inputs).toFloat32Array(), atol, 1e-5, `${name}: output`);
  const g = randn(out.shape);
  const a = grads(fused, inputs, g);
  const b = grads(plain, inputs, g);
  a.forEach((ga, i) => assertClose(ga, b[i], atol, 1e-5, `${name}: gradient of input ${i}`));
}

test('rmsNorm backward (input and weight; input alone, as the model\'s frozen norms) equals autograd through its plain-op definition, on every path', () => {
  manualSeed(11);
  eachKernelPath((path) => tidy(() => {
    const plain = (x: Tensor, w: Tensor): Tensor => w.mul(x.mul(x.square().mean(-1, true).add(1e-5).rsqrt()));
    compare(`${path}: rmsNorm`, (x, w) => rmsNorm(x, w, 1e-5), plain, [randn([3, 4, 16]), randn([16])]);
    const w = randn([67]);
    compare(`${path}: rmsNorm, frozen weight`, (x) => rmsNorm(x, w, 1e-5), (x) => plain(x, w), [randn([37, 67])]);
  }));
});

test('rope backward equals autograd through x·cos + rotate_half(x)·sin, on every path', () => {
  manualSeed(12);
  eachKernelPath((path) => tidy(() => {
    const cos = randn([7, 1, 8]);
    const sin = randn([7, 1, 8]);
    const plain = (x: Tensor): Tensor => x.mul(cos).add(cat([x.slice(-1, 4, 8).neg(), x.slice(-1, 0, 4)], -1).mul(sin));
    compare(`${path}: rope`, (x) => rope(x, cos, sin), plain, [randn([7, 3, 8])]);
  }));
});

/** One sequence's causal attention with plain ops: q [L, H, D], k/v [L, KV, D] → [L, H·D]. */
function attentionOf(q: Tensor, k: Tensor, v: Tensor, scale: number, window: number | null): Tensor {
  const [L, H, D] = q.shape;
  const G = H / k.shape[1];
  const allowed = Array.from({ length: L * L }, (_, i) => {
    const t = Math.floor(i / L);
    const s = i % L;
    return s <= t && (window === null || t - s < window) ? 0 : -3.4028234663852886e38;
  });
  const kh = k.transpose(0, 1).repeatInterleave(G, 0); // [H, L, D]
  const vh = v.transpose(0, 1).repeatInterleave(G, 0); // [H, L, D]
  const scores = q.transpose(0, 1).matmul(kh.transpose(1, 2)).mul(scale).add(tensor(allowed, [L, L])); // [H, L, L]
  return scores.softmax(-1).matmul(vh).transpose(0, 1).reshape([L, H * D]); // [L, H·D]
}

test('packedAttention backward (q, k, v; GQA, sliding window, sequences of 1) equals autograd through per-sequence attention, on every path', () => {
  manualSeed(13);
  eachKernelPath((path) => tidy(() => {
    const lengths = [5, 1, 9];
    const N = lengths.reduce((a, b) => a + b, 0);
    for (const [H, KV, window] of [[4, 2, null], [6, 2, 3], [3, 3, null]] as const) {
      const plain = (q: Tensor, k: Tensor, v: Tensor): Tensor => {
        let off = 0;
        return cat(
          lengths.map((L) => {
            const part = attentionOf(q.slice(0, off, off + L), k.slice(0, off, off + L), v.slice(0, off, off + L), 0.35, window);
            off += L;
            return part;
          }),
          0,
        );
      };
      compare(`${path}: attention H ${H} KV ${KV} window ${window}`, (q, k, v) => packedAttention(q, k, v, lengths, 0.35, window), plain, [randn([N, H, 8]), randn([N, KV, 8]), randn([N, KV, 8])]);
    }
  }));
});

test('loraAdd (segments through their adapters, dropout mask, scaling) and its backward equal the plain-op LoRA update, on every path', () => {
  manualSeed(14);
  eachKernelPath((path) => tidy(() => {
    const lengths = [3, 4, 2, 6]; // 4 sequences, 2 adapters: rows 0–6 through adapter 0, 7–14 through adapter 1
    const R = 15;
    const seeds = [101, 102, 201, 202];
    const segments = { adapters: [0, 1], sizes: [7, 8] };
    for (const p of [0, 0.25]) {
      const mask = p > 0 ? dropoutMask(seeds, lengths, 6, p) : null;
      const plain = (y: Tensor, x: Tensor, A: Tensor, B: Tensor): Tensor => {
        const h = mask ? x.mul(mask) : x;
        const delta = cat([0, 1].map((g) => linear(linear(h.slice(0, g * 7, g * 7 + segments.sizes[g]), A.select(0, g)), B.select(0, g))), 0);
        return y.add(delta.mul(0.5));
      };
      const fused = (y: Tensor, x: Tensor, A: Tensor, B: Tensor): Tensor => loraAdd(y, x, A, B, segments, 0.5, { seeds, lengths, p });
      compare(`${path}: loraAdd p ${p}`, fused, plain, [randn([R, 5]), randn([R, 6]), randn([2, 3, 6]), randn([2, 5, 3])]);
    }
    // one adapter for every row (adapter 1 of 2): adapter 0 gets a zero gradient
    const A = randn([2, 3, 6]).requiresGrad_();
    const B = randn([2, 5, 3]).requiresGrad_();
    loraAdd(randn([R, 5]), randn([R, 6]), A, B, { adapters: [1], sizes: [R] }, 2).sum().backward();
    assert.ok(A.grad!.select(0, 0).toFloat32Array().every((v) => v === 0) && B.grad!.select(0, 0).toFloat32Array().every((v) => v === 0), `${path}: the unused adapter has no gradient`);
    assert.ok(A.grad!.select(0, 1).toFloat32Array().some((v) => v !== 0), `${path}: the used one has`);
  }));
});

test('loraAdd with an adapter\'s segments apart (rows 0–3 and 9–14 through adapter 0) equals the plain-op update, on every path', () => {
  manualSeed(16);
  eachKernelPath((path) => tidy(() => {
    const segments = { adapters: [0, 1, 0], sizes: [4, 5, 6] };
    const starts = [0, 4, 9];
    const plain = (y: Tensor, x: Tensor, A: Tensor, B: Tensor): Tensor =>
      y.add(cat(segments.sizes.map((s, i) => linear(linear(x.slice(0, starts[i], starts[i] + s), A.select(0, segments.adapters[i])), B.select(0, segments.adapters[i]))), 0).mul(0.5));
    compare(`${path}: loraAdd, segments apart`, (y, x, A, B) => loraAdd(y, x, A, B, segments, 0.5), plain, [randn([15, 5]), randn([15, 6]), randn([2, 3, 6]), randn([2, 5, 3])]);
  }));
});

test('packed attention and loraAdd give the same bits on one thread as spread over threads (sequences, KV heads and adapters split across them)', () => {
  manualSeed(17);
  const threads = getNumThreads();
  const lengths = [5, 9, 3, 7];
  const N = 24;
  const segments = { adapters: [0, 1, 2, 3], sizes: lengths };
  const inputs = [randn([N, 6, 8]), randn([N, 2, 8]), randn([N, 2, 8]), randn([N, 16]), randn([N, 16]), randn([4, 3, 16]), randn([4, 16, 3])];
  const g = [randn([N, 48]), randn([N, 16])];
  const run = (n: number): Float32Array[] => {
    setNumThreads(n, 'test');
    try {
      return tidy(() => {
        const leaves = inputs.map((x) => x.detach().requiresGrad_());
        const [q, k, v, y, x, A, B] = leaves;
        packedAttention(q, k, v, lengths, 0.35, null).mul(g[0]).sum().add(loraAdd(y, x, A, B, segments, 0.5, { seeds: [1, 2, 3, 4], lengths, p: 0.25 }).mul(g[1]).sum()).backward();
        return leaves.map((l) => l.grad!.toFloat32Array());
      });
    } finally {
      setNumThreads(threads, 'test');
    }
  };
  const one = run(1);
  const two = run(Math.max(2, threads));
  one.forEach((a, i) => assert.deepEqual(two[i], a, `gradient of input ${i}`));
});

test('adamwStep equals the update written with plain ops bit for bit, on every path; assignLeaves copies into leaves and drops their gradients', () => {
  manualSeed(15);
  eachKernelPath((path) => tidy(() => {
    const shapes = [[3, 4], [5], [37, 1029]]; // the last spans vector widths and the parallel grain
    const ps = shapes.map((s) => randn(s));
    const gs = shapes.map((s) => randn(s));
    const ms = shapes.map((s) => randn(s));
    const vs = shapes.map((s) => randn(s).square());
    const [lr, wd, b1, b2, eps, step] = [1e-3, 0.01, 0.9, 0.999, 1e-8, 3];
    const bc1 = 1 - b1 ** step;
    const bc2Sqrt = Math.sqrt(1 - b2 ** step);
    const out = adamwStep(ps, gs, ms, vs, [1 - lr * wd, b1, 1 - b1, b2, 1 - b2, bc2Sqrt, eps, lr / bc1]);
    ps.forEach((p, i) => {
      const m = ms[i].mul(b1).add(gs[i].mul(1 - b1));
      const v = vs[i].mul(b2).add(gs[i].mul(gs[i]).mul(1 - b2));
      const want = p.mul(1 - lr * wd).sub(m.div(v.sqrt().div(bc2Sqrt).add(eps)).mul(lr / bc1));
      assert.deepEqual(out.params[i].toFloat32Array(), want.toFloat32Array(), `${path}: param ${i}: the same float32 ops, the same numbers`);
      assert.deepEqual(out.expAvg[i].toFloat32Array(), m.toFloat32Array(), `${path}: m ${i}`);
      assert.deepEqual(out.expAvgSq[i].toFloat32Array(), v.toFloat32Array(), `${path}: v ${i}`);
    });
    const leaves = [zeros([3, 4]).requiresGrad_(), zeros([5]).requiresGrad_()];
    leaves[0].mul(2).sum().backward();
    const got = leafGrads(leaves);
    assert.deepEqual(got[0]!.toFloat32Array(), new Float32Array(12).fill(2), 'the gradient of a leaf');
    assert.equal(got[1], null, 'null where a leaf has none');
    assignLeaves(leaves, out.params.slice(0, 2));
    assert.deepEqual(leaves[0].toFloat32Array(), out.params[0].toFloat32Array(), 'copied');
    assert.equal(leafGrads(leaves)[0], null, 'gradient dropped');
    assert.ok(leaves[0].requiresGrad, 'still a leaf that trains');
  }));
});
