// The progress line of a run with the untrained control: the model's own run and then its untrained copy's share one model's work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyConfig } from '../io/index.js';
import type { StudyEstimate } from './estimate.js';
import { ProgressReporter } from './progress.js';

const cost = { forward: { overhead: 0, rate: 1e9 }, step: { overhead: 0, rate: 1e9 }, head: 1e9, seconds: 0 };

test('with the untrained control the model\'s own run ends at its share of the work (not 100%), the untrained copy\'s run takes the rest', () => {
  const estimate: StudyEstimate = {
    preset: 'convergence', repeats: 4, conditions: 4, device: 'cpu', dtype: 'float32', batch: 2, lora: { r: 8, targets: ['q_proj', 'v_proj'] },
    models: [{ dir: 'm', config: tinyConfig(), passes: [], flops: 0, seconds: 100, untrainedSeconds: 25, memory: 0, cost }],
    flops: 0, seconds: 100, memory: 0,
  };
  const heads: string[] = [];
  const r = new ProgressReporter(estimate, { tty: false, now: () => 0, write: (_line, _final, parts) => heads.push(parts.head) });
  const event = (done: number, repeat: number, untrained?: true) => ({ model: untrained ? 'm (untrained control)' : 'm', done, total: 4, skipped: 0, repeat, elapsedMs: 0, etaMs: NaN, ...(untrained ? { untrained } : {}) });
  r.repeat(event(0, -1), 0);
  r.repeat(event(4, 3), 0);
  assert.match(heads.at(-1)!, /^m \[.*\] 4\/4 repeats · 75\.0% of the work$/);
  r.repeat(event(0, -1, true), 0);
  assert.match(heads.at(-1)!, /^m \(untrained control\) .* 0\/4 repeats · 75\.0% of the work$/);
  r.repeat(event(4, 3, true), 0);
  assert.match(heads.at(-1)!, /4\/4 repeats · 100\.0% of the work$/);
  // resumed with the model's part done: the untrained run is all that is left
  const resumed = new ProgressReporter(estimate, { tty: false, now: () => 0, write: (_line, _final, parts) => heads.push(parts.head) });
  resumed.repeat({ ...event(0, -1), total: 0, skipped: 4 }, 0);
  resumed.repeat(event(0, -1, true), 0);
  resumed.repeat(event(2, 1, true), 0);
  assert.match(heads.at(-1)!, /2\/4 repeats · 0\.0% of the work$/, 'blocks move it (none reported here); the model part counts 0 of 0');
  resumed.repeat(event(4, 3, true), 0);
  assert.match(heads.at(-1)!, /100\.0% of the work$/);
});
