// summary.json's agreement block per condition: means recomputed by hand, bootstrap CIs around them, pooled Rec2FTP recall, absent without the measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RepeatRecord } from '../experiments/record.js';
import { summarize } from './summary.js';
import { makeRecord } from './synthetic.js';
import { meanCI } from './agreement.js';
import { seededRandom } from '../util/random.js';

function records(): RepeatRecord[] {
  const rng = seededRandom(4);
  return Array.from({ length: 12 }, (_, repeat) => {
    const u = rng();
    return makeRecord({
      experiment: 'accuracy', condition: 'right-labels', repeat, layers: [0, 3],
      outputs: { klIclIt: u, jsIclIt: u / 4, klIclAnchor: 2 * u, klItAnchor: 3 * u, top1IclIt: repeat % 3 === 0, top1AnchorIcl: true, top1AnchorIt: false, labelMass: { anchor: 0.1, icl: 0.5 + u / 4, it: 0.4 } },
      attention: { anchorIcl: [NaN, u], anchorIt: [NaN, 1 - u], iclIt: [NaN, 0.5], change: [NaN, u - 0.5], demoShare: [NaN, 0.3] },
      accuracy: { zeroShot: 0.5, icl: 0.75, it: 0.75, n: 8, flips: { it: repeat % 4, icl: 2, both: Math.min(2, repeat % 4) } },
    });
  });
}

const meanOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('summarize: per condition the mean and a 95% bootstrap CI of every output and attention measure (top-1 as the share agreeing), pooled flip recall both ways', () => {
  const recs = records();
  const c = summarize([{ label: 'run', meta: {}, records: recs }]).runs[0].experiments[0].conditions[0];
  const g = c.agreement!;
  const close = (x: number | null, y: number): void => assert.ok(x !== null && Math.abs(x - y) < 1e-12, `${x} vs ${y}`);
  close(g.outputs!.klIclIt.mean, meanOf(recs.map((r) => r.outputs!.klIclIt)));
  close(g.outputs!.klItAnchor.mean, meanOf(recs.map((r) => r.outputs!.klItAnchor)));
  close(g.outputs!.top1IclIt.mean, 4 / 12);
  close(g.outputs!.top1AnchorIt.mean, 0);
  close(g.outputs!.labelMass!.icl.mean, meanOf(recs.map((r) => r.outputs!.labelMass!.icl)));
  for (const m of [g.outputs!.jsIclIt, g.outputs!.klIclAnchor, g.outputs!.labelMass!.icl]) {
    assert.equal(m.n, 12);
    assert.equal(m.confidence, 0.95);
    assert.ok(m.lower! <= m.mean! && m.mean! <= m.upper! && m.lower! < m.upper!, `${m.lower} ≤ ${m.mean} ≤ ${m.upper}`);
  }
  const att = g.attention!;
  assert.deepEqual(att.layers.map((l) => l.layer), [0, 3]);
  assert.equal(att.layers[0].anchorIcl.mean, null, 'NaN at the embeddings: no finite value');
  assert.equal(att.layers[0].anchorIcl.nanCount, 12);
  assert.equal(att.last!.layer, 3);
  close(att.last!.change.mean, meanOf(recs.map((r) => r.attention!.change[1])));
  close(att.last!.demoShare.mean, 0.3);
  const f = g.flips!;
  close(f.it.mean, meanOf(recs.map((r) => r.accuracy!.flips!.it)));
  const sum = (k: 'it' | 'icl' | 'both'): number => recs.reduce((s, r) => s + r.accuracy!.flips![k], 0);
  close(f.iclRecallOfIt, sum('both') / sum('it'));
  close(f.itRecallOfIcl, sum('both') / sum('icl'));
  // the same records give the same summary (seeded bootstrap)
  assert.deepEqual(summarize([{ label: 'run', meta: {}, records: recs }]).runs[0].experiments[0].conditions[0].agreement, g);
});

test('summarize: no agreement block for records without the measures; meanCI of one value has no interval', () => {
  const plain = [0, 1, 2].map((repeat) => makeRecord({ experiment: 'convergence', condition: 'right-labels', repeat }));
  assert.equal(summarize([{ label: 'run', meta: {}, records: plain }]).runs[0].experiments[0].conditions[0].agreement, null);
  assert.deepEqual(meanCI([2, NaN]), { n: 1, nanCount: 1, confidence: 0.95, mean: 2, lower: null, upper: null });
  assert.deepEqual(meanCI([]), { n: 0, nanCount: 0, confidence: 0.95, mean: null, lower: null, upper: null });
});
