// The composite native ops against the same computation written with plain ops, and the widened bfloat16 GEMMs against float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directBlasAvailable, cat, dropoutMask, getNumThreads, linear, manualSeed, packedAttention, randn, rmsNorm, rope, segmentLora, setDirectKernels, setNumThreads, setWidenedBf16, tensor, tidy, widenedBf16, type Tensor } from './index.js';
import { eachKernelPath } from './testing.js';
import { assertClose } from '../util/testing.js';

/** Reference attention of one sequence with plain ops: q [L, H, D], k/v [L, KV, D] → [L, H·D]. */
function reference(q: Tensor, k: Tensor, v: Tensor, scale: number, window: number | null): Tensor {
  const [L, H, D] = q.shape;
  const G = H / k.shape[1];
  const qh = q.transpose(0, 1); // [H, L, D]
  const kh = k.transpose(0, 1).repeatInterleave(G, 0); // [H, L, D]
  const vh = v.transpose(0, 1).repeatInterleave(G, 0); // [H, L, D]
  const allowed = new Array<number>(L * L).fill(0).map((_, i) => {
    const t = Math.floor(i / L);
    const s = i % L;
    return s <= t && (window === null || t - s < window) ? 0 : -3.4028234663852886e38;
  });
  const scores = qh.matmul(kh.transpose(1, 2)).mul(scale).add(tensor(allowed, [L, L])); // [H, L, L]
  return scores.softmax(-1).matmul(vh).transpose(0, 1).reshape([L, H * D]); // [L, H·D]
}

test('packedAttention: each packed sequence equals its own causal attention (GQA by reshape, sliding window), on every path', () => {
  manualSeed(3);
  eachKernelPath((path) => tidy(() => {
    const lengths = [5, 1, 9];
    for (const [H, KV, window] of [[4, 2, null], [4, 4, null], [6, 2, 3]] as const) {
      const N = lengths.reduce((a, b) => a + b, 0);
      const q = randn([N, H, 8]);
      const k = randn([N, KV, 8]);
      const v = randn([N, KV, 8]);
      const got = packedAttention(q, k, v, lengths, 0.35, window);
      let off = 0;
      const want = lengths.map((L) => {
        const r = reference(q.slice(0, off, off + L), k.slice(0, off, off + L), v.slice(0, off, off + L), 0.35, window);
        off += L;
        return r;
      });
      assertClose(got.toFloat32Array(), cat(want, 0).toFloat32Array(), 1e-6, 0, `${path}: H ${H} KV ${KV} window ${window}`);
    }
  }));
});

test('packedAttention: the direct-BLAS path and the libtorch-op path agree at the study\'s shapes (9 heads, 3 KV heads, D 64), output and gradients', (t) => {
  if (!directBlasAvailable()) {
    t.skip('OpenBLAS is not loaded here: only the libtorch-op path exists');
    return;
  }
  manualSeed(5);
  tidy(() => {
    const lengths = [31, 50, 2, 36];
    const N = lengths.reduce((a, b) => a + b, 0);
    const inputs = [randn([N, 9, 64]), randn([N, 3, 64]), randn([N, 3, 64])];
    const g = randn([N, 9 * 64]);
    const run = (blas: boolean): Float32Array[] => {
      setDirectKernels(blas);
      try {
        const leaves = inputs.map((x) => x.detach().requiresGrad_());
        const out = packedAttention(leaves[0], leaves[1], leaves[2], lengths, 0.125, null);
        out.mul(g).sum().backward();
        return [out.toFloat32Array(), ...leaves.map((l) => l.grad!.toFloat32Array())];
      } finally {
        setDirectKernels(true);
      }
    };
    const blas = run(true);
    const ops = run(false);
    ['output', 'dq', 'dk', 'dv'].forEach((name, i) => assertClose(blas[i], ops[i], 1e-5, 1e-5, name));
    assert.throws(() => packedAttention(inputs[0], inputs[1], inputs[2], [N - 1], 0.125, null), /add up|split/);
  });
});

test('rmsNorm and rope equal their plain-op definitions, on every path (exactly as libtorch ops; the RMSNorm loop to float rounding)', () => {
  manualSeed(4);
  eachKernelPath((path) => tidy(() => {
    const exact = path === 'libtorch ops';
    for (const [C, D] of [[8, 8], [67, 66]]) {
      const x = randn([5, 3, C]);
      const w = randn([C]);
      const want = w.mul(x.mul(x.square().mean(-1, true).add(1e-5).rsqrt()));
      assertClose(rmsNorm(x, w, 1e-5).toFloat32Array(), want.toFloat32Array(), exact ? 0 : 1e-6, exact ? 0 : 1e-6, `${path}: rmsNorm C ${C}`);
      const q = randn([5, 3, D]);
      const cos = randn([5, 1, D]);
      const sin = randn([5, 1, D]);
      const rotated = cat([q.slice(-1, D / 2, D).neg(), q.slice(-1, 0, D / 2)], -1);
      assertClose(rope(q, cos, sin).toFloat32Array(), q.mul(cos).add(rotated.mul(sin)).toFloat32Array(), 0, 0, `${path}: rope D ${D}`);
    }
  }));
});

