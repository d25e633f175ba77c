// What `iclit doctor` looks at: libtorch and the binding, CUDA, threads, BLAS, bf16 support, Chromium, and a model folder's load and memory cost.
import { checkInputDir } from '../../util/fs.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { CheckpointWeights, decoderWeightShapes, matchCheckpoint, readDecoderConfig, type DecoderConfig } from '../../io/index.js';
import { ChatTemplate, Tokenizer } from '../../tokenizers/index.js';
import { cpuHasNativeBf16, cudaDeviceCount, cudaIsAvailable, deviceInfo, getNumThreads, parallelInfo, threadSetup, torchVersion } from '../../torch/index.js';
import { LORA_DEFAULTS } from '../../lora/index.js';
import { studyMemory, type ComputeDType, type StudyMemory } from '../../models/index.js';
import { repoRoot } from '../../util/paths.js';

export interface LibtorchInfo {
  /** How find-libtorch.cjs (the build's own search) finds libtorch now: LIBTORCH, a Python torch, or Debian's. */
  foundBy: string | null;
  lib: string | null;
  /** The binding file and whether it loads. */
  binding: string;
  loaded: boolean;
  version: string | null;
  /** libtorch_cpu actually mapped into this process. */
  loadedFrom: string | null;
  cudaBuild: boolean;
  error?: string;
}

export interface RuntimeInfo {
  iclit: { version: string; node: string; platform: string };
  libtorch: LibtorchInfo;
  cuda: { available: boolean; devices: { index: number; name: string; totalMemory: number }[]; note?: string };
  threads: { inForce: number | null; policy: string; cores: number; parallelBackend: string | null; env: Record<string, string | null> };
  blas: { library: string | null; how: string };
  cpu: { model: string; bf16: 'native' | 'emulated'; flags: string[] };
  chromium: { path: string; found: boolean; version: string | null };
  memory: { total: number; free: number };
}

const THREAD_ENV = ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'];

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 }).trim();
  } catch {
    return null;
  }
}

/** Shared libraries mapped into this process (after the binding loaded: libtorch and its BLAS). */
function mappedLibraries(): string[] {
  try {
    const paths = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)[5]).filter((p) => p && p.startsWith('/'));
    return [...new Set(paths)];
  } catch {
    return [];
  }
}

function libtorchInfo(): LibtorchInfo {
  const bindingFile = join(repoRoot(), 'native', 'build', 'Release', 'iclit_torch.node');
  let foundBy: string | null = null;
  let lib: string | null = null;
  let cudaBuild = false;
  try {
    const find = createRequire(import.meta.url)(join(repoRoot(), 'native', 'find-libtorch.cjs')) as {
      findLibtorch(): { source: string; lib: string } | null;
      cudaLibs(lib: string): string[];
    };
    const found = find.findLibtorch();
    foundBy = found?.source ?? null;
    lib = found?.lib ?? null;
    cudaBuild = found ? find.cudaLibs(found.lib).length > 0 : false;
  } catch (e) {
    foundBy = null;
    lib = `search failed: ${(e as Error).message}`;
  }
  try {
    const version = torchVersion();
    const loadedFrom = mappedLibraries().find((p) => /libtorch_cpu\.so/.test(p)) ?? null;
    return { foundBy, lib, binding: bindingFile, loaded: true, version, loadedFrom, cudaBuild };
  } catch (e) {
    return { foundBy, lib, binding: bindingFile, loaded: false, version: null, loadedFrom: null, cudaBuild, error: (e as Error).message.split('\n')[0] };
  }
}

/** The BLAS libtorch computes with: a BLAS library mapped into the process, else what libtorch reports (MKL inside pip wheels). */
function blasInfo(loaded: boolean): RuntimeInfo['blas'] {
  if (!loaded) return { library: null, how: 'the binding did not load' };
  const libs = mappedLibraries();
  const blas = libs.find((p) => /openblas/i.test(p)) ?? libs.find((p) => /libmkl|libblis|libblas/i.test(p));
  if (blas) return { library: blas, how: 'mapped into this process by libtorch' };
  const mkl = /^\s*(Intel\(R\) (?:oneAPI )?Math Kernel Library[^\n]*)/m.exec(parallelInfo());
  if (mkl) return { library: mkl[1].trim(), how: 'linked into libtorch (at::get_parallel_info)' };
  return { library: null, how: 'no BLAS library found in the process' };
}

/** The CPU model and its bf16-relevant flags; native or emulated as src/torch decides it (cpuHasNativeBf16). */
export function bf16Support(cpuinfo: string): RuntimeInfo['cpu'] {
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(/\s+/).filter(Boolean));
  const relevant = ['avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile'].filter((f) => flags.has(f));
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return { model, bf16: cpuHasNativeBf16(relevant.join(' ')) ? 'native' : 'emulated', flags: relevant };
}

function cudaInfo(lt: LibtorchInfo): RuntimeInfo['cuda'] {
  if (!lt.loaded) return { available: false, devices: [], note: 'the binding did not load' };
  const available = cudaIsAvailable();
  if (!available) return { available, devices: [], note: lt.cudaBuild ? 'libtorch has CUDA but no device is visible' : 'this libtorch is CPU-only' };
  const devices = Array.from({ length: cudaDeviceCount() }, (_, index) => {
    const d = deviceInfo(`cuda:${index}`);
    return { index, name: d.name, totalMemory: d.totalMemory ?? 0 };
  });
  return { available, devices };
}

