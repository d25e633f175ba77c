// Where tensors live: resolving --device (cpu / cuda / cuda:N / auto), whether a device computes bfloat16 natively, and what to record about it.
import { readFileSync } from 'node:fs';
import { binding } from './native.js';
import { IclitError } from '../util/errors.js';

export interface ResolvedDevice {
  /** libtorch's device string: 'cpu' or 'cuda:N'. */
  device: string;
  /** Said to the user when the choice was not the one asked for (auto falling back to the CPU). */
  note?: string;
}

/** Resolves a --device value; 'cuda' on a libtorch without CUDA is an error in one line, 'auto' falls back to the CPU. */
export function resolveDevice(spec: string): ResolvedDevice {
  const b = binding();
  const m = /^(cpu|auto|cuda)(?::(\d+))?$/.exec(spec);
  if (!m || (m[2] !== undefined && m[1] !== 'cuda')) throw new IclitError(`device must be auto, cpu, cuda or cuda:N, got '${spec}'`);
  if (m[1] === 'cpu') return { device: 'cpu' };
  const cuda = b.cudaIsAvailable();
  if (m[1] === 'auto') return cuda ? { device: 'cuda:0' } : { device: 'cpu', note: 'no CUDA device is available to this libtorch; computing on the CPU' };
  if (!cuda) throw new IclitError(`device ${spec} was asked for, but this libtorch (${b.version()}) has no CUDA device available; install a CUDA build of PyTorch (see README, GPU set-up) or use --device cpu`);
  return { device: `cuda:${m[2] ?? 0}` };
}

/** CPU flags that mean native bfloat16 arithmetic (AVX-512 BF16, AMX). */
function cpuHasBf16(): boolean {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    return /\b(avx512_bf16|amx_bf16)\b/.test(flags);
  } catch {
    return false;
  }
}

/** Whether `device` computes bfloat16 natively (CUDA devices; CPUs with AVX-512 BF16 or AMX), so 'auto' picks it. */
export function nativeBf16(device: string): boolean {
  return device.startsWith('cuda') ? true : cpuHasBf16();
}

/** What a run records about where it computed. */
export interface DeviceInfo {
  device: string;
  libtorch: string;
  nativeBf16: boolean;
}

export function deviceInfo(device: string): DeviceInfo {
  return { device, libtorch: binding().version(), nativeBf16: nativeBf16(device) };
}
