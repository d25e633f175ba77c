// Tests of the temp-folder helpers and of the suite check (scripts/run-tests.mjs) that fails when a test leaves files in TMPDIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeTempDir, removeTempDir, repoRoot, tempDir } from './testing.js';

test('tempDir: a fresh folder under the OS temp dir, removed with its contents when the test ends', async (t) => {
  let seen = '';
  await t.test('inner', (t2) => {
    seen = tempDir(t2, 'iclit-helper-');
    assert.equal(dirname(seen), tmpdir());
    writeFileSync(join(seen, 'x.bin'), 'data');
    assert.ok(existsSync(join(seen, 'x.bin')));
  });
  assert.ok(seen.length > 0);
  assert.equal(existsSync(seen), false, `${seen} still exists after its test ended`);
});

test('makeTempDir/removeTempDir: folder inside the given parent; removing twice is fine', (t) => {
  const root = tempDir(t, 'iclit-helper-');
  const d = makeTempDir('sub-', root);
  assert.equal(dirname(d), root);
  writeFileSync(join(d, 'f'), '1');
  removeTempDir(d);
  assert.equal(existsSync(d), false);
  removeTempDir(d);
});

/** Runs scripts/run-tests.mjs on one generated test file whose body is `body`. */
function suiteCheck(t: Parameters<typeof tempDir>[0], body: string) {
  const dir = tempDir(t, 'iclit-suite-');
  const file = join(dir, 'case.test.mjs');
  writeFileSync(file, `import { test } from 'node:test';\nimport { mkdtempSync, rmSync, writeFileSync } from 'node:fs';\nimport { tmpdir } from 'node:os';\nimport { join } from 'node:path';\n${body}\n`);
  // NODE_TEST_CONTEXT would make the inner runner think it is a child of this one and skip the file.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return spawnSync(process.execPath, [join(repoRoot(), 'scripts', 'run-tests.mjs'), file], { encoding: 'utf8', env });
}

test('suite check: a test that leaves a folder in TMPDIR fails the run and the leftover is listed', (t) => {
  const r = suiteCheck(t, `test('leaky', () => { const d = mkdtempSync(join(tmpdir(), 'leaky-')); writeFileSync(join(d, 'a'), 'abc'); });`);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /tests left 1 file\(s\) or folder\(s\) in TMPDIR/);
  assert.match(r.stderr, /leaky-\w+ \(3 bytes\)/);
});

test('suite check: a test that removes what it writes passes, and the check leaves no folder of its own', (t) => {
  const r = suiteCheck(t, `test('tidy', () => { const d = mkdtempSync(join(tmpdir(), 'tidy-')); writeFileSync(join(d, 'a'), 'abc'); rmSync(d, { recursive: true }); });`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, /left/);
});

test('suite check: a failing test fails the run even when it leaves nothing', (t) => {
  const r = suiteCheck(t, `test('fails', () => { throw new Error('boom'); });`);
  assert.notEqual(r.status, 0);
});
