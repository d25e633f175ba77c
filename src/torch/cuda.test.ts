// Opt-in GPU tier (ICLIT_TEST_GPU=1, a CUDA libtorch): tensors on the device agree with the CPU, autograd stays there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cudaIsAvailable, randn, tidy } from './index.js';
import { assertClose, gpuTests } from '../util/testing.js';

test('CUDA: matmul agrees with the CPU, gradients of a CUDA leaf are exact, bfloat16 runs', { skip: !gpuTests && 'set ICLIT_TEST_GPU=1 on a host whose libtorch has CUDA' }, () => {
  assert.ok(cudaIsAvailable(), 'ICLIT_TEST_GPU=1 but libtorch sees no CUDA device (is the binding built against a CUDA PyTorch?)');
  tidy(() => {
    const a = randn([256, 512]);
    const b = randn([512, 128]);
    const g = a.toDevice('cuda').matmul(b.toDevice('cuda'));
    assert.equal(g.device, 'cuda:0');
    // TF32 may be on for CUDA matmuls; 1e-3 absolute on sums of 512 products of unit normals
    assertClose(g.toFloat32Array(), a.matmul(b).toFloat32Array(), 1e-2, 1e-3, 'cuda matmul');
    const leaf = a.toDevice('cuda').detach().requiresGrad_();
    leaf.square().sum().backward();
    assert.equal(leaf.grad!.device, 'cuda:0');
    assertClose(leaf.grad!.toFloat32Array(), a.mul(2).toFloat32Array(), 0, 0, 'gradient of sum(x²)');
    const s = randn([64, 64]).toDevice('cuda').to('bfloat16').softmax(-1).sum().item();
    assert.ok(Math.abs(s - 64) < 0.5, `bf16 softmax rows sum to 1 (total ${s})`);
  });
});
