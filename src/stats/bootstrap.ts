// Seeded percentile-bootstrap confidence interval of the median.
import { IclitError } from '../util/errors.js';
import { randomInt, seededRandom } from '../util/random.js';
import { percentileOfSorted } from './percentiles.js';
import { checkLength, checkNotNaN, sortedCopy } from './validate.js';

export interface BootstrapOptions {
  /** Coverage of the interval, in (0, 1). Default 0.95. */
  confidence?: number;
  /** Number of resamples. Default 10 000. */
  resamples?: number;
  /** PRNG seed (mulberry32): the same seed and data give the same interval. Default 0. */
  seed?: number;
}

export interface BootstrapInterval {
  /** The median of the data itself. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
}

/**
 * Percentile bootstrap CI of the median: resample n values with replacement `resamples` times, take each
 * resample's median, and report the (1−c)/2 and (1+c)/2 linear percentiles of those medians.
 */
export function bootstrapMedianCI(values: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapInterval {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 10_000;
  const seed = options.seed ?? 0;
  if (!(confidence > 0 && confidence < 1)) {
    throw new IclitError(`bootstrapMedianCI: confidence is ${confidence}; expected a number in (0, 1)`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new IclitError(`bootstrapMedianCI: resamples is ${resamples}; expected a positive integer`);
  }
  checkNotNaN(values, 'bootstrapMedianCI: values');
  checkLength(values, 1, 'bootstrapMedianCI: values');
  const data = Float64Array.from(values);
  const n = data.length;
  const rng = seededRandom(seed);
  const medians = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = data[randomInt(rng, n)];
    sample.sort();
    medians[b] = percentileOfSorted(sample, 50);
  }
  medians.sort();
  const alpha = (1 - confidence) / 2;
  return {
    estimate: percentileOfSorted(sortedCopy(data), 50),
    lower: percentileOfSorted(medians, 100 * alpha),
    upper: percentileOfSorted(medians, 100 * (1 - alpha)),
    confidence,
    resamples,
    seed,
  };
}
