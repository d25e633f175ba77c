// Where one LoRA training step and one batched forward of the study spend their time, op by op (135M shape; `npm run bench profile`).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaModel } from '../src/models/index.js';
import { applyLora } from '../src/lora/index.js';
import { trainLora } from '../src/train/index.js';
import { profileOps, tidyNoGrad, type DType } from '../src/torch/index.js';
import { SMOLLM2_135M, prepareSmolLM2 } from './forward.js';
import { STUDY_LORA } from './study-loop.js';
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
  for (const e of events) byThread.set(e.tid, [...(byThread.get(e.tid) ?? []), e]);
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

function table(title: string, p: { rows: OpRow[]; topLevelMs: number; wallMs: number }, top = 14): string {
  const total = p.rows.reduce((s, r) => s + r.selfMs, 0);
  const lines = [`\n${title}: ${p.wallMs.toFixed(0)} ms wall under the profiler, ${total.toFixed(0)} ms in libtorch ops`, '| op | calls | self ms | share |', '|---|---|---|---|'];
  for (const r of p.rows.slice(0, top)) lines.push(`| ${r.op} | ${r.calls} | ${r.selfMs.toFixed(1)} | ${((100 * r.selfMs) / p.wallMs).toFixed(1)}% |`);
  const rest = p.rows.slice(top).reduce((s, r) => s + r.selfMs, 0);
  lines.push(`| ${p.rows.length - top} other ops | | ${rest.toFixed(1)} | ${((100 * rest) / p.wallMs).toFixed(1)}% |`);
  lines.push(`| outside libtorch ops (JS, N-API, profiler) | | ${(p.wallMs - p.topLevelMs).toFixed(1)} | ${((100 * (p.wallMs - p.topLevelMs)) / p.wallMs).toFixed(1)}% |`);
  return lines.join('\n');
}

/** Profiles, for float32 and bfloat16: one batched forward (4 anchors, every hidden state) and one LoRA step of 4 adapters. */
export async function benchProfile(): Promise<BenchResult[]> {
  const { dir } = prepareSmolLM2('profile');
  const w = await convergenceWorkload(4, SMOLLM2_135M.vocabSize, 1);
  const lengths = meanLengths(w);
  const out: string[] = [`profile workload: ${w.source}; mean tokens anchor ${lengths.anchor.toFixed(0)}, ICL ${lengths.icl.toFixed(0)}, tuning ${lengths.tuning.toFixed(0)}`];
  for (const dtype of ['float32', 'bfloat16'] as DType[]) {
    const model = LlamaModel.load(dir, { dtype: dtype as 'float32' | 'bfloat16' });
    const layers = [...Array(model.numHiddenStates).keys()];
    const forward = () => tidyNoGrad(() => void model.forward(w.repeats.map((r) => r.icl), { hiddenStates: layers }));
    forward();
    out.push(table(`${dtype}: batched forward of 4 ICL prompts, every hidden state`, profiled(forward)));
    const data = w.repeats.map((r) => [{ ids: r.tuning }]);
    const lora = applyLora(model, STUDY_LORA, { adapters: 4 });
    trainLora(model, lora, data, { epochs: 1, lr: 1e-4 });
    out.push(table(`${dtype}: one LoRA step of 4 adapters (forward, backward, AdamW)`, profiled(() => void trainLora(model, lora, data, { epochs: 1, lr: 1e-4 }))));
    lora.dispose();
    model.dispose();
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(out.join('\n'));
  return [];
}
