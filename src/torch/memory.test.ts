// The CPU tensor cache: bounded under tensor sizes that keep changing (prompts of varying length), and trimmable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheStats, randn, releaseCachedMemory, tidy } from './index.js';
import { seededRandom } from '../util/random.js';

const mb = (bytes: number) => bytes / 2 ** 20;

/** One forward-like step on L rows: matmuls, an activation, an L×L score matrix and its softmax. */
function step(L: number, w1: ReturnType<typeof randn>, w2: ReturnType<typeof randn>): void {
  tidy(() => {
    const y = randn([L, 256]).matmul(w1).silu().matmul(w2); // [L, 256]
    void y.matmul(y.transpose(0, 1)).softmax(-1); // [L, L]
  });
}

test('tensors of ever-changing sizes keep the cache and RSS bounded (size classes), and releaseCachedMemory empties it', () => {
  const w1 = randn([256, 768]);
  const w2 = randn([768, 256]);
  const rng = seededRandom(1);
  const length = () => 16 + Math.floor(rng() * 400);
  for (let i = 0; i < 50; i++) step(length(), w1, w2);
  const cached0 = cacheStats().cached;
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 800; i++) step(length(), w1, w2);
  const grewCache = mb(cacheStats().cached - cached0);
  const grewRss = mb(process.memoryUsage().rss - rss0);
  // A cache keyed on exact sizes (the allocator before size classes) grew by ~200 MB here, and RSS with it.
  assert.ok(grewCache < 24, `the cache grew by ${grewCache.toFixed(1)} MB over 800 steps of varying length`);
  assert.ok(grewRss < 48, `RSS grew by ${grewRss.toFixed(1)} MB over 800 steps of varying length`);

  const before = cacheStats();
  assert.ok(before.cached > 0 && before.limit > 0, 'something is cached after the loop');
  const rssBefore = process.memoryUsage().rss;
  const released = releaseCachedMemory();
  assert.equal(released, before.cached, 'releaseCachedMemory reports what it freed');
  assert.equal(cacheStats().cached, 0, 'nothing is cached after a release');
  assert.ok(process.memoryUsage().rss <= rssBefore, 'RSS does not grow from a release');
  step(100, w1, w2); // the allocator works on after a release
  assert.ok(cacheStats().live >= 0);
  w1.dispose();
  w2.dispose();
});
