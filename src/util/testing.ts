// Test helpers shared by every tier: locating ../shared fixtures, skipping clearly, comparing numbers with tolerances.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from './paths.js';
import assert from 'node:assert/strict';

export { repoRoot };

/** `../shared` beside the repository (override with ICLIT_SHARED). */
export function sharedDir(): string {
  return process.env.ICLIT_SHARED ?? resolve(repoRoot(), '..', 'shared');
}

/**
 * The path of `rel` inside ../shared, or undefined when it is missing. Fixture-tier tests pass the result to
 * `t.skip` so that the report says plainly why they did not run.
 */
export function sharedPath(rel: string): string | undefined {
  const p = join(sharedDir(), rel);
  return existsSync(p) ? p : undefined;
}

/** The skip message for a fixture-tier test whose ../shared input is missing. */
export function missingShared(rel: string): string {
  return `needs ${join(sharedDir(), rel)} (the ../shared fixtures are not present; set ICLIT_SHARED to their folder)`;
}

/** Anything with node:test's `after` hook: a test's context `t`, or the module-level `test` for a whole file. */
export interface AfterScope {
  after(fn: () => void): unknown;
}

/**
 * A fresh empty folder under the OS temp dir, removed (with everything in it) when `scope` finishes: pass the
 * test's `t` for one test, or `test` itself for a folder shared by a whole file.
 */
export function tempDir(scope: AfterScope, prefix = 'iclit-'): string {
  const dir = makeTempDir(prefix);
  scope.after(() => removeTempDir(dir));
  return dir;
}

/**
 * A fresh empty folder under `parent` (default: the OS temp dir) that the caller removes with `removeTempDir`
 * (in a `finally`), or that lives inside a folder from `tempDir`.
 */
export function makeTempDir(prefix = 'iclit-', parent = tmpdir()): string {
  return mkdtempSync(join(parent, prefix));
}

/** Removes a folder made by `makeTempDir` and everything in it; a missing folder is fine. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Opt-in tiers: ICLIT_TEST_LARGE=1 for large models, ICLIT_TEST_GPU=1 for CUDA. */
export const largeTests = process.env.ICLIT_TEST_LARGE === '1';
export const gpuTests = process.env.ICLIT_TEST_GPU === '1';
/** The device the GPU tier runs on (ICLIT_TEST_GPU_DEVICE=cpu runs its comparisons CPU against CPU, to check the tests themselves). */
export const gpuDevice = process.env.ICLIT_TEST_GPU_DEVICE ?? 'cuda:0';

/** Asserts |a - e| <= atol + rtol * |e| elementwise, naming the worst element on failure. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, label = 'values'): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (Number.isNaN(a) !== Number.isNaN(e) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Largest absolute elementwise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
