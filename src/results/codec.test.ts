// The record codec on the agreement fields: outputs, attention and accuracy.flips round-trip (NaN kept); malformed ones are refused naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RepeatRecord } from '../experiments/record.js';
import { IclitError } from '../util/errors.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { sampleRecord } from './testing.js';

const withAgreement = (): RepeatRecord =>
  sampleRecord({
    accuracy: { zeroShot: 0.25, icl: 0.5, it: 0.75, n: 4, flips: { it: 2, icl: 1, both: 1 } },
    outputs: { klIclIt: 0.5, jsIclIt: 0.1, klIclAnchor: 0.2, klItAnchor: 0.3, top1IclIt: true, top1AnchorIcl: false, top1AnchorIt: true, labelMass: { anchor: 0.1, icl: 0.2, it: 0.3 } },
    attention: { anchorIcl: [NaN, 0.5, 0.6], anchorIt: [NaN, 0.5, 0.6], iclIt: [NaN, 0.5, 0.6], change: [NaN, -0.5, 0.25], demoShare: [NaN, 0.1, 0.2] },
  });

test('outputs, attention and accuracy.flips round-trip through the stored JSON (NaN at layer 0 kept)', () => {
  const r = withAgreement();
  assert.deepEqual(decodeRecord(encodeRecord(r)), r);
});

test('malformed agreement fields are refused with the field named', () => {
  const bad: [string, (r: RepeatRecord) => void, RegExp][] = [
    ['attention of the wrong length', (r) => (r.attention!.change = [0.5]), /attention\.change must be 3 numbers/],
    ['a top-1 that is not a boolean', (r) => ((r.outputs as unknown as Record<string, unknown>).top1IclIt = 1), /outputs\.top1IclIt must be a boolean/],
    ['a divergence that is not a number', (r) => ((r.outputs as unknown as Record<string, unknown>).klIclIt = 'x'), /outputs\.klIclIt must be a number/],
    ['label mass without it', (r) => (r.outputs!.labelMass = { anchor: 1, icl: 1 } as never), /outputs\.labelMass/],
    ['more flips than examples', (r) => (r.accuracy!.flips!.both = 5), /accuracy\.flips/],
  ];
  for (const [what, spoil, message] of bad) {
    const r = withAgreement();
    spoil(r);
    assert.throws(() => encodeRecord(r), (e: Error) => e instanceof IclitError && message.test(e.message), what);
  }
});
