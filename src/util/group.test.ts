// Tests for groupBy: first-seen key order, item order within groups, empty input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupBy } from './group.js';

test('groupBy keeps the first-seen order of keys and of items within each group', () => {
  const g = groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (s) => s[0]);
  assert.deepEqual([...g.keys()], ['b', 'a', 'c']);
  assert.deepEqual(g.get('a'), ['a1', 'a2']);
  assert.deepEqual(g.get('b'), ['b1', 'b2']);
  assert.equal(groupBy([], String).size, 0);
});
