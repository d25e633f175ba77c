// Tests for Page's L trend test against SciPy 1.17 `page_trend_test` (values computed with it) and a brute-force exact null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageTrendTest } from './page.js';
import { IclitError } from '../util/errors.js';
import { close } from './fixture-testing.js';

// SciPy's documented example (10 students × 3 teaching methods, with ties).
const STUDENTS = [[3, 4, 3], [2, 2, 4], [3, 3, 5], [1, 3, 2], [2, 3, 2], [2, 4, 5], [1, 2, 4], [3, 4, 4], [2, 4, 5], [1, 3, 4]];
const SIX_BY_FOUR = [
  [0.126, 0.368, 1.64, 1.605], [-0.536, 0.862, 2.304, 2.447], [-0.704, -0.765, 0.377, 1.541],
  [-2.325, 0.281, -0.246, 0.768], [-0.544, 0.184, 1.412, 2.543], [-0.129, 1.866, 0.335, 1.852],
];
const table = (rows: number, cols: number, f: (i: number, j: number) => number): number[][] =>
  Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => f(i, j)));

test('Page L and p match SciPy 1.17 page_trend_test (exact and asymptotic, 1e-12 relative)', () => {
  const cases: [number[][], 'auto' | 'exact' | 'asymptotic', number, number, 'exact' | 'asymptotic'][] = [
    [STUDENTS, 'auto', 133.5, 0.0018191161948127822, 'exact'],
    [STUDENTS, 'asymptotic', 133.5, 0.0012693433690751756, 'asymptotic'],
    [SIX_BY_FOUR, 'auto', 174, 0.0001159950538917824, 'exact'],
    [SIX_BY_FOUR, 'asymptotic', 174, 0.00034425694832253864, 'asymptotic'],
    [SIX_BY_FOUR.map((r) => [...r].reverse()), 'auto', 126, 0.9999545480652271, 'exact'],
    [table(30, 10, (i, j) => ((i * 7 + j * 13) % 11) + 0.1 * j), 'auto', 9175, 0.2533751962145717, 'asymptotic'],
    [table(12, 4, (i, j) => ((i * 5 + j * 3) % 7) + 0.3 * j), 'auto', 290, 0.8513537742253776, 'exact'],
    [table(12, 4, (i, j) => ((i * 5 + j * 3) % 7) + 0.3 * j), 'asymptotic', 290, 0.8413447460685429, 'asymptotic'],
    [table(3, 8, (i, j) => ((i * 5 + j * 3) % 7) + 0.3 * j), 'auto', 486, 0.5070785148869672, 'exact'],
  ];
  for (const [data, method, l, p, used] of cases) {
    const r = pageTrendTest(data, method);
    const label = `${data.length}×${data[0].length} ${method}`;
    assert.equal(r.statistic, l, `${label}: L`);
    assert.equal(r.method, used, `${label}: method`);
    assert.ok(close(r.pValue, p, 1e-12, 1e-15), `${label}: p ${r.pValue} vs ${p}`);
  }
});

test('exact p equals a brute-force count over every ranking of every row (3 rows × 4 columns)', () => {
  const data = [[1, 3, 2, 4], [2, 1, 4, 3], [1, 2, 3, 4]];
  const r = pageTrendTest(data, 'exact');
  const perms: number[][] = [];
  const permute = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) perms.push(prefix);
    rest.forEach((v, i) => permute([...prefix, v], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  permute([], [1, 2, 3, 4]);
  const rowL = perms.map((p) => p.reduce((s, v, j) => s + (j + 1) * v, 0));
  let atLeast = 0;
  for (const a of rowL) for (const b of rowL) for (const c of rowL) if (a + b + c >= r.statistic) atLeast++;
  assert.equal(r.statistic, 1 * 4 + 2 * 6 + 3 * 9 + 4 * 11);
  assert.ok(Math.abs(r.pValue - atLeast / 24 ** 3) < 1e-15, `${r.pValue} vs ${atLeast / 24 ** 3}`);
});

test('meanRankCorrelation is the mean of the rows\' Spearman ρ with the column order (1 for rising rows)', () => {
  assert.equal(pageTrendTest([[1, 2, 3, 4], [5, 6, 7, 8]]).meanRankCorrelation, 1);
  assert.equal(pageTrendTest([[4, 3, 2, 1], [8, 7, 6, 5]]).meanRankCorrelation, -1);
  // rows ranked (1,3,2) → ρ = 0.5 and (2,1,3) → ρ = 0.5
  assert.ok(Math.abs(pageTrendTest([[1, 3, 2], [2, 1, 3]]).meanRankCorrelation - 0.5) < 1e-15);
});

test('Page rejects too small tables, ragged rows, NaN and an exact request over 9 columns', () => {
  assert.throws(() => pageTrendTest([[1, 2, 3]]), /at least 2 rows and 3 columns/);
  assert.throws(() => pageTrendTest([[1, 2], [3, 4]]), IclitError);
  assert.throws(() => pageTrendTest([[1, 2, 3], [1, 2]]), /row 1 has 2 values/);
  assert.throws(() => pageTrendTest([[1, NaN, 3], [1, 2, 3]]), /row 0, column 1 is NaN/);
  assert.throws(() => pageTrendTest(table(2, 10, (i, j) => j), 'exact'), /10 columns > 9/);
  // @ts-expect-error: invalid option on purpose
  assert.throws(() => pageTrendTest([[1, 2, 3], [1, 2, 3]], 'permutation'), IclitError);
});
