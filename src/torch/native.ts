// Loads the compiled libtorch binding; the one file in the project that touches it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
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
  cudaIsAvailable(): boolean;
  cudaSynchronize(): void;
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

let loaded: NativeBinding | undefined;

export function binding(): NativeBinding {
  if (loaded) return loaded;
  const file = join(repoRoot(), 'native', 'build', 'Release', 'iclit_torch.node');
  if (!existsSync(file)) {
    throw new IclitError(`the libtorch binding is not built (${file} is missing): run \`npm install\` (needs libtorch: apt-get install -y libtorch-dev libopenblas0-pthread)`);
  }
  const require = createRequire(import.meta.url);
  loaded = require(file) as NativeBinding;
  return loaded;
}

export function nativeOp(name: string): NativeOp {
  const fn = binding()[name];
  if (typeof fn !== 'function') throw new Error(`the native binding has no op ${name}`);
  return fn as NativeOp;
}
