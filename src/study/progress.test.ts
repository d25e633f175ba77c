// The progress reporter driven by a fake clock at a 7B-shaped step rate: it moves within seconds inside a chunk, its ETA follows the measured rate, and off a terminal it writes one line per repeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import type { Pass } from '../models/index.js';
import { blockForwardSeconds, passSeconds, workCost, type CostModel } from './cost.js';
import type { StudyEstimate } from './estimate.js';
import { ProgressReporter } from './progress.js';

/** LLaMA-2-7B's shape. */
const LLAMA2_7B = tinyConfig({
  vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, maxPositionEmbeddings: 4096,
});
/** This CPU's measured 7B rate (issue 24: 274 GFLOP/s for iclit and PyTorch alike), no per-block overhead. */
const CPU_7B: CostModel = { forward: { overhead: 0, rate: 274e9 }, step: { overhead: 0, rate: 274e9 }, head: 274e9, seconds: 0 };
const LORA = { r: 8, targets: ['q_proj', 'v_proj'] };
const BATCH = 8;
const REPEATS = 16;

/** The convergence preset's passes per chunk of BATCH repeats: anchor, ICL (every layer), 10 training steps, anchor through the adapters. */
function passes(): Pass[] {
  const out: Pass[] = [];
  const read = (len: number, lora: boolean): Pass => ({ kind: 'read', lengths: new Array<number>(BATCH).fill(len), blocks: 32, logitRows: 0, lora });
  for (let c = 0; c < REPEATS / BATCH; c++) {
    out.push(read(45, false), read(80, false));
    for (let e = 0; e < 10; e++) out.push({ kind: 'step', lengths: new Array<number>(BATCH).fill(40), logitRows: BATCH * 39 });
    out.push(read(45, true));
  }
  return out;
}

function estimate(): StudyEstimate {
  const ps = passes();
  const { flops, seconds } = workCost(LLAMA2_7B, ps, CPU_7B, LORA);
  return {
    preset: 'convergence', repeats: REPEATS, conditions: 1, device: 'cpu', dtype: 'bfloat16', batch: BATCH, lora: LORA,
    models: [{ dir: 'llama-2-7b', config: LLAMA2_7B, passes: ps, flops, seconds, memory: 16e9, cost: CPU_7B }], flops, seconds, memory: 16e9,
  };
}

/**
 * Runs the passes as the runner and the backend report them, on a fake clock that moves `slowdown` × the
 * estimate's time per block and step: a start event, every block's forward, every step's backward, and a repeat
 * event per repeat at the end of each chunk. Returns each line written with its time in seconds.
 */
function drive(tty: boolean, slowdown: number): { t: number; line: string; final: boolean }[] {
  let now = 0;
  const lines: { t: number; line: string; final: boolean }[] = [];
  const e = estimate();
  const r = new ProgressReporter(e, { tty, now: () => now, write: (line, final) => lines.push({ t: now / 1000, line, final }) });
  const event = (done: number, repeat: number) => ({ model: 'llama-2-7b', done, total: REPEATS, skipped: 0, repeat, elapsedMs: now, etaMs: NaN });
  r.repeat(event(0, -1), 0);
  const perChunk = e.models[0].passes.length / (REPEATS / BATCH);
  e.models[0].passes.forEach((p, i) => {
    const blocks = p.kind === 'read' ? p.blocks : LLAMA2_7B.numLayers;
    const block = blockForwardSeconds(LLAMA2_7B, CPU_7B, p.lengths, p.kind === 'read' && p.lora ? LORA : undefined);
    for (let b = 0; b < blocks; b++) {
      now += 1000 * block * slowdown;
      r.work({ kind: 'block', lengths: p.lengths });
    }
    if (p.kind === 'step') {
      now += 1000 * (passSeconds(LLAMA2_7B, p, CPU_7B, LORA) - blocks * block) * slowdown;
      r.work({ kind: 'step', lengths: p.lengths });
    }
    if ((i + 1) % perChunk === 0) {
      const chunk = (i + 1) / perChunk;
      for (let k = 0; k < BATCH; k++) r.repeat(event((chunk - 1) * BATCH + k + 1, (chunk - 1) * BATCH + k), 0);
    }
  });
  return lines;
}

test('on a terminal, a 7B-shaped run at this CPU\'s rate changes its progress line within 15 s of the first chunk starting', () => {
  const lines = drive(true, 1);
  assert.equal(lines[0].t, 0);
  const moved = lines.find((l) => l.line !== lines[0].line && /% of the work/.test(l.line));
  assert.ok(moved, 'the line never changed');
  assert.ok(moved.t <= 15, `first change after ${moved.t.toFixed(1)} s`);
  // the repeat count is still 0/16 then: the line moved inside the chunk, not at its end
  assert.match(moved.line, / 0\/16 repeats/);
  // and it keeps moving: no gap between redraws longer than one training step's backward (≈ 16 s at batch 8 here)
  const gaps = lines.slice(1).map((l, i) => l.t - lines[i].t);
  assert.ok(Math.max(...gaps) < 20, `longest gap ${Math.max(...gaps).toFixed(1)} s`);
  assert.ok(lines.length > 100, `${lines.length} redraws`);
});

test('the ETA comes from the measured rate: a run 1.25× slower than estimated shows the true time left after its first chunk', () => {
  const lines = drive(true, 1.25);
  const est = estimate().seconds;
  const first = lines[0].line;
  assert.match(first, new RegExp(`ETA ${Math.floor(est / 60)}m`)); // before any work: the estimate itself
  const afterChunk = lines.find((l) => / 8\/16 repeats/.test(l.line))!;
  const trueLeft = est * 1.25 - afterChunk.t; // both chunks take equally long
  const m = /ETA (\d+)m(\d+)s/.exec(afterChunk.line)!;
  const shown = Number(m[1]) * 60 + Number(m[2]);
  assert.ok(Math.abs(shown - trueLeft) <= 0.02 * trueLeft + 1, `ETA ${shown} s, true ${trueLeft.toFixed(0)} s`);
});

test('off a terminal, one line per finished repeat (and the start), never a redraw', () => {
  const lines = drive(false, 1);
  assert.equal(lines.length, 1 + REPEATS);
  assert.ok(lines.every((l) => l.final));
  assert.match(lines.at(-1)!.line, /16\/16 repeats · 100\.0% of the work/);
});
