// Devices and threads on a CPU-only host: --device resolution and refusals, device info, bf16 detection, creation on a device, thread policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { cpuHasNativeBf16, cudaIsAvailable, deviceInfo, full, nativeBf16, ones, resolveDevice, tensor, threadSetup, torchVersion, zeros, zerosLike } from './index.js';
import { IclitError, UsageError } from '../util/errors.js';

const cpuOnly = !cudaIsAvailable();

test('resolveDevice: cpu as is; auto falls back to the CPU with a note; cuda refused in one line; bad specs are usage errors', { skip: !cpuOnly && 'this host has CUDA' }, () => {
  assert.deepEqual(resolveDevice('cpu'), { device: 'cpu' });
  const auto = resolveDevice('auto');
  assert.equal(auto.device, 'cpu');
  assert.match(auto.note ?? '', /no CUDA device, so iclit runs on the CPU/);
  for (const spec of ['cuda', 'cuda:0', 'cuda:3']) {
    assert.throws(
      () => resolveDevice(spec),
      (e: unknown) => e instanceof IclitError && !(e instanceof UsageError) && !e.message.includes('\n') && new RegExp(`^--device ${spec}: this libtorch .* has no CUDA`).test(e.message),
      spec,
    );
  }
  for (const spec of ['gpu', 'cuda:', 'cuda:x', 'CPU', '']) {
    assert.throws(() => resolveDevice(spec), (e: unknown) => e instanceof UsageError && /--device must be cpu, cuda, cuda:N or auto/.test(e.message), spec);
  }
});

test('deviceInfo(cpu): CPU name, libtorch version, no CUDA, host memory, bf16 flag; cuda device names are refused when unknown', () => {
  const info = deviceInfo('cpu');
  assert.equal(info.device, 'cpu');
  assert.ok(info.name.length > 0);
  assert.equal(info.libtorch, torchVersion());
  if (cpuOnly) assert.equal(info.cuda, null);
  assert.ok((info.totalMemory ?? 0) > 2 ** 30);
  assert.equal(info.nativeBf16, cpuHasNativeBf16());
  assert.throws(() => deviceInfo('tpu'), /unknown device 'tpu'/);
});

test('nativeBf16: AVX-512 BF16 or AMX in /proc/cpuinfo flags; the CPU answer follows this host', () => {
  assert.equal(cpuHasNativeBf16('flags\t: fpu sse avx2 fma'), false);
  assert.equal(cpuHasNativeBf16('flags\t: fpu avx2 avx512f avx512_bf16 avx512_vnni'), true);
  assert.equal(cpuHasNativeBf16('flags\t: fpu avx2 amx_bf16 amx_tile'), true);
  assert.equal(cpuHasNativeBf16('flags\t: avx512_bf16x'), false, 'whole flags only');
  assert.equal(nativeBf16('cpu'), cpuHasNativeBf16());
});

test('creation ops take a device: an explicit cpu puts tensors on the CPU, like the default', () => {
  assert.equal(zeros([2, 3], 'float32', 'cpu').device, 'cpu');
  assert.equal(ones([2], 'bfloat16', 'cpu').dtype, 'bfloat16');
  assert.deepEqual(full([2], 7, 'float32', 'cpu').toArray(), [7, 7]);
  const t = tensor([1, 2, 3], [3], 'bfloat16', 'cpu');
  assert.equal(t.device, 'cpu');
  assert.deepEqual(zerosLike(t, 'float32').shape, [3]);
  assert.equal(zerosLike(t).dtype, 'bfloat16');
  assert.deepEqual(Array.from(t.toDeviceAs('cpu', 'float32').toFloat32Array()), [1, 2, 3]);
  if (cpuOnly) assert.throws(() => zeros([2], 'float32', 'cuda:0'), /CUDA/);
});

test('thread policy: OMP_WAIT_POLICY=PASSIVE, OpenBLAS threads and intra-op threads = cores by default, each said by threadSetup()', () => {
  const line = threadSetup();
  assert.ok(!line.includes('\n'));
  if (process.env.OMP_WAIT_POLICY === undefined) assert.match(line, /OMP_WAIT_POLICY=PASSIVE \(set by iclit\)/);
  if (process.env.OMP_NUM_THREADS === undefined) assert.match(line, new RegExp(`threads: ${availableParallelism()} libtorch intra-op of ${availableParallelism()} cores \\(set by iclit`));
  if (process.env.OPENBLAS_NUM_THREADS === undefined) assert.match(line, new RegExp(`OpenBLAS threads ${availableParallelism()} \\(OPENBLAS_NUM_THREADS=${availableParallelism()}, set by iclit; OPENBLAS_THREAD_TIMEOUT=4, set by iclit\\)|no OpenBLAS loaded`));
});

test('thread policy: settings the user made in the environment win and are reported as theirs', () => {
  const script = `import { threadSetup, getNumThreads } from ${JSON.stringify(new URL('./index.js', import.meta.url).href)};
    console.log(JSON.stringify({ line: threadSetup(), threads: getNumThreads() }));`;
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'ACTIVE', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
  delete env.OPENBLAS_THREAD_TIMEOUT; // this process's binding set it: the child must choose it itself
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { line: string; threads: number };
  assert.equal(out.threads, 1);
  assert.match(out.line, /threads: 1 libtorch intra-op .*\(set by environment \(OMP_NUM_THREADS\)\)/);
  assert.match(out.line, /OMP_WAIT_POLICY=ACTIVE \(set by environment\)/);
  assert.match(out.line, /OpenBLAS threads 1 \(OPENBLAS_NUM_THREADS=1, set by environment; OPENBLAS_THREAD_TIMEOUT=4, set by iclit\)|no OpenBLAS loaded/);
});
