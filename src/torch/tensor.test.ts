// The binding's tensors: conversions, ops against hand values, autograd, scopes and memory that does not grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, cat, crossEntropy, disposeTree, fromBytes, keep, keepTree, layerNorm, linear, manualSeed, noGrad, randn, setNumThreads, getNumThreads, tensor, tidy, tidyNoGrad, treeLeaves, where, zeros, type Tensor } from './index.js';
import { assertClose } from '../util/testing.js';

test('round trips: float32, float16, bfloat16, int64, bool', () => {
  const v = [1.5, -2.25, 3, 0];
  assert.deepEqual(Array.from(tensor(v, [2, 2]).toFloat32Array()), v);
  assert.deepEqual(Array.from(tensor(v, [4], 'float16').toFloat32Array()), v);
  assert.deepEqual(Array.from(tensor(v, [4], 'bfloat16').toFloat32Array()), v);
  assert.deepEqual(tensor([3, -1, 2 ** 40], [3], 'int64').toIntArray(), [3, -1, 2 ** 40]);
  assert.deepEqual(tensor([1, 0, 1], [3], 'bool').toIntArray(), [1, 0, 1]);
  // bfloat16 from raw bits: 0x3fc0 = 1.5
  assert.deepEqual(Array.from(fromBytes(Uint16Array.from([0x3fc0]), 'bfloat16', [1]).toFloat32Array()), [1.5]);
  const t = tensor(v, [2, 2]);
  assert.deepEqual(t.shape, [2, 2]);
  assert.equal(t.dtype, 'float32');
  assert.equal(t.device, 'cpu');
  assert.throws(() => fromBytes(new Float32Array(3), 'float32', [2, 2]), /buffer holds 12 bytes, shape needs 16/);
});

