// Opt-in GPU tier (ICLIT_TEST_GPU=1, a CUDA libtorch): tensors and the fused ops on the device agree with the CPU; device info.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cudaIsAvailable, deviceInfo, dropoutMask, manualSeed, nativeBf16, packedAttention, randn, resolveDevice, rmsNorm, rope, segmentLora, tidy } from './index.js';
import { assertClose, gpuDevice, gpuTests } from '../util/testing.js';

const skip = !gpuTests && 'set ICLIT_TEST_GPU=1 on a host whose libtorch has CUDA';
const onGpu = gpuDevice !== 'cpu';

test('CUDA: matmul agrees with the CPU (no TF32), gradients of a CUDA leaf are exact, bfloat16 runs', { skip }, () => {
  if (onGpu) assert.ok(cudaIsAvailable(), 'ICLIT_TEST_GPU=1 but libtorch sees no CUDA device (is the binding built against a CUDA PyTorch?)');
  tidy(() => {
    const a = randn([256, 512]);
    const b = randn([512, 128]);
    const g = a.toDevice(gpuDevice).matmul(b.toDevice(gpuDevice));
    assert.equal(g.device, gpuDevice);
    // TF32 is off, so a float32 GEMM of unit normals agrees to float32 rounding of a 512-term sum
    assertClose(g.toFloat32Array(), a.matmul(b).toFloat32Array(), 1e-4, 1e-5, 'cuda matmul');
    const leaf = a.toDevice(gpuDevice).detach().requiresGrad_();
    leaf.square().sum().backward();
    assert.equal(leaf.grad!.device, gpuDevice);
    assertClose(leaf.grad!.toFloat32Array(), a.mul(2).toFloat32Array(), 0, 0, 'gradient of sum(x²)');
    const s = randn([64, 64]).toDevice(gpuDevice).to('bfloat16').softmax(-1).sum().item();
    assert.ok(Math.abs(s - 64) < 0.5, `bf16 softmax rows sum to 1 (total ${s})`);
  });
});

test('CUDA: resolveDevice and deviceInfo name the GPU, its memory and CUDA version; it computes bf16 natively', { skip: (!gpuTests || !onGpu) && 'set ICLIT_TEST_GPU=1 on a CUDA host' }, () => {
  assert.deepEqual(resolveDevice('cuda'), { device: 'cuda:0' });
  assert.equal(resolveDevice('auto').device, 'cuda:0');
  assert.match(resolveDevice('auto').note ?? '', /using cuda:0/);
  const info = deviceInfo('cuda:0');
  assert.ok(info.name.length > 0 && info.name !== 'CUDA device 0', `name ${info.name}`);
  assert.match(info.cuda ?? '', /^\d+\.\d+$/);
  assert.ok((info.totalMemory ?? 0) > 2 ** 30);
  assert.equal(nativeBf16('cuda:0'), true, 'an Ampere-or-newer GPU');
  assert.throws(() => resolveDevice('cuda:99'), /this host has \d+ CUDA device/);
});

test('CUDA: packed attention, RMSNorm, RoPE and segment LoRA agree with the CPU within 1e-5; dropout masks keep 1 − p and equal the CPU\'s bit for bit', { skip }, () => {
  manualSeed(7);
  tidy(() => {
    const lengths = [7, 2, 12];
    const q = randn([21, 6, 16]);
    const k = randn([21, 2, 16]);
    const v = randn([21, 2, 16]);
    const on = (t: ReturnType<typeof randn>) => t.toDevice(gpuDevice);
    assertClose(packedAttention(on(q), on(k), on(v), lengths, 0.25, 5).toFloat32Array(), packedAttention(q, k, v, lengths, 0.25, 5).toFloat32Array(), 1e-5, 0, 'attention');
    const w = randn([16]);
    assertClose(rmsNorm(on(q), on(w), 1e-6).toFloat32Array(), rmsNorm(q, w, 1e-6).toFloat32Array(), 1e-5, 1e-5, 'rmsNorm');
    const cos = randn([21, 1, 16]);
    const sin = randn([21, 1, 16]);
    assertClose(rope(on(q), on(cos), on(sin)).toFloat32Array(), rope(q, cos, sin).toFloat32Array(), 1e-5, 0, 'rope');
    const A = randn([3, 4, 16]);
    const B = randn([3, 8, 4]);
    const h = randn([21, 16]);
    assertClose(segmentLora(on(h), on(A), on(B), lengths).toFloat32Array(), segmentLora(h, A, B, lengths).toFloat32Array(), 1e-4, 1e-5, 'segment LoRA');
    const mask = dropoutMask([1, 2, 3], [300, 300, 300], 64, 0.05, gpuDevice);
    assert.equal(mask.device, gpuDevice);
    const kept = mask.ne(0).to('float32').mean().item();
    assert.ok(Math.abs(kept - 0.95) < 0.01, `kept ${kept}`);
    assert.deepEqual(dropoutMask([2], [300], 64, 0.05, gpuDevice).toFloat32Array(), mask.slice(0, 300, 600).toFloat32Array(), 'a sequence\'s mask depends on its seed only');
    assert.deepEqual(mask.toFloat32Array(), dropoutMask([1, 2, 3], [300, 300, 300], 64, 0.05).toFloat32Array(), 'the device draws the same mask as the CPU');
  });
});
