// One writer per results folder: a second writer is refused naming the holder; readers pass; the lock dies with a SIGKILLed holder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeTinyStudy } from '../experiments/testing.js';
import { IclitError } from '../util/errors.js';
import { repoRoot } from '../util/paths.js';
import { makeTempDir, tempDir } from '../util/testing.js';
import { HOLDER_FILE, ResultsLock, readHolder } from './lock.js';
import { ResultsStore } from './store.js';
import { sampleRecord } from './testing.js';

const root = tempDir(test, 'iclit-lock-');
const refusedBy = (pid: number) => (e: unknown) =>
  e instanceof IclitError && !e.message.includes('\n') &&
  new RegExp(`^results folder .* is being written by process ${pid} on ${hostname()}.*, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; wait for that run to finish or choose another --out$`).test(e.message);

/** A child process that opens `dir` as a writer, says "locked" on stdout and then waits to be killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const storeUrl = pathToFileURL(join(import.meta.dirname, 'store.js')).href;
  const script = `const { ResultsStore } = await import(${JSON.stringify(storeUrl)});
    ResultsStore.open(${JSON.stringify(dir)}, { create: true });
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited early (${code}): ${err}`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

test('in one process: a second writer is refused naming this process; after close the next writer proceeds', () => {
  const dir = makeTempDir('same-', root);
  const first = ResultsStore.open(dir, { create: true });
  assert.deepEqual(readHolder(dir)?.pid, process.pid);
  assert.throws(() => ResultsStore.open(dir), refusedBy(process.pid));
  assert.throws(() => ResultsStore.open(dir), /\(this process\)/);
  const reader = ResultsStore.open(dir, { readonly: true });
  assert.equal(reader.records().length, 0, 'readers are not blocked');
  reader.close();
  first.close();
  assert.equal(existsSync(join(dir, HOLDER_FILE)), false, 'close removes the holder file');
  const second = ResultsStore.open(dir);
  second.saveRecords([sampleRecord()]);
  second.close();
});

test('a child process holding the folder refuses this writer in one line (pid, host, since); after its SIGKILL the next writer proceeds', async () => {
  const dir = makeTempDir('child-', root);
  const child = await holder(dir);
  try {
    assert.throws(() => ResultsStore.open(dir), refusedBy(child.pid!));
    assert.throws(() => ResultsLock.acquire(dir), refusedBy(child.pid!));
    const reader = ResultsStore.open(dir, { readonly: true });
    assert.equal(reader.records().length, 0, 'a reader opens while the child writes');
    reader.close();
  } finally {
    await kill9(child);
  }
  assert.equal(readHolder(dir)?.pid, child.pid, 'the killed holder left its (stale) holder file');
  const next = ResultsStore.open(dir);
  assert.equal(readHolder(dir)?.pid, process.pid, 'the new holder replaced it');
  next.saveRecords([sampleRecord()]);
  next.close();
});

test('iclit run into a folder another run holds exits 1 with one line naming that process', async () => {
  const tiny = writeTinyStudy(makeTempDir('study-', root), { rows: 16 });
  const out = join(makeTempDir('run-', root), 'out');
  const child = await holder(out);
  try {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), 'run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '1', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^iclit: results folder .*out is being written by process ${child.pid} on `));
  } finally {
    await kill9(child);
  }
});