test('ops agree with hand-computed values', () => {
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
  assert.deepEqual(Array.from(a.matmul(b).toFloat32Array()), [4, 5, 10, 11]);
  assert.deepEqual(Array.from(linear(a, b.transpose(0, 1), tensor([10, 20], [2])).toFloat32Array()), [14, 25, 20, 31]);
  assertClose(a.softmax(-1).toFloat32Array(), [0.09003057, 0.24472847, 0.66524096, 0.09003057, 0.24472847, 0.66524096], 1e-7);
  assertClose(a.logSoftmax(-1).sum().toArray(), [2 * (Math.log(0.09003057) + Math.log(0.24472847) + Math.log(0.66524096))], 1e-5);
  assert.deepEqual(Array.from(a.sum(1).toFloat32Array()), [6, 15]);
  assert.deepEqual(Array.from(a.mean(0, true).toFloat32Array()), [2.5, 3.5, 4.5]);
  assert.deepEqual(Array.from(a.slice(1, 1, 3).toFloat32Array()), [2, 3, 5, 6]);
  assert.deepEqual(Array.from(a.permute([1, 0]).contiguous().toFloat32Array()), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(Array.from(cat([a, a], 0).reshape([4, 3]).select(0, 3).toFloat32Array()), [4, 5, 6]);
  assert.deepEqual(Array.from(a.indexSelect(1, tensor([2, 0], [2], 'int64')).toFloat32Array()), [3, 1, 6, 4]);
  assert.deepEqual(Array.from(a.gather(1, tensor([[1], [2]].flat(), [2, 1], 'int64')).toFloat32Array()), [2, 6]);
  assert.deepEqual(Array.from(where(a.gt(3), a, 0).toFloat32Array()), [0, 0, 0, 4, 5, 6]);
  assert.deepEqual(Array.from(a.maskedFill(a.lt(2), -1).toFloat32Array()), [-1, 2, 3, 4, 5, 6]);
  assert.deepEqual(arange(0, 4).toIntArray(), [0, 1, 2, 3]);
  const ln = layerNorm(tensor([1, 2, 3], [1, 3]), [3], null, null, 0);
  assertClose(ln.toFloat32Array(), [-1.2247449, 0, 1.2247449], 1e-6);
  // cross-entropy of logits [0, ln 3] against class 1 = -log(3/4)
  assertClose(crossEntropy(tensor([0, Math.log(3)], [1, 2]), tensor([1], [1], 'int64')).toArray(), [-Math.log(0.75)], 1e-6);
  assert.throws(() => a.matmul(a), /cannot be multiplied/);
});

test('autograd: gradients, no-grad scopes, zeroGrad', () => {
  const x = tensor([1, 2, 3], [3]).requiresGrad_();
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  x.zeroGrad();
  assert.equal(x.grad, null);
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(x.mul(2).requiresGrad, true);
});

test('seeds make random tensors reproducible; thread count is settable', () => {
  manualSeed(42);
  const a = randn([5]).toArray();
  manualSeed(42);
  assert.deepEqual(randn([5]).toArray(), a);
  const before = getNumThreads();
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(before);
});

test('tidy disposes temporaries, keeps what is returned or kept', () => {
  let temp: ReturnType<typeof zeros> | undefined;
  let kept: ReturnType<typeof zeros> | undefined;
  const out = tidy(() => {
    temp = zeros([2]);
    kept = keep(zeros([2]));
    return { result: temp.add(1) };
  });
  assert.equal(temp!.disposed, true);
  assert.equal(kept!.disposed, false);
  assert.equal(out.result.disposed, false);
  assert.throws(() => temp!.add(1), /after dispose/);
});

test('to(dtype) shares storage when the dtype already matches (as PyTorch); cloneAs always copies', () => {
  const a = tensor([1, 2, 3], [3]);
  const same = a.to('float32');
  const copy = a.cloneAs('float32');
  same.copy_(tensor([7, 8, 9], [3]));
  assert.deepEqual(a.toArray(), [7, 8, 9], 'to() of a float32 tensor to float32 is a view of it');
  assert.deepEqual(copy.toArray(), [1, 2, 3], 'cloneAs() has its own memory');
  const half = a.to('bfloat16');
  half.copy_(tensor([0, 0, 0], [3], 'bfloat16'));
  assert.deepEqual(a.toArray(), [7, 8, 9], 'a converting to() copies');
  same.dispose();
  assert.equal(a.disposed, false, 'disposing the view leaves the original');
});

test('tidy keeps tensors at any depth of arrays, Maps, Sets and plain objects', () => {
  let deep: Tensor | undefined;
  const out = tidy(() => {
    deep = zeros([1]);
    let nest: unknown = { t: deep };
    for (let i = 0; i < 10; i++) nest = i % 3 === 0 ? [nest] : i % 3 === 1 ? new Map([['k', nest]]) : { inner: nest };
    return { nest, set: new Set([zeros([2])]) };
  });
  assert.equal(deep!.disposed, false, 'a tensor ten levels down survives');
  assert.equal([...out.set][0].disposed, false);
});

test('tidy refuses a scope tensor hidden in a class instance instead of freeing it silently', () => {
  class Holder {
    constructor(readonly t: Tensor) {}
  }
  let inside: Tensor | undefined;
  assert.throws(
    () =>
      tidy(() => {
        inside = zeros([2]);
        return { holder: new Holder(inside) };
      }),
    /tidy: the result holds a tensor created in this scope at result\.holder\.t, inside a Holder/,
  );
  assert.equal(inside!.disposed, true, 'the scope is still cleaned up');
  const outer = keep(zeros([2]));
  const ok = tidy(() => new Holder(outer));
  assert.equal(ok.t.disposed, false, 'a tensor from outside the scope may sit in a class instance');
});

test('tidyNoGrad records no graph and frees its temporaries', () => {
  const x = tensor([1, 2], [2]).requiresGrad_();
  let temp: Tensor | undefined;
  const y = tidyNoGrad(() => {
    temp = x.mul(3);
    return temp.add(1);
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(temp!.disposed, true);
  assert.deepEqual(y.toArray(), [4, 7]);
});

test('tensor trees: treeLeaves finds every tensor, keepTree lets a tree out of tidy, disposeTree frees it in one call', () => {
  const state = tidy(() => keepTree({ count: 3, m: new Map([['a', zeros([2])], ['b', zeros([3])]]), v: [zeros([1]), { w: zeros([4]) }] }));
  const leaves = treeLeaves(state);
  assert.equal(leaves.length, 4);
  assert.ok(leaves.every((t) => !t.disposed));
  disposeTree(state);
  assert.ok(leaves.every((t) => t.disposed));
  disposeTree(state); // twice is harmless
});

test('a 1000-step training-like loop does not grow memory', () => {
  const w = randn([256, 256]).requiresGrad_();
  const step = () =>
    tidy(() => {
      const x = randn([64, 256]);
      const loss = x.matmul(w).tanh().square().mean();
      loss.backward();
      noGrad(() => w.copy_(w.sub(w.grad!.mul(1e-3))));
      w.zeroGrad();
    });
  for (let i = 0; i < 100; i++) step(); // warm up allocator caches
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) step();
  const grownMb = (process.memoryUsage().rss - before) / 1e6;
  // Each step allocates ~0.5 MB of tensors; a leak would add ~500 MB.
  assert.ok(grownMb < 40, `RSS grew by ${grownMb.toFixed(1)} MB over 1000 steps`);
});