test('segmentLora: segment g through adapter g, equal segments (bmm) and unequal ones (loop) alike', () => {
  manualSeed(5);
  tidy(() => {
    const A = randn([3, 2, 6]);
    const B = randn([3, 5, 2]);
    for (const sizes of [[4, 4, 4], [1, 7, 3]]) {
      const h = randn([12 - (sizes[0] === 4 ? 0 : 1), 6]);
      let off = 0;
      const want = sizes.map((n, g) => {
        const part = linear(linear(h.slice(0, off, off + n), A.select(0, g)), B.select(0, g));
        off += n;
        return part;
      });
      assertClose(segmentLora(h, A, B, sizes).toFloat32Array(), cat(want, 0).toFloat32Array(), 1e-6, 0, `sizes ${sizes}`);
    }
  });
});

/** lowbias32, written independently of the native one: the reference the masks are checked against. */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

test('dropoutMask: a sequence\'s rows depend on its own seed only, not on its neighbours or its position; 0 or 1/(1−p)', () => {
  tidy(() => {
    const alone = dropoutMask([42], [7], 64, 0.25).toFloat32Array();
    const batch = dropoutMask([9, 42, 5], [3, 7, 11], 64, 0.25).toFloat32Array();
    assert.deepEqual(batch.slice(3 * 64, 10 * 64), alone, 'seed 42 gives the same 7 rows among other sequences');
    const big = dropoutMask([1, 2], [500, 500], 64, 0.25).toFloat32Array();
    const kept = big.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'kept entries are scaled by 1/(1−p)');
    const frac = kept.length / big.length;
    assert.ok(Math.abs(frac - 0.75) < 0.01, `kept fraction ${frac}`);
    assert.notDeepEqual(big.slice(0, 64 * 500), big.slice(64 * 500), 'different seeds, different masks');
  });
});

test('dropoutMask: every entry is the counter-hash draw its formula states (a TypeScript reference), and the device formula gives the same bits', () => {
  tidy(() => {
    const seeds = [0, 7, 0xdeadbeef, 4294967295];
    const lengths = [5, 9, 1, 13];
    const width = 37;
    const p = 0.05;
    const got = dropoutMask(seeds, lengths, width, p).toFloat32Array();
    const threshold = Math.round(p * 2 ** 32);
    const keep = Math.fround(1 / (1 - p));
    const want: number[] = [];
    seeds.forEach((seed, i) => {
      const a = mix32(seed);
      const b = mix32((seed ^ 0x5bd1e995) >>> 0);
      for (let j = 0; j < lengths[i] * width; j++) want.push(mix32((mix32((j + a) >>> 0) ^ b) >>> 0) >= threshold ? keep : 0);
    });
    assert.deepEqual([...got], want, 'the CPU kernel against the TypeScript reference');
    assert.deepEqual([...dropoutMask(seeds, lengths, width, p, 'cpu', true).toFloat32Array()], want, 'int64 tensor ops (the formula other devices run)');
    assert.throws(() => dropoutMask([-1], [2], 4, p), /32-bit/);
    assert.throws(() => dropoutMask([2 ** 32], [2], 4, p), /32-bit/);
  });
});

