// The written-out CPU kernels (float32, and bfloat16 on widened operands) against the libtorch-op path they replace, at a study step's shapes (`npm run bench kernels`).
import { adamwStep, dropoutMask, linear, loraAdd, packedAttention, randn, rmsNorm, rope, setDirectKernels, swiglu, tidy, widenedBf16, type Tensor } from '../src/torch/index.js';
import { median } from '../src/stats/index.js';
import { convergenceWorkload } from './workload.js';
import { SMOLLM2_135M } from './forward.js';
import type { BenchResult } from './types.js';

/** Median milliseconds of `fn` over `times` runs after two warm-ups. */
function medianMs(fn: () => void, times = 30): number {
  fn();
  fn();
  const all: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    fn();
    all.push(performance.now() - t0);
  }
  return median(all);
}

/** Each kernel timed with the direct kernels on and off, rounds interleaved; the ratio is off / on (higher: the kernel is faster). */
function onOff(fn: () => void, rounds = 5, times = 30): { on: number; off: number } {
  const on: number[] = [];
  const off: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      setDirectKernels(true);
      on.push(medianMs(fn, times));
      setDirectKernels(false);
      off.push(medianMs(fn, times));
    }
  } finally {
    setDirectKernels(true);
  }
  return { on: median(on), off: median(off) };
}

/**
 * One LoRA training step's kernels on the 135M shape (hidden 576, 9 heads, 3 KV heads of 64, the q/v LoRA of r 8 on
 * 8 adapters) over the study's 8 tuning texts (SST-2 prompts where `../shared` has them): packed attention, the LoRA
 * update, RMSNorm, RoPE (each forward + backward) and AdamW over the step's 120 adapter tensors; attention, RMSNorm,
 * RoPE and SwiGLU in bfloat16; the dropout masks of one module (they have one path). Each row: the medians per call
 * and how many times faster the direct kernel is.
 */
