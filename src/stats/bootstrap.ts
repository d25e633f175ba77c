// Seeded percentile-bootstrap confidence intervals of the median and of the mean.
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
  /** The statistic (median or mean) of the data itself. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
}

/**
 * Percentile bootstrap CI of `statistic`: resample n values with replacement `resamples` times, apply `statistic` to
 * each resample (it may reorder its argument), and report the (1−c)/2 and (1+c)/2 linear percentiles of the results.
 */
function percentileBootstrap(values: ArrayLike<number>, options: BootstrapOptions, name: string, statistic: (sample: Float64Array) => number): BootstrapInterval {
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 10_000;
  const seed = options.seed ?? 0;
  if (!(confidence > 0 && confidence < 1)) {
    throw new IclitError(`${name}: confidence is ${confidence}; expected a number in (0, 1)`);
  }
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new IclitError(`${name}: resamples is ${resamples}; expected a positive integer`);
  }
  checkNotNaN(values, `${name}: values`);
  checkLength(values, 1, `${name}: values`);
  const data = Float64Array.from(values);
  const n = data.length;
  const rng = seededRandom(seed);
  const stats = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = data[randomInt(rng, n)];
    stats[b] = statistic(sample);
  }
  stats.sort();
  const alpha = (1 - confidence) / 2;
  return {
    estimate: statistic(sortedCopy(data)),
    lower: percentileOfSorted(stats, 100 * alpha),
    upper: percentileOfSorted(stats, 100 * (1 - alpha)),
    confidence,
    resamples,
    seed,
  };
}

/**
 * Percentile bootstrap CI of the median: resample n values with replacement `resamples` times, take each
 * resample's median, and report the (1−c)/2 and (1+c)/2 linear percentiles of those medians.
 */
export function bootstrapMedianCI(values: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapInterval {
  return percentileBootstrap(values, options, 'bootstrapMedianCI', (sample) => percentileOfSorted(sample.sort(), 50));
}

/** Percentile bootstrap CI of the mean (`estimate` is the mean of the data itself), as bootstrapMedianCI otherwise. */
export function bootstrapMeanCI(values: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapInterval {
  return percentileBootstrap(values, options, 'bootstrapMeanCI', (sample) => {
    let sum = 0;
    for (let i = 0; i < sample.length; i++) sum += sample[i];
    return sum / sample.length;
  });
}