test('bfloat16 GEMMs on a CPU without native bf16 are float32 GEMMs on the widened values, rounded once; gradients too', () => {
  manualSeed(6);
  const before = widenedBf16();
  try {
    tidy(() => {
      const x = randn([5, 33]).to('bfloat16');
      const w = randn([17, 33]).to('bfloat16');
      const b = randn([17]).to('bfloat16');
      setWidenedBf16(true);
      const widened = linear(x, w, b);
      assert.equal(widened.dtype, 'bfloat16');
      // float64 on the same bf16 values, rounded to bf16 once: equal but for float32 vs float64 accumulation
      const want = linear(x.to('float64'), w.to('float64'), b.to('float64')).to('bfloat16').toFloat32Array();
      assertClose(widened.toFloat32Array(), want, 0, 2 ** -7, 'widened linear vs float64');
      setWidenedBf16(false);
      assertClose(linear(x, w, b).toFloat32Array(), want, 1e-2, 2 ** -6, "libtorch's own bf16 GEMM");
      setWidenedBf16(true);
      assertClose(x.matmul(w.transpose(0, 1)).toFloat32Array(), x.to('float64').matmul(w.to('float64').transpose(0, 1)).to('bfloat16').toFloat32Array(), 0, 2 ** -7, 'widened matmul');
      // backward: dL/dx = g w, dL/dw = gᵀ x, dL/db = Σ g for L = Σ g·linear(x, w, b)
      const xl = x.detach().requiresGrad_();
      const wl = w.detach().requiresGrad_();
      const bl = b.detach().requiresGrad_();
      const g = randn([5, 17]).to('bfloat16');
      linear(xl, wl, bl).to('float32').mul(g.to('float32')).sum().backward();
      const g64 = g.to('float64');
      assertClose(xl.grad!.toFloat32Array(), g64.matmul(w.to('float64')).to('bfloat16').toFloat32Array(), 0, 2 ** -7, 'grad x');
      assertClose(wl.grad!.toFloat32Array(), g64.transpose(0, 1).matmul(x.to('float64')).to('bfloat16').toFloat32Array(), 0, 2 ** -7, 'grad w');
      assertClose(bl.grad!.toFloat32Array(), g64.sum(0).to('bfloat16').toFloat32Array(), 0, 2 ** -7, 'grad b');
      assertClose(linear(x, w).toFloat32Array(), linear(x.to('float64'), w.to('float64')).to('bfloat16').toFloat32Array(), 0, 2 ** -7, 'no bias');
    });
  } finally {
    setWidenedBf16(before);
  }
});

test('the widened bfloat16 linear layer widens its weight tile by tile: output and input gradient are float32 GEMMs on the widened values rounded once, spread over threads or in turn on one (or whole through libtorch\'s conversions), the same bits run after run; the weight gradient keeps libtorch\'s bits; a mismatched input is refused', () => {
  manualSeed(7);
  const before = widenedBf16();
  const threads = getNumThreads();
  try {
    setWidenedBf16(true);
    tidy(() => {
      // w [1100, 2048]: 2.2M values, so the forward widens 9 tiles of w's rows and the input gradient sums over w's
      // rows in 3 blocks per column tile (each about 1 MB of float32); x's values span a wide range
      const x = randn([24, 2048]).mul(3).to('bfloat16');
      const w = randn([1100, 2048]).to('bfloat16');
      const g = randn([24, 1100]).to('bfloat16');
      const grads = (n: number) => {
        setNumThreads(n, 'test');
        try {
          const xl = x.detach().requiresGrad_();
          const wl = w.detach().requiresGrad_();
          const y = linear(xl, wl);
          y.mul(g).sum().backward();
          return [y, xl.grad!, wl.grad!].map((t) => t.toFloat32Array());
        } finally {
          setNumThreads(threads, 'test');
        }
      };
      const [x64, w64, g64] = [x, w, g].map((t) => t.to('float64'));
      const want = [x64.matmul(w64.transpose(0, 1)), g64.matmul(w64)].map((t) => t.to('bfloat16').toFloat32Array());
      const gwWant = g.to('float32').transpose(0, 1).matmul(x.to('float32')).to('bfloat16').toFloat32Array();
      // tiles spread over the threads (each with its own scratch), then taken in turn on one thread
      for (const n of [Math.max(2, threads), 1]) {
        const [y, gx, gw] = grads(n);
        // float64 on the same bfloat16 values, rounded once: equal but where float32 accumulation tips a rounding (one
        // bfloat16 step), or, where a sum of terms up to ~10 cancels to near 0, by its float32 error (sums of 1100–2048
        // terms of typical size 30–135: 1e-3 is under 1e-5 of that)
        assertClose(y, want[0], 1e-3, 2 ** -7, `output, ${n} threads`);
        assertClose(gx, want[1], 1e-3, 2 ** -7, `gradient of x, ${n} threads`);
        assert.deepEqual(gw, gwWant, `gradient of w, ${n} threads`);
        assert.deepEqual(grads(n), [y, gx, gw], `the same bits again, ${n} threads`);
      }
      // without the direct kernels (no OpenBLAS to call): whole weights through libtorch's conversions, the same values
      setDirectKernels(false);
      try {
        const [y, gx, gw] = grads(threads);
        assertClose(y, want[0], 1e-3, 2 ** -7, 'output, libtorch conversions');
        assertClose(gx, want[1], 1e-3, 2 ** -7, 'gradient of x, libtorch conversions');
        assert.deepEqual(gw, gwWant, 'gradient of w, libtorch conversions');
      } finally {
        setDirectKernels(true);
      }
      // an input whose width is not the weight's is refused, not read past its end
      assert.throws(() => linear(randn([24, 2047]).to('bfloat16'), w), /cannot be multiplied|size/);
    });
  } finally {
    setWidenedBf16(before);
  }
});
