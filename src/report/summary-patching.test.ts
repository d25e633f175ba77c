// summary.json's patching block: per patch point each curve's (cross and own) distribution and the 95% interval of its mean; absent without patching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeCondition } from './summary.js';
import { makeRecord } from './synthetic.js';

test('summarizeCondition carries patching per patch point (mean, 95% t interval) only where records are patched', () => {
  const recs = [0.2, 0.4, 0.6].map((v, repeat) =>
    makeRecord({ experiment: 'patching', condition: 'right-labels', repeat, patching: { layers: [0, 1], iclToIt: [0, v / 2], itToIcl: [0, 0.1 + v], icl: [0, v], it: [0, 1 - v] } }),
  );
  const s = summarizeCondition('right-labels', recs);
  assert.deepEqual(s.patching!.layers.map((l) => l.layer), [0, 1]);
  const l1 = s.patching!.layers[1];
  const half = (4.302652729749464 * 0.2) / Math.sqrt(3); // s = 0.2, t(0.975, 2)
  assert.ok(Math.abs(l1.icl.mean! - 0.4) < 1e-12 && Math.abs(l1.it.mean! - 0.6) < 1e-12);
  assert.ok(Math.abs(l1.icl.ci95.lower! - (0.4 - half)) < 1e-9 && Math.abs(l1.icl.ci95.upper! - (0.4 + half)) < 1e-9);
  // the cross curves: 0.1, 0.2, 0.3 (s = 0.1) and 0.3, 0.5, 0.7 (s = 0.2)
  assert.ok(Math.abs(l1.iclToIt!.mean! - 0.2) < 1e-12 && Math.abs(l1.iclToIt!.ci95.upper! - (0.2 + half / 2)) < 1e-9);
  assert.ok(Math.abs(l1.itToIcl!.mean! - 0.5) < 1e-12 && Math.abs(l1.itToIcl!.ci95.lower! - (0.5 - half)) < 1e-9);
  assert.equal(s.patching!.layers[0].icl.ci95.lower, 0, 'no spread: the interval is the mean');
  // records written before the cross curves: no cross keys; mixed with newer ones, theirs count as missing (nanCount)
  const older = recs.map((r) => ({ ...r, patching: { layers: r.patching!.layers, icl: r.patching!.icl, it: r.patching!.it } }));
  const o = summarizeCondition('right-labels', older).patching!.layers[1];
  assert.equal('iclToIt' in o || 'itToIcl' in o, false);
  assert.ok(Math.abs(o.icl.mean! - 0.4) < 1e-12);
  const m = summarizeCondition('right-labels', [...recs, ...older]).patching!.layers[1];
  assert.deepEqual([m.iclToIt!.n, m.iclToIt!.nanCount, m.icl.n], [3, 3, 6]);
  assert.ok(Math.abs(m.iclToIt!.mean! - 0.2) < 1e-12);
  assert.equal('patching' in summarizeCondition('c', [makeRecord({ experiment: 'convergence', condition: 'c', repeat: 0 })]), false);
});
