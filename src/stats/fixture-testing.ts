// Test support: loads ../shared/fixtures/stats/scipy-reference.json (SciPy 1.10 results) for the fixture-tier tests.
import { readFileSync } from 'node:fs';
import { missingShared, sharedPath } from '../util/testing.js';

export const SCIPY_FIXTURE = 'fixtures/stats/scipy-reference.json';

export interface ScipyReference {
  wilcoxon: {
    d: number[];
    results: { alternative: 'two-sided' | 'greater' | 'less'; method: 'exact' | 'approx'; zero_method: string; correction: boolean; statistic: number; pvalue: number }[];
  }[];
  percentiles: { x: number[]; q: number[]; linear: number[] }[];
  correlations: { x: number[]; y: number[]; pearson: [number, number]; spearman: [number, number] }[];
  cosine: { a: number[]; b: number[]; cosine: number }[];
}

/** The parsed fixture, or the skip message when ../shared is missing. */
export function loadScipyReference(): { ref: ScipyReference } | { skip: string } {
  const p = sharedPath(SCIPY_FIXTURE);
  if (!p) return { skip: missingShared(SCIPY_FIXTURE) };
  return { ref: JSON.parse(readFileSync(p, 'utf8')) as ScipyReference };
}

/** |actual − expected| ≤ atol + rtol·|expected|. */
export function close(actual: number, expected: number, rtol: number, atol: number): boolean {
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}
