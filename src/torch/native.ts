// Loads the compiled libtorch binding (the one file that touches it), after setting the thread policy libtorch starts with.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IclitError } from '../util/errors.js';

export interface NativeTensor {
  readonly shape: number[];
  readonly dtype: string;
  readonly device: string;
  readonly disposed: boolean;
  readonly requiresGrad: boolean;
  readonly grad: NativeTensor | null;
  dispose(): void;
}

export interface NativeMappedFile {
  readonly size: number;
  close(): void;
}

export interface NativeCacheStats {
  cached: number;
  live: number;
  peakLive: number;
  limit: number;
}

export interface NativeCudaDevice {
  name: string;
  totalMemory: number;
  major: number;
  minor: number;
  free?: number;
}

type Arg = NativeTensor | number | boolean | string | number[] | NativeTensor[] | NativeMappedFile | ArrayBufferView | null | undefined;

export interface NativeBinding {
  MappedFile: new (path: string) => NativeMappedFile;
  toBuffer(t: NativeTensor): Buffer;
  item(t: NativeTensor): number;
  numel(t: NativeTensor): number;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  manualSeed(seed: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  blasThreads(): number | null;
  setBlasThreads(n: number): boolean;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  cudaVersion(): string | null;
  cudaDeviceInfo(index: number): NativeCudaDevice | null;
  disableTf32(): void;
  setEmulateBf16(on: boolean): void;
  emulateBf16(): boolean;
  setDirectKernels(on: boolean): void;
  directBlas(): boolean;
  cacheStats(): NativeCacheStats;
  trimCache(): number;
  resetPeak(): void;
  profileStart(path: string): void;
  profileStop(): void;
  version(): string;
  parallelInfo(): string;
  setRequiresGrad(t: NativeTensor, on: boolean): void;
  backward(t: NativeTensor, grad?: NativeTensor): void;
  zeroGrad(t: NativeTensor): void;
  copyInto(dst: NativeTensor, src: NativeTensor): void;
  [op: string]: unknown;
}

export type NativeOp = (...args: Arg[]) => NativeTensor;

function repoRoot(): string {
  // dist/src/torch/native.js or src/torch/native.ts → the package root holding native/
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new IclitError('cannot find the iclit package root (native/binding.gyp)');
}

// ---------- thread policy ----------
/*
 * libtorch parallelises elementwise ops and reductions over OpenMP threads; Debian's libtorch runs float32 GEMMs in
 * OpenBLAS, which keeps a pthread pool of its own. With OpenMP's default (active) wait policy, its threads spin after
 * every parallel region and fight OpenBLAS's threads for the cores: on 2 cores a float32 forward ran 10× slower and a
 * LoRA step 13× slower than with OMP_WAIT_POLICY=PASSIVE. Both libraries read their environment once, when they are loaded, so the policy is
 * set here, before the binding is required: every entry point (CLI, library import, tests, benchmarks) gets it.
 * A setting the user made in the environment is kept as it is.
 */
export interface ThreadChoice {
  name: string;
  value: string;
  /** 'environment' when the user set it before iclit started, 'iclit' when iclit did, or a later API caller. */
  by: string;
}

const chosen = new Map<string, ThreadChoice>();

function choose(name: string, value: string): void {
  const given = process.env[name];
  if (given !== undefined && given !== '') chosen.set(name, { name, value: given, by: 'environment' });
  else {
    process.env[name] = value;
    chosen.set(name, { name, value, by: 'iclit' });
  }
}

/** Records who set the libtorch intra-op thread count last (setNumThreads calls this). */
export function noteIntraOpThreads(n: number, by: string): void {
  chosen.set('intra-op', { name: 'intra-op', value: String(n), by });
}

function applyThreadPolicy(): void {
  const cores = availableParallelism();
  choose('OMP_WAIT_POLICY', 'PASSIVE');
  // OpenBLAS runs the GEMMs on every core while OpenMP's threads sleep, and OpenMP the elementwise ops while
  // OpenBLAS's sleep: the two pools take turns. OpenBLAS's idle workers would otherwise call sched_yield for 2^28
  // cycles after every GEMM (a third of a LoRA step's CPU time went to that); a timeout of 2^4 puts them to sleep at
  // once. With free cores this ran a LoRA step 1.3× faster than one BLAS thread (BENCHMARKS.md, thread policies).
  choose('OPENBLAS_NUM_THREADS', String(cores));
  choose('OPENBLAS_THREAD_TIMEOUT', '4');
  const omp = process.env.OMP_NUM_THREADS;
  if (omp !== undefined && omp !== '') chosen.set('intra-op', { name: 'intra-op', value: omp, by: 'environment (OMP_NUM_THREADS)' });
  else chosen.set('intra-op', { name: 'intra-op', value: String(cores), by: 'iclit (= cores)' });
}

let cpuBf16: boolean | undefined;

/** True when this CPU has bfloat16 arithmetic (AVX-512 BF16 or AMX), read from /proc/cpuinfo (or the text given). */
export function cpuHasNativeBf16(cpuinfo?: string): boolean {
  if (cpuinfo !== undefined) return /\b(avx512_bf16|amx_bf16)\b/.test(cpuinfo);
  if (cpuBf16 === undefined) {
    try {
      cpuBf16 = cpuHasNativeBf16(readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      cpuBf16 = false;
    }
  }
  return cpuBf16;
}

let loaded: NativeBinding | undefined;

export function binding(): NativeBinding {
  if (loaded) return loaded;
  const file = join(repoRoot(), 'native', 'build', 'Release', 'iclit_torch.node');
  if (!existsSync(file)) {
    throw new IclitError(`the libtorch binding is not built (${file} is missing): run \`npm install\` (needs libtorch: apt-get install -y libtorch-dev libopenblas0-pthread)`);
  }
  applyThreadPolicy();
  const require = createRequire(import.meta.url);
  const b = require(file) as NativeBinding;
  const intra = chosen.get('intra-op')!;
  if (intra.by.startsWith('iclit')) b.setNumThreads(Number(intra.value));
  b.disableTf32();
  // Without native bfloat16, libtorch's CPU bfloat16 GEMM is a scalar loop: widen to float32 (ICLIT_BF16_GEMM overrides).
  const gemm = process.env.ICLIT_BF16_GEMM;
  b.setEmulateBf16(gemm === 'widened' || (gemm !== 'native' && !cpuHasNativeBf16()));
  loaded = b;
  return b;
}

/** One line: libtorch intra-op threads, the OpenMP wait policy and the BLAS threads, each with who set it. */
export function threadSetup(): string {
  const b = binding();
  const intra = chosen.get('intra-op')!;
  const wait = chosen.get('OMP_WAIT_POLICY')!;
  const blas = chosen.get('OPENBLAS_NUM_THREADS')!;
  const blasNow = b.blasThreads();
  const cores = availableParallelism();
  const timeout = chosen.get('OPENBLAS_THREAD_TIMEOUT')!;
  const blasPart =
    blasNow === null
      ? 'no OpenBLAS loaded'
      : `OpenBLAS threads ${blasNow} (OPENBLAS_NUM_THREADS=${blas.value}, set by ${blas.by}; OPENBLAS_THREAD_TIMEOUT=${timeout.value}, set by ${timeout.by})`;
  return `threads: ${b.getNumThreads()} libtorch intra-op of ${cores} cores (set by ${intra.by}); OMP_WAIT_POLICY=${wait.value} (set by ${wait.by}); ${blasPart}`;
}

export function nativeOp(name: string): NativeOp {
  const fn = binding()[name];
  if (typeof fn !== 'function') throw new Error(`the native binding has no op ${name}`);
  return fn as NativeOp;
}
