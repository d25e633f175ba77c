// Tests for the seeded bootstrap CIs of the median and the mean: determinism, seed sensitivity, coverage of the true value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMeanCI, bootstrapMedianCI } from './bootstrap.js';
import { seededRandom } from '../util/random.js';
import { IclitError } from '../util/errors.js';

/** n draws from an exponential distribution with rate 1 (true median ln 2). */
function exponentialSample(n: number, seed: number): number[] {
  const rng = seededRandom(seed);
  return Array.from({ length: n }, () => -Math.log(1 - rng()));
}

test('same data and seed give the same interval; another seed gives another', () => {
  const x = exponentialSample(101, 7);
  const a = bootstrapMedianCI(x, { seed: 3, resamples: 2000 });
  const b = bootstrapMedianCI(x, { seed: 3, resamples: 2000 });
  assert.deepEqual(a, b);
  const c = bootstrapMedianCI(x, { seed: 4, resamples: 2000 });
  assert.notDeepEqual([c.lower, c.upper], [a.lower, a.upper]);
  assert.ok(a.lower <= a.estimate && a.estimate <= a.upper);
  assert.equal(a.confidence, 0.95);
});

test('the interval covers the true median on a large sample and narrows as n grows', () => {
  const trueMedian = Math.LN2;
  const big = bootstrapMedianCI(exponentialSample(5000, 11), { seed: 1, resamples: 1000 });
  assert.ok(big.lower < trueMedian && trueMedian < big.upper, `[${big.lower}, ${big.upper}] misses ${trueMedian}`);
  const small = bootstrapMedianCI(exponentialSample(100, 11), { seed: 1, resamples: 1000 });
  assert.ok(big.upper - big.lower < (small.upper - small.lower) / 3);
});

test('coverage over many samples is near the nominal 90%', () => {
  let covered = 0;
  const trials = 100;
  for (let k = 0; k < trials; k++) {
    const ci = bootstrapMedianCI(exponentialSample(201, 1000 + k), { seed: k, resamples: 400, confidence: 0.9 });
    if (ci.lower <= Math.LN2 && Math.LN2 <= ci.upper) covered++;
  }
  assert.ok(covered >= 80 && covered <= 98, `covered ${covered}/${trials}`);
});

test('bad options or data throw IclitError', () => {
  assert.throws(() => bootstrapMedianCI([], {}), IclitError);
  assert.throws(() => bootstrapMedianCI([1, NaN]), IclitError);
  assert.throws(() => bootstrapMedianCI([1, 2], { confidence: 1 }), IclitError);
  assert.throws(() => bootstrapMedianCI([1, 2], { resamples: 0 }), IclitError);
  assert.throws(() => bootstrapMedianCI([1, 2], { seed: 0.5 }), IclitError);
});

test('the mean CI: estimate is the sample mean; coverage of the true mean near 90%; width near the normal theory 2·1.645·σ/√n', () => {
  const x = exponentialSample(400, 5);
  const ci = bootstrapMeanCI(x, { seed: 2, resamples: 2000, confidence: 0.9 });
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  assert.ok(Math.abs(ci.estimate - mean) < 1e-12);
  const sd = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / (x.length - 1));
  const width = (2 * 1.645 * sd) / Math.sqrt(x.length);
  assert.ok(Math.abs(ci.upper - ci.lower - width) < 0.15 * width, `width ${ci.upper - ci.lower} vs ${width}`);
  assert.deepEqual(bootstrapMeanCI(x, { seed: 2, resamples: 2000, confidence: 0.9 }), ci);
  let covered = 0;
  for (let k = 0; k < 100; k++) {
    const c = bootstrapMeanCI(exponentialSample(201, 2000 + k), { seed: k, resamples: 400, confidence: 0.9 });
    if (c.lower <= 1 && 1 <= c.upper) covered++;
  }
  assert.ok(covered >= 78 && covered <= 98, `covered ${covered}/100`);
  assert.throws(() => bootstrapMeanCI([]), IclitError);
  assert.throws(() => bootstrapMeanCI([1, NaN]), /bootstrapMeanCI/);
});