function threadInfo(loaded: boolean, explicit: number | undefined): RuntimeInfo['threads'] {
  const cores = availableParallelism();
  const env = Object.fromEntries(THREAD_ENV.map((k) => [k, process.env[k] ?? null]));
  const policy = !loaded ? (explicit !== undefined ? `--threads ${explicit}` : `all ${cores} cores`) : threadSetup();
  if (!loaded) return { inForce: null, policy, cores, parallelBackend: null, env };
  const backend = /ATen parallel backend:\s*(.*)/.exec(parallelInfo())?.[1]?.trim() ?? null;
  return { inForce: getNumThreads(), policy, cores, parallelBackend: backend, env };
}

function chromiumInfo(): RuntimeInfo['chromium'] {
  const path = process.env.ICLIT_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) return { path, found: false, version: null };
  return { path, found: true, version: run(path, ['--version']) };
}

/** Everything about this machine; `threads` is the --threads value the command was given (already applied). */
export function probeRuntime(version: string, threads: number | undefined): RuntimeInfo {
  const libtorch = libtorchInfo();
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: the flags are unknown and bf16 counts as emulated
  }
  return {
    iclit: { version, node: process.version, platform: `${process.platform}-${process.arch}` },
    libtorch,
    cuda: cudaInfo(libtorch),
    threads: threadInfo(libtorch.loaded, threads),
    blas: blasInfo(libtorch.loaded),
    cpu: bf16Support(cpuinfo),
    chromium: chromiumInfo(),
    memory: { total: totalmem(), free: freemem() },
  };
}

// ---------- a model folder ----------

/** A study's memory on the model (src/models/study-memory.ts) and what it was estimated for. */
export interface MemoryEstimate extends StudyMemory {
  dtype: ComputeDType;
  batch: number;
  tokens: number;
}

export interface ModelInfo {
  dir: string;
  loads: boolean;
  config?: { modelType: string; layers: number; hidden: number; heads: number; kvHeads: number; vocab: number; tied: boolean };
  weights?: { files: number; stored: string[]; parameters: number; bytesOnDisk: number };
  tokenizer?: { vocabSize: number; bos: number | null; eos: number | null; chatTemplate: boolean };
  warnings: string[];
  problems: string[];
  memory?: MemoryEstimate;
}

/** Checks that `dir` loads (config, every weight's header, name, shape and finiteness, tokenizer) and estimates a study's memory on it. */
export async function probeModel(dir: string, dtype: ComputeDType, batch: number, tokens: number): Promise<ModelInfo> {
  const info: ModelInfo = { dir, loads: false, warnings: [], problems: [] };
  try {
    checkInputDir(dir, 'model folder');
  } catch (e) {
    info.problems.push((e as Error).message);
    return info;
  }
  let config: DecoderConfig | undefined;
  try {
    config = readDecoderConfig(dir);
    info.config = { modelType: config.modelType, layers: config.numLayers, hidden: config.hiddenSize, heads: config.numHeads, kvHeads: config.numKvHeads, vocab: config.vocabSize, tied: config.tieWordEmbeddings };
  } catch (e) {
    info.problems.push((e as Error).message);
  }
  if (config) {
    try {
      const w = CheckpointWeights.open(dir);
      try {
        const warning = matchCheckpoint(w, decoderWeightShapes(config).keys(), config.numLayers);
        if (warning) info.warnings.push(warning);
        const names = w.names();
        const stored = [...new Set(names.map((n) => w.info(n)!.dtype))].sort();
        const bytes = names.reduce((s, n) => s + w.info(n)!.byteLength, 0);
        const params = names.reduce((s, n) => s + w.info(n)!.shape.reduce((a, b) => a * b, 1), 0);
        info.weights = { files: w.fileCount, stored, parameters: params, bytesOnDisk: bytes };
        // Every weight the config uses, read in its stored dtype (a mapped view) and checked finite, as a load does.
        for (const [name, shape] of decoderWeightShapes(config)) w.get(name, shape, w.info(name)!.dtype).dispose();
      } finally {
        w.close();
      }
    } catch (e) {
      info.problems.push((e as Error).message);
    }
    info.memory = { dtype, batch, tokens, ...studyMemory(config, dtype, LORA_DEFAULTS, batch, tokens) };
  }
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    info.problems.push(`${join(dir, 'tokenizer.json')} not found (a study tokenises text with the model's own tokenizer)`);
  } else {
    try {
      const tok = await Tokenizer.load(dir);
      info.tokenizer = { vocabSize: tok.vocabSize, bos: tok.bosId ?? null, eos: tok.eosId ?? null, chatTemplate: hasChatTemplate(dir) };
      if (config && tok.vocabSize > config.vocabSize) info.problems.push(`the tokenizer has ${tok.vocabSize} ids but config.json's vocab_size is ${config.vocabSize}`);
    } catch (e) {
      info.problems.push((e as Error).message);
    }
  }
  info.loads = info.problems.length === 0;
  return info;
}

function hasChatTemplate(dir: string): boolean {
  try {
    ChatTemplate.load(dir);
    return true;
  } catch {
    return false;
  }
}
