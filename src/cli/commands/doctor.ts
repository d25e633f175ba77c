// `iclit doctor`: what a user needs to know before a long run — libtorch, CUDA, threads, BLAS, bf16, Chromium, and a model folder's load and memory cost.
import { localOrHub } from '../../io/index.js';
import { UsageError } from '../../util/errors.js';
import { version } from '../../util/version.js';
import { num, oneOf, str, type Command } from '../args.js';
import { applyThreads } from '../common.js';
import { probeModel, probeRuntime, type ModelInfo, type RuntimeInfo } from './doctor-probe.js';

export interface DoctorReport extends RuntimeInfo {
  model?: ModelInfo;
  /** Things that stop a study from running (the exit code is 1 when there are any). */
  problems: string[];
  /** Things worth knowing that do not stop a run (slow paths, optional pieces missing). */
  notes: string[];
}

export const doctor: Command = {
  name: 'doctor',
  summary: 'check this machine (libtorch, CUDA, threads, BLAS, bf16, Chromium) and, with --model, that a model folder loads and what a study on it costs in memory',
  usage: 'doctor [--model DIR [--dtype float32|bfloat16] [--batch N] [--tokens N]] [--threads N] [--json]',
  flags: {
    model: { type: 'string', value: 'DIR', description: 'also check this model folder: config, shards, tokenizer, memory of a study' },
    dtype: { type: 'string', value: 'float32|bfloat16', description: 'compute dtype for the memory estimate', default: 'float32' },
    batch: { type: 'string', value: 'N', description: 'repeats tuned together (adapters per batch) for the memory estimate', default: '1' },
    tokens: { type: 'string', value: 'N', description: 'tokens per sequence for the memory estimate', default: '256' },
    threads: { type: 'string', value: 'N', description: 'CPU threads for libtorch (default: all cores)' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  async run(flags, positionals) {
    if (positionals.length > 0) throw new UsageError(`doctor takes no arguments, got '${positionals[0]}' (a model folder goes after --model)`);
    const dtype = oneOf(flags, 'dtype', ['float32', 'bfloat16'] as const) ?? 'float32';
    const batch = num(flags, 'batch', { integer: true, min: 1 }) ?? 1;
    const tokens = num(flags, 'tokens', { integer: true, min: 1 }) ?? 256;
    const threads = num(flags, 'threads', { integer: true, min: 1 });
    const modelRef = str(flags, 'model'); // a hub id resolves from the local Hugging Face cache
    const report = await diagnose({ model: modelRef === undefined ? undefined : localOrHub(modelRef), dtype, batch, tokens, threads, applyThreads: () => applyThreads(flags) });
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    if (report.problems.length === 0) return 0;
    process.stderr.write(`iclit: ${report.problems.length} problem(s) would stop a run: ${report.problems[0]}${report.problems.length > 1 ? ' (and more in the report)' : ''}\n`);
    return 1;
  },
};

/** Gathers the report; threads are applied (as every command does) only when the binding loads. */
export async function diagnose(opts: { model?: string; dtype: 'float32' | 'bfloat16'; batch: number; tokens: number; threads?: number; applyThreads?: () => void }): Promise<DoctorReport> {
  try {
    opts.applyThreads?.();
  } catch {
    // the binding does not load: probeRuntime says so
  }
  const rt = probeRuntime(version(), opts.threads);
  const problems: string[] = [];
  const notes: string[] = [];
  if (!rt.libtorch.loaded) {
    problems.push(rt.libtorch.foundBy
      ? `the binding does not load (${rt.libtorch.error}): run \`npm install\` to build it against libtorch from ${rt.libtorch.foundBy}`
      : `libtorch was not found: apt-get install -y libtorch-dev libopenblas0-pthread (or pip install torch, or set LIBTORCH), then npm install`);
  }
  if (rt.cpu.bf16 === 'emulated') notes.push('this CPU has no AVX512_BF16 / AMX-BF16: --dtype bfloat16 is emulated through float32 (iclit widens its matmuls to float32; no faster than --dtype float32 here), and --dtype auto picks float32');
  if (!rt.chromium.found) notes.push(`no Chromium at ${rt.chromium.path}: the browser test of report.html is skipped (apt-get install chromium, or set ICLIT_CHROMIUM)`);
  if (rt.libtorch.loaded && !rt.blas.library) notes.push('no BLAS library found: matmuls may be slow (apt-get install libopenblas0-pthread)');
  const model = opts.model ? await probeModel(opts.model, opts.dtype, opts.batch, opts.tokens) : undefined;
  if (model) {
    problems.push(...model.problems);
    if (model.memory && model.memory.total > rt.memory.total) {
      problems.push(`a study on ${model.dir} needs about ${bytes(model.memory.total)} at ${opts.dtype}, more than this machine's ${bytes(rt.memory.total)}`);
    }
  }
  return { ...rt, ...(model ? { model } : {}), problems, notes };
}

/** 1.2 GB-style sizes (powers of 1024, as `free -h`). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

const row = (key: string, value: string) => `${key.padEnd(11)} ${value}\n`;

export function formatReport(r: DoctorReport): string {
  const lt = r.libtorch;
  let out = `iclit ${r.iclit.version} (node ${r.iclit.node}, ${r.iclit.platform})\n`;
  out += row('libtorch', lt.loaded
    ? `${lt.version} loaded from ${lt.loadedFrom ?? '?'}; found by ${lt.foundBy ?? 'nothing now (the build found it earlier)'}${lt.cudaBuild ? ' (CUDA build)' : ' (CPU-only build)'}`
    : `not loaded: ${lt.error ?? '?'}; search finds ${lt.foundBy ?? 'nothing'}`);
  out += row('binding', `${lt.binding}${lt.loaded ? '' : ' (does not load)'}`);
  out += row('CUDA', r.cuda.available
    ? `${r.cuda.devices.length} device(s)${r.cuda.devices.map((d) => `; cuda:${d.index} ${d.name} ${bytes(d.totalMemory)}`).join('')}${r.cuda.note ? ` (${r.cuda.note})` : ''}`
    : `not available (${r.cuda.note})`);
  const env = Object.entries(r.threads.env).map(([k, v]) => `${k}=${v ?? 'unset'}`).join(', ');
  out += row('threads', `${r.threads.policy.replace(/^threads: /, '')}; backend ${r.threads.parallelBackend ?? '?'}; ${env}`);
  out += row('BLAS', r.blas.library ? `${r.blas.library} (${r.blas.how})` : `none (${r.blas.how})`);
  out += row('bfloat16', `${r.cpu.bf16} on ${r.cpu.model}${r.cpu.flags.length ? ` [${r.cpu.flags.join(' ')}]` : ''}`);
  out += row('Chromium', r.chromium.found ? `${r.chromium.path}: ${r.chromium.version ?? 'version unknown'}` : `not found at ${r.chromium.path}`);
  out += row('memory', `${bytes(r.memory.total)} total, ${bytes(r.memory.free)} free`);
  if (r.model) out += formatModel(r.model);
  for (const n of r.notes) out += `note: ${n}\n`;
  for (const p of r.problems) out += `problem: ${p}\n`;
  out += r.problems.length ? `${r.problems.length} problem(s) found\n` : 'ready\n';
  return out;
}

function formatModel(m: ModelInfo): string {
  let out = row('model', `${m.dir}: ${m.loads ? 'loads' : 'does not load'}`);
  if (m.config) {
    const c = m.config;
    out += row('  config', `${c.modelType}, ${c.layers} layers, hidden ${c.hidden}, ${c.heads} heads (${c.kvHeads} kv), vocab ${c.vocab}, ${c.tied ? 'tied' : 'untied'} embeddings`);
  }
  if (m.weights) {
    const w = m.weights;
    out += row('  weights', `${w.files} file(s), ${w.stored.join('/')}, ${(w.parameters / 1e6).toFixed(w.parameters < 1e7 ? 2 : 0)}M parameters, ${bytes(w.bytesOnDisk)}`);
  }
  if (m.tokenizer) {
    const t = m.tokenizer;
    out += row('  tokenizer', `vocab ${t.vocabSize}, bos ${t.bos ?? 'none'}, eos ${t.eos ?? 'none'}, chat template ${t.chatTemplate ? 'yes' : 'no'}`);
  }
  if (m.memory) {
    const e = m.memory;
    out += row('  memory', `a study at ${e.dtype}, batch ${e.batch} × ${e.tokens} tokens: weights ${bytes(e.weights)} + ${e.batch} × ${bytes(e.perRepeat)} per repeat + ${bytes(e.overhead)} overhead ≈ ${bytes(e.total)} (estimate)`);
  }
  for (const w of m.warnings) out += `  ${w}\n`;
  return out;
}