export async function benchKernels(): Promise<BenchResult[]> {
  const w = await convergenceWorkload(8, SMOLLM2_135M.vocabSize, 1);
  const lengths = w.repeats.map((r) => r.tuning.length);
  const N = lengths.reduce((a, b) => a + b, 0);
  const C = 576;
  const rows: BenchResult[] = [];
  const row = (name: string, t: { on: number; off: number }, n = N) => {
    process.stderr.write(`bench: kernel ${name}: direct ${t.on.toFixed(3)} ms, libtorch ops ${t.off.toFixed(3)} ms\n`);
    rows.push({ name: `kernel ${name} (${n} rows): direct ${t.on.toFixed(3)} ms vs libtorch ops ${t.off.toFixed(3)} ms per call`, unit: '× faster', iclit: t.off / t.on });
  };
  const backward = (out: Tensor) => out.to('float32').sum().backward();
  const leaf = (shape: number[]) => randn(shape).requiresGrad_();
  tidy(() => {
    const [q, k, v] = [leaf([N, 9, 64]), leaf([N, 3, 64]), leaf([N, 3, 64])];
    row('packed attention, forward + backward', onOff(() => tidy(() => backward(packedAttention(q, k, v, lengths, 0.125, null)))));
    const A = leaf([8, 8, C]);
    const B = leaf([8, C, 8]);
    const x = leaf([N, C]);
    const y = randn([N, C]);
    const seeds = lengths.map((_, i) => i + 1);
    const sizes = lengths; // one sequence per adapter
    const segments = { adapters: [...Array(8).keys()], sizes };
    row('LoRA update (8 adapters, r 8, dropout 0.05), forward + backward', onOff(() => tidy(() => backward(loraAdd(y, x, A, B, segments, 4, { seeds, lengths, p: 0.05 })))));
    const wn = randn([C]);
    row('RMSNorm, forward + backward', onOff(() => tidy(() => backward(rmsNorm(x, wn, 1e-5)))));
    const [cos, sin] = [randn([N, 1, 64]), randn([N, 1, 64])];
    row('RoPE on q, forward + backward', onOff(() => tidy(() => backward(rope(q, cos, sin)))));
    const shapes = Array.from({ length: 30 }, () => [[8, 8, C], [8, C, 8], [8, 8, C], [8, 192, 8]]).flat(); // A and B of q (out 576) and v (out 192) on 30 layers
    const ps = shapes.map((s) => randn(s));
    const gs = shapes.map((s) => randn(s));
    const ms = shapes.map((s) => randn(s));
    const vs = shapes.map((s) => randn(s).square());
    row('AdamW over 120 adapter tensors', onOff(() => tidy(() => void adamwStep(ps, gs, ms, vs, [1, 0.9, 0.1, 0.999, 0.001, 0.03, 1e-8, 1e-3]))));
    // bfloat16 (a model loaded in bf16 on the CPU): the same kernels on widened rows, rounded once, against libtorch's
    // bf16 ops; SwiGLU has a loop in bfloat16 only (float32 keeps libtorch's silu and mul)
    const bf = (t: Tensor): Tensor => t.detach().to('bfloat16').requiresGrad_();
    const [qb, kb, vb, xb] = [q, k, v, x].map(bf);
    const [gateB, upB] = [bf(randn([N, 1536])), bf(randn([N, 1536]))];
    const [wnB, cosB, sinB] = [wn, cos, sin].map((t) => t.to('bfloat16'));
    row('packed attention in bfloat16, forward + backward', onOff(() => tidy(() => backward(packedAttention(qb, kb, vb, lengths, 0.125, null)))));
    row('RMSNorm in bfloat16, forward + backward', onOff(() => tidy(() => backward(rmsNorm(xb, wnB, 1e-5)))));
    row('RoPE on q in bfloat16, forward + backward', onOff(() => tidy(() => backward(rope(qb, cosB, sinB)))));
    row('SwiGLU in bfloat16 (MLP 1536), forward + backward', onOff(() => tidy(() => backward(swiglu(gateB, upB)))));
    if (widenedBf16()) {
      // the frozen weights of one decoder block and the LM head, widened to float32: tile by tile with the direct
      // kernels, whole through libtorch's conversions without
      const blockWeights = [[C, C], [192, C], [192, C], [C, C], [1536, C], [1536, C], [C, 1536]].map((s) => randn(s).to('bfloat16'));
      const [xin, xmid] = [bf(randn([N, C])), bf(randn([N, 1536]))];
      row("a decoder block's 7 linear layers in bfloat16 (weights widened), forward + input gradient", onOff(() => tidy(() => blockWeights.forEach((wt) => backward(linear(wt.shape[1] === C ? xin : xmid, wt))))));
      const head = randn([SMOLLM2_135M.vocabSize, C]).to('bfloat16');
      row('the LM head in bfloat16 (weight widened, vocab 49152), forward + input gradient', onOff(() => tidy(() => backward(linear(xin, head))), 3, 5));
      // a 7B block's 7 linear layers at a 7B step's rows (2 repeats × 40 tokens), where the weights are far beyond the
      // caches, and the same layers in float32 (the GEMMs alone) beside them
      tidy(() => {
        const [H, F, R] = [4096, 11008, 80];
        const shapes7b = [[H, H], [H, H], [H, H], [H, H], [F, H], [F, H], [H, F]];
        const ws = shapes7b.map((s) => randn(s));
        const [x32, m32] = [randn([R, H]).requiresGrad_(), randn([R, F]).requiresGrad_()];
        const block = (w: Tensor[], xi: Tensor, xm: Tensor) => () => tidy(() => w.forEach((wt) => backward(linear(wt.shape[1] === H ? xi : xm, wt))));
        const f32 = median([0, 1, 2].map(() => medianMs(block(ws, x32, m32), 3)));
        const wsB = ws.map((w) => w.to('bfloat16'));
        ws.forEach((w) => w.dispose());
        const t = onOff(block(wsB, bf(x32), bf(m32)), 3, 3);
        process.stderr.write(`bench: kernel a 7B block's linear layers in float32: ${f32.toFixed(1)} ms\n`);
        row(`a 7B block's 7 linear layers in bfloat16 (weights widened; float32 ${f32.toFixed(0)} ms), forward + input gradient`, t, R);
      });
    }
    const masks = medianMs(() => tidy(() => void dropoutMask(seeds, lengths, C, 0.05)), 50);
    process.stderr.write(`bench: kernel dropout masks of one module: ${masks.toFixed(3)} ms\n`);
    rows.push({ name: `kernel dropout masks of one module (${N} rows × ${C}; ms per call, lower is better; one path)`, unit: 'ms', iclit: masks });
  });
  return rows;
}
