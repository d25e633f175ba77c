// Where a batched forward, one LoRA step and one chunk of the study spend their time, op by op (135M shape, the study's batch; `npm run bench profile`).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaModel } from '../src/models/index.js';
import { applyLora } from '../src/lora/index.js';
import { trainLora } from '../src/train/index.js';
import { profileOps, threadSetup, tidyNoGrad, type DType } from '../src/torch/index.js';
import { STUDY_DEFAULTS } from '../src/experiments/index.js';
import { SMOLLM2_135M, prepareSmolLM2 } from './forward.js';
import { STUDY_EPOCHS, STUDY_LORA, STUDY_LR, runStudyLoop } from './study-loop.js';
import { convergenceWorkload, meanLengths } from './workload.js';
import type { BenchResult } from './types.js';

interface TraceEvent {
  name: string;
  ts: number;
  dur: number;
  tid: number;
}

export interface OpRow {
  op: string;
  calls: number;
  /** Milliseconds inside this op itself (not in the ops it called). */
  selfMs: number;
}

/** Self time per op name from a chrome trace: an event's duration minus that of the events nested inside it. */
export function selfTimes(events: TraceEvent[]): { rows: OpRow[]; topLevelMs: number } {
  const rows = new Map<string, OpRow>();
  let topLevel = 0;
  const byThread = new Map<number, TraceEvent[]>();
  for (const e of events) {
    const list = byThread.get(e.tid);
    if (list) list.push(e);
    else byThread.set(e.tid, [e]);
  }
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const stack: { end: number; row: OpRow }[] = [];
    for (const e of list) {
      while (stack.length && stack[stack.length - 1].end <= e.ts) stack.pop();
      const name = e.name.replace(/^autograd::engine::evaluate_function: /, 'backward: ');
      const row = rows.get(name) ?? { op: name, calls: 0, selfMs: 0 };
      rows.set(name, row);
      row.calls++;
      row.selfMs += e.dur / 1000;
      if (stack.length) stack[stack.length - 1].row.selfMs -= e.dur / 1000;
      else topLevel += e.dur / 1000;
      stack.push({ end: e.ts + e.dur, row });
    }
  }
  return { rows: [...rows.values()].sort((a, b) => b.selfMs - a.selfMs), topLevelMs: topLevel };
}

function profiled(fn: () => void): { rows: OpRow[]; topLevelMs: number; wallMs: number } {
  const file = join(tmpdir(), `iclit-profile-${process.pid}.json`);
  const t0 = performance.now();
  profileOps(file, fn);
  const wallMs = performance.now() - t0;
  const events = JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[];
  rmSync(file, { force: true });
  return { ...selfTimes(events), wallMs };
}

/**
 * GEMM ops (their self time is arithmetic at the BLAS's rate); everything else is per-op work around them. The widened
 * bfloat16 linear layers (a CPU without native bf16) call cblas on weight tiles: their rows count, tile conversions
 * included.
 */
const GEMM = /^(backward: )?(aten::(mm|bmm|addmm|baddbmm|matmul|linear)|iclit::widened_(linear|input_grad))$/;

