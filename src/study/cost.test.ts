// The cost model: a pass's seconds by hand from a given calibration, and a real calibration of a small shape that yields usable rates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import { blockFlops, headFlops } from '../models/index.js';
import { calibrate, fit, passSeconds, workCost, type CostModel } from './cost.js';

const c = tinyConfig({ hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 16, numLayers: 3, vocabSize: 500 });
const lora = { r: 4, targets: ['q_proj', 'v_proj'] };
const cost: CostModel = { forward: { overhead: 0.002, rate: 1e9 }, step: { overhead: 0.005, rate: 5e8 }, head: 2e9, seconds: 0 };

test('passSeconds: blocks × (overhead + FLOPs / rate) plus the LM head at its own rate; a step counts forward and backward per block and the head twice', () => {
  const lengths = [7, 9];
  const b = blockFlops(c, lengths);
  const read = passSeconds(c, { kind: 'read', lengths, blocks: 2, logitRows: 2, lora: false }, cost, lora);
  assert.ok(Math.abs(read - (2 * (0.002 + (b.linear + b.attention) / 1e9) + headFlops(c, 2) / 2e9)) < 1e-12);
  const bl = blockFlops(c, lengths, lora);
  const step = passSeconds(c, { kind: 'step', lengths, logitRows: 14 }, cost, lora);
  assert.ok(Math.abs(step - (3 * (0.005 + (2 * bl.linear + 3 * bl.attention + 3 * bl.lora) / 5e8) + (2 * headFlops(c, 14)) / 2e9)) < 1e-12);
  const w = workCost(c, [{ kind: 'read', lengths, blocks: 2, logitRows: 2, lora: false }, { kind: 'step', lengths, logitRows: 14 }], cost, lora);
  assert.ok(Math.abs(w.seconds - (read + step)) < 1e-12);
});

test('fit: the line through two timed points; noise that makes it meaningless (a negative slope, a marginal rate above the GEMM rate given as the most) falls back to the larger point\'s mean rate', () => {
  // 1 ms overhead, 1e9 FLOP/s: 1e6 FLOPs in 2 ms, 4e6 in 5 ms
  const line = fit([1e6, 0.002], [4e6, 0.005], [4e6, 0.005]);
  assert.ok(Math.abs(line.rate - 1e9) < 1 && Math.abs(line.overhead - 0.001) < 1e-12, JSON.stringify(line));
  assert.deepEqual(fit([1e6, 0.002], [4e6, 0.005], [4e6, 0.005], 2e9), line, 'a marginal rate under the bound stands');
  assert.deepEqual(fit([1e6, 0.002], [4e6, 0.005], [4e6, 0.005], 0.9e9), { overhead: 0, rate: 4e6 / 0.005 }, 'over the bound: the mean rate');
  assert.deepEqual(fit([1e6, 0.006], [4e6, 0.005], [4e6, 0.005]), { overhead: 0, rate: 4e6 / 0.005 }, 'a negative slope: the mean rate');
});

test('calibrate on a small shape: positive finite rates and overheads, within a few seconds', () => {
  const t0 = performance.now();
  const m = calibrate(c, 'float32', 'cpu', { r: 4, alpha: 8, dropout: 0.05, targets: ['q_proj', 'v_proj'] }, { sequences: 4, length: 24 });
  for (const r of [m.forward, m.step]) {
    assert.ok(Number.isFinite(r.rate) && r.rate > 0, `rate ${r.rate}`);
    assert.ok(Number.isFinite(r.overhead) && r.overhead >= 0, `overhead ${r.overhead}`);
  }
  assert.ok(Number.isFinite(m.head) && m.head > 0);
  assert.ok(m.seconds > 0 && m.seconds < 30 && (performance.now() - t0) / 1000 < 30);
});
