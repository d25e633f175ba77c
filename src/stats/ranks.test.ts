// Tests for average ranks (as scipy.stats.rankdata, method "average") and tie-group sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averageRanks, tieGroupSizes } from './ranks.js';

test('averageRanks gives 1-based ranks with ties sharing their mean rank', () => {
  assert.deepEqual(Array.from(averageRanks([10, 30, 20])), [1, 3, 2]);
  // rankdata([0.3, 0.1, 0.3, 0.2, 0.3, 0.1]) = [5, 1.5, 5, 3, 5, 1.5]
  assert.deepEqual(Array.from(averageRanks([0.3, 0.1, 0.3, 0.2, 0.3, 0.1])), [5, 1.5, 5, 3, 5, 1.5]);
  assert.deepEqual(Array.from(averageRanks([])), []);
});

test('tieGroupSizes lists groups of equal values larger than one', () => {
  assert.deepEqual(tieGroupSizes([0.3, 0.1, 0.3, 0.2, 0.3, 0.1]), [2, 3]);
  assert.deepEqual(tieGroupSizes([1, 2, 3]), []);
});
