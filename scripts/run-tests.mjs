// Runs node's test runner with TMPDIR pointing at a fresh empty folder, and fails (listing them) when tests leave files there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const targets = process.argv.slice(2);
const tmp = mkdtempSync(join(tmpdir(), 'iclit-test-tmp-'));
let code = 1;
try {
  const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
  const args = ['--test', '--test-concurrency=1', ...(targets.length ? targets : ['dist/src'])];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  code = r.status ?? 1;
  const left = leftovers(tmp);
  if (left.length > 0) {
    process.stderr.write(`npm test: tests left ${left.length} file(s) or folder(s) in TMPDIR (every test must remove what it writes):\n`);
    for (const l of left.slice(0, 50)) process.stderr.write(`  ${l}\n`);
    if (left.length > 50) process.stderr.write(`  … and ${left.length - 50} more\n`);
    code = code || 1;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);

/** Top-level entries of `dir` with their size (bytes, recursive), largest first. */
function leftovers(dir) {
  return readdirSync(dir)
    .map((name) => ({ name, bytes: sizeOf(join(dir, name)) }))
    .sort((a, b) => b.bytes - a.bytes)
    .map(({ name, bytes }) => `${name} (${bytes} bytes)`);
}

function sizeOf(path) {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, n) => sum + sizeOf(join(path, n)), 0);
}
