// Spreading a run over workers: `iclit run --shard I/N` per worker, `iclit merge` after, equals one plain run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ResultsStore } from '../../results/index.js';
import { writeTinyStudy } from '../../experiments/testing.js';
import type { RepeatRecord } from '../../experiments/record.js';
import { repoRoot } from '../../util/paths.js';
import { tempDir } from '../../util/testing.js';

const root = tempDir(test, 'iclit-merge-');
const tiny = writeTinyStudy(root);

function iclit(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), ...args], { encoding: 'utf8' });
}
function records(dir: string): unknown[] {
  const s = ResultsStore.open(dir, { readonly: true });
  try {
    return s.records().map(({ millis: _m, ...rest }: RepeatRecord) => rest);
  } finally {
    s.close();
  }
}

test('three shards run separately and merged equal one uninterrupted run; mismatched setups are refused', () => {
  const common = ['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '5', '--batch', '1', '--shots', '2', '--epochs', '1', '--seed', '4'];
  const whole = join(root, 'whole');
  assert.equal(iclit(...common, '--out', whole).status, 0);
  const shards = [0, 1, 2].map((i) => {
    const dir = join(root, `shard-${i}`);
    const r = iclit(...common, '--shard', `${i}/3`, '--out', dir);
    assert.equal(r.status, 0, r.stderr);
    return dir;
  });
  assert.deepEqual(shards.map((d) => records(d).length), [2, 2, 1]);
  const merged = join(root, 'merged');
  const m = iclit('merge', ...shards, '--out', merged, '--json');
  assert.equal(m.status, 0, m.stderr);
  assert.equal(JSON.parse(m.stdout).added, 5);
  assert.deepEqual(records(merged), records(whole));
  // merging again adds nothing; a run with another seed cannot be merged in
  assert.equal(JSON.parse(iclit('merge', ...shards, '--out', merged, '--json').stdout).added, 0);
  const other = join(root, 'other');
  assert.equal(iclit(...common.slice(0, -1), '5', '--shard', '0/3', '--out', other).status, 0);
  const bad = iclit('merge', shards[0], other, '--out', join(root, 'bad'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /was run with a different setup than .*seed \(4 → 5\)/);
  assert.equal(iclit(...common, '--shard', '3/3', '--out', join(root, 'x')).status, 2);
});

test('a shard run with another --batch holds the same repeats (r mod N) and merges: --batch is not in the configuration', () => {
  const common = ['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '5', '--shots', '2', '--epochs', '1', '--seed', '4', '--shard', '1/2'];
  const one = join(root, 'batch-1');
  const three = join(root, 'batch-3');
  assert.equal(iclit(...common, '--batch', '1', '--out', one).status, 0);
  assert.equal(iclit(...common, '--batch', '3', '--out', three).status, 0);
  const repeats = (dir: string) => (records(dir) as RepeatRecord[]).map((r) => r.repeat).sort();
  assert.deepEqual(repeats(one), [1, 3]);
  assert.deepEqual(repeats(three), [1, 3]);
  const other = join(root, 'batch-3-shard-0');
  assert.equal(iclit(...common.slice(0, -1), '0/2', '--batch', '3', '--out', other).status, 0);
  const m = iclit('merge', one, other, '--out', join(root, 'batch-merged'), '--json');
  assert.equal(m.status, 0, m.stderr);
  assert.equal(JSON.parse(m.stdout).added, 5);
});
