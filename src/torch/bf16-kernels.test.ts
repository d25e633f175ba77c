// CPU bfloat16 through the float32 kernels: each op against the float32 kernel rounded once and against float64 on the same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cat, manualSeed, packedAttention, randn, rmsNorm, rope, swiglu, tensor, tidy, type Tensor } from './index.js';
import { eachKernelPath } from './testing.js';
import { assertClose } from '../util/testing.js';

/** Output and the gradients of Σ g ⊙ f(inputs) for the first `withGrad` inputs (fresh leaves, their dtype kept), as float32 arrays. */
function run(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], g: Tensor, withGrad: number): Float32Array[] {
  const leaves = inputs.map((x, i) => (i < withGrad ? x.detach().requiresGrad_() : x));
  const out = f(...leaves);
  out.to('float32').mul(g.to('float32')).sum().backward();
  return [out.toFloat32Array(), ...leaves.slice(0, withGrad).map((l) => l.grad!.toFloat32Array())];
}

/**
 * f on bfloat16 inputs, against f on the same values in float64 rounded to bfloat16 once. With the kernels on, each
 * op is one float32 computation rounded once, so outputs stay within a bfloat16 rounding of float64 (2⁻⁸ relative,
 * plus 2⁻⁸ of the largest value where a sum cancels); gradients pass two or three bfloat16 roundings (the incoming
 * gradient, the result, autograd's sums), so 2⁻⁶. The libtorch ops round after every op; they are held to 2⁻⁵. With
 * the kernels on, each result is also exactly the float32 kernel's on the widened values, rounded — or, where float32
 * runs libtorch's ops instead (`exact` false: SwiGLU, whose loop has its own exponential), within one bfloat16 step of it.
 */
function againstFloat64(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], withGrad = inputs.length, exact = true): void {
  const bf = inputs.map((x) => x.to('bfloat16'));
  const wide = bf.map((x) => x.to('float64'));
  const g = randn(f(...wide).shape).to('bfloat16');
  const want = run(f, wide, g.to('float64'), withGrad).map((a) => tensor(Array.from(a), [a.length]).to('bfloat16').toFloat32Array());
  const scale = want.map((a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  // the float32 kernels on the widened values (and the widened incoming gradient), each result rounded to bfloat16
  const roundedOnce = run(f, bf.map((x) => x.to('float32')), g.to('float32'), withGrad).map((a) => tensor(Array.from(a), [a.length]).to('bfloat16').toFloat32Array());
  eachKernelPath((path) => {
    const got = run(f, bf, g, withGrad);
    const direct = path === 'direct kernels';
    got.forEach((a, i) => {
      const what = `${name}, ${path}: ${i === 0 ? 'output' : `gradient of input ${i - 1}`}`;
      if (direct && exact) assert.deepEqual(a, roundedOnce[i], `${what} is the float32 kernel's, rounded once`);
      // (1e-30: for gates below −88 libtorch's e^(−g) overflows to a silu of 0, the loop's clamp leaves ~1e-37)
      if (direct && !exact) assertClose(a, roundedOnce[i], 1e-30, 2 ** -7, `${what} is within a bfloat16 step of the float32 op's, rounded once`);
      const rtol = direct ? (i === 0 ? 2 ** -8 : 2 ** -6) : 2 ** -5;
      assertClose(a, want[i], rtol * scale[i], rtol, `${what} against float64`);
    });
  });
}

test('bfloat16 on the CPU: RMSNorm, RoPE, SwiGLU and packed attention are float32 kernels on the widened values, rounded once; gradients too', () => {
  manualSeed(21);
  tidy(() => {
    againstFloat64('rmsNorm', (x, w) => rmsNorm(x, w, 1e-5), [randn([37, 64]), randn([64])], 1); // a frozen weight, as the model's
    const cos = randn([9, 1, 16]);
    const sin = randn([9, 1, 16]);
    againstFloat64('rope', (x, c, s) => rope(x, c, s), [randn([9, 3, 16]), cos, sin], 1); // the tables take no gradient
    // gates up to ±120: past the loop's clamp of the exponential
    againstFloat64('swiglu', (g, u) => swiglu(g, u), [cat([randn([40, 48]).mul(4), randn([2, 48]).mul(40)], 0), randn([42, 48])], 2, false);
    const lengths = [5, 1, 9];
    againstFloat64('packedAttention', (q, k, v) => packedAttention(q, k, v, lengths, 0.35, null), [randn([15, 4, 8]), randn([15, 2, 8]), randn([15, 2, 8])]);
  });
});