function table(title: string, p: { rows: OpRow[]; topLevelMs: number; wallMs: number }, plainMs: number, top = 16): string {
  const total = p.rows.reduce((s, r) => s + r.selfMs, 0);
  const gemm = p.rows.filter((r) => GEMM.test(r.op)).reduce((s, r) => s + r.selfMs, 0);
  const calls = p.rows.reduce((s, r) => s + r.calls, 0);
  const lines = [
    `\n${title}: ${plainMs.toFixed(0)} ms without the profiler; under it ${p.wallMs.toFixed(0)} ms wall, ${total.toFixed(0)} ms in libtorch ops (${calls} op events), of which GEMMs ${gemm.toFixed(0)} ms (${((100 * gemm) / p.wallMs).toFixed(1)}%)`,
    '| op | calls | self ms | share |',
    '|---|---|---|---|',
  ];
  for (const r of p.rows.slice(0, top)) lines.push(`| ${r.op} | ${r.calls} | ${r.selfMs.toFixed(1)} | ${((100 * r.selfMs) / p.wallMs).toFixed(1)}% |`);
  const rest = p.rows.slice(top);
  const restMs = rest.reduce((s, r) => s + r.selfMs, 0);
  lines.push(`| ${rest.length} other ops | ${rest.reduce((s, r) => s + r.calls, 0)} | ${restMs.toFixed(1)} | ${((100 * restMs) / p.wallMs).toFixed(1)}% |`);
  lines.push(`| outside libtorch ops (JS, N-API, autograd engine, profiler) | | ${(p.wallMs - p.topLevelMs).toFixed(1)} | ${((100 * (p.wallMs - p.topLevelMs)) / p.wallMs).toFixed(1)}% |`);
  return lines.join('\n');
}

/** Milliseconds of `fn` without the profiler (the best of `n`). */
function plain(fn: () => void, n = 2): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const BATCH = Number(process.env.ICLIT_BENCH_PROFILE_BATCH ?? STUDY_DEFAULTS.batch);
const DTYPES = (process.env.ICLIT_BENCH_PROFILE_DTYPES ?? 'float32,bfloat16').split(',') as DType[];

/**
 * Profiles at the study's batch (`STUDY_DEFAULTS.batch` adapters, SST-2 prompts), per dtype: one batched forward of
 * the ICL prompts (every hidden state), one LoRA step of the adapters (forward, backward, AdamW), and in float32 one
 * whole study chunk (`runStudyLoop` over one batch of repeats: anchors, ICL, 10 epochs, tuned anchors; off with
 * ICLIT_BENCH_PROFILE_CHUNK=0).
 */
export async function benchProfile(): Promise<BenchResult[]> {
  const { dir } = prepareSmolLM2('profile');
  try {
    const w = await convergenceWorkload(BATCH, SMOLLM2_135M.vocabSize, 1);
    const lengths = meanLengths(w);
    const print = (text: string): void => console.log(text); // each table as soon as it is measured
    print(`profile workload: ${w.source}; ${BATCH} repeats; mean tokens anchor ${lengths.anchor.toFixed(0)}, ICL ${lengths.icl.toFixed(0)}, tuning ${lengths.tuning.toFixed(0)}; ${threadSetup()}`);
    for (const dtype of DTYPES) {
      const model = LlamaModel.load(dir, { dtype: dtype as 'float32' | 'bfloat16' });
      const layers = [...Array(model.numHiddenStates).keys()];
      const forward = () => tidyNoGrad(() => void model.forward(w.repeats.map((r) => r.icl), { hiddenStates: layers }));
      forward();
      const fwdMs = plain(forward);
      print(table(`${dtype}: batched forward of ${BATCH} ICL prompts, every hidden state`, profiled(forward), fwdMs));
      const data = w.repeats.map((r) => [{ ids: r.tuning }]);
      const lora = applyLora(model, STUDY_LORA, { adapters: BATCH });
      const step = () => void trainLora(model, lora, data, { epochs: 1, lr: STUDY_LR });
      step();
      const stepMs = plain(step);
      print(table(`${dtype}: one LoRA step of ${BATCH} adapters (forward, backward, AdamW)`, profiled(step), stepMs));
      lora.dispose();
      if (process.env.ICLIT_BENCH_PROFILE_CHUNK !== '0' && (dtype === 'float32' || process.env.ICLIT_BENCH_PROFILE_CHUNK === 'all')) {
        const chunk = () => void runStudyLoop(model, w.repeats, BATCH);
        const chunkMs = plain(chunk, 1);
        print(table(`${dtype}: one study chunk (${BATCH} repeats: anchors, ICL, ${STUDY_EPOCHS} epochs, tuned anchors)`, profiled(chunk), chunkMs));
      }
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [];
}
