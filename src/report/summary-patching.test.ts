// summary.json's patching block: per patch point each curve's distribution and the 95% interval of its mean; absent without patching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeCondition } from './summary.js';
import { makeRecord } from './synthetic.js';

test('summarizeCondition carries patching per patch point (mean, 95% t interval) only where records are patched', () => {
  const recs = [0.2, 0.4, 0.6].map((v, repeat) => makeRecord({ experiment: 'patching', condition: 'right-labels', repeat, patching: { layers: [0, 1], icl: [0, v], it: [0, 1 - v] } }));
  const s = summarizeCondition('right-labels', recs);
  assert.deepEqual(s.patching!.layers.map((l) => l.layer), [0, 1]);
  const l1 = s.patching!.layers[1];
  const half = (4.302652729749464 * 0.2) / Math.sqrt(3); // s = 0.2, t(0.975, 2)
  assert.ok(Math.abs(l1.icl.mean! - 0.4) < 1e-12 && Math.abs(l1.it.mean! - 0.6) < 1e-12);
  assert.ok(Math.abs(l1.icl.ci95.lower! - (0.4 - half)) < 1e-9 && Math.abs(l1.icl.ci95.upper! - (0.4 + half)) < 1e-9);
  assert.equal(s.patching!.layers[0].icl.ci95.lower, 0, 'no spread: the interval is the mean');
  assert.equal('patching' in summarizeCondition('c', [makeRecord({ experiment: 'convergence', condition: 'c', repeat: 0 })]), false);
});
