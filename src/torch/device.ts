// Devices: resolving --device, what a device is (name, versions, memory), and whether it computes bfloat16 natively.
import { cpus, totalmem } from 'node:os';
import { binding, cpuHasNativeBf16 } from './native.js';

export { cpuHasNativeBf16 };
import { IclitError, UsageError } from '../util/errors.js';

/** What --device accepts. */
export type DeviceSpec = 'cpu' | 'cuda' | `cuda:${number}` | 'auto';

export interface ResolvedDevice {
  /** 'cpu' or 'cuda:N' (the form tensors report). */
  device: string;
  /** Set when the choice was not literally what was asked ('auto'). */
  note?: string;
}

function cudaIndex(spec: string): number | undefined {
  if (spec === 'cuda') return 0;
  const m = /^cuda:(\d+)$/.exec(spec);
  return m ? Number(m[1]) : undefined;
}

/**
 * Resolves a --device value. 'cuda' on a libtorch without CUDA, or a CUDA index the host does not have, is an
 * IclitError of one line; 'auto' is the first CUDA device when libtorch has one, else the CPU (with a note).
 */
export function resolveDevice(spec: string): ResolvedDevice {
  const b = binding();
  if (spec === 'cpu') return { device: 'cpu' };
  if (spec === 'auto') {
    if (b.cudaIsAvailable() && b.cudaDeviceCount() > 0) return { device: 'cuda:0', note: `--device auto: using cuda:0 (${deviceInfo('cuda:0').name})` };
    return { device: 'cpu', note: `--device auto: this libtorch ${b.version()} sees no CUDA device, so iclit runs on the CPU` };
  }
  const index = cudaIndex(spec);
  if (index === undefined) throw new UsageError(`--device must be cpu, cuda, cuda:N or auto, got '${spec}'`);
  if (!b.cudaIsAvailable()) {
    throw new IclitError(`--device ${spec}: this libtorch ${b.version()} has no CUDA (CPU-only build or no GPU); build the binding against a CUDA PyTorch (README, "GPU set-up") or use --device cpu`);
  }
  const count = b.cudaDeviceCount();
  if (index >= count) throw new IclitError(`--device ${spec}: this host has ${count} CUDA device${count === 1 ? '' : 's'} (cuda:0${count > 1 ? `..cuda:${count - 1}` : ''})`);
  return { device: `cuda:${index}` };
}

/** How many CUDA devices this libtorch sees (0 on a CPU-only build). */
export function cudaDeviceCount(): number {
  const b = binding();
  return b.cudaIsAvailable() ? b.cudaDeviceCount() : 0;
}

export interface DeviceInfo {
  device: string;
  /** CPU model or GPU name. */
  name: string;
  /** libtorch version the binding runs on. */
  libtorch: string;
  /** CUDA runtime version libtorch was built with (null on a CPU-only libtorch). */
  cuda: string | null;
  /** Bytes of memory of the device (host RAM for the CPU) when known. */
  totalMemory?: number;
  /** Bytes free on a CUDA device right now, when the driver says. */
  freeMemory?: number;
  /** Whether the device computes bfloat16 natively (see nativeBf16). */
  nativeBf16: boolean;
}

/** What `device` ('cpu' or 'cuda:N', as resolveDevice returns) is. */
export function deviceInfo(device: string): DeviceInfo {
  const b = binding();
  const cuda = b.cudaVersion();
  const libtorch = b.version();
  if (device === 'cpu') return { device, name: cpus()[0]?.model?.trim() || 'cpu', libtorch, cuda, totalMemory: totalmem(), nativeBf16: cpuHasNativeBf16() };
  const index = cudaIndex(device);
  if (index === undefined) throw new IclitError(`unknown device '${device}'`);
  const info = b.cudaDeviceInfo(index);
  return {
    device,
    name: info?.name ?? `CUDA device ${index}`,
    libtorch,
    cuda,
    ...(info ? { totalMemory: info.totalMemory } : {}),
    ...(info?.free !== undefined ? { freeMemory: info.free } : {}),
    nativeBf16: info !== null && info.major >= 8,
  };
}

/**
 * Whether `device` computes bfloat16 natively: a CUDA device of compute capability 8.0 or newer (Ampere on), or a
 * CPU with AVX-512 BF16 / AMX. Elsewhere iclit runs bfloat16 GEMMs as float32 GEMMs on exactly widened operands.
 */
export function nativeBf16(device: string): boolean {
  if (device === 'cpu') return cpuHasNativeBf16();
  const index = cudaIndex(device);
  if (index === undefined) throw new IclitError(`unknown device '${device}'`);
  const info = binding().cudaDeviceInfo(index);
  return info !== null && info.major >= 8;
}
