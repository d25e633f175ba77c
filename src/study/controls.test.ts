// --controls through openStudy: the control conditions' records, resume, controls added to a finished folder, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { recordCondition, type ControlName, type RepeatRecord } from '../experiments/index.js';
import { writeTinyStudy } from '../experiments/testing.js';
import { tempDir } from '../util/testing.js';
import { mergeSettings, type PartialSettings } from './settings.js';
import { openStudy } from './study.js';
import { QUICK_STUDY, storedResults } from './testing.js';

const root = tempDir(test, 'iclit-study-controls-');
const tiny = writeTinyStudy(root);
const quick = QUICK_STUDY;

async function run(out: string, controls: ControlName[], over: PartialSettings = {}) {
  const study = await openStudy(mergeSettings({ preset: 'convergence', models: [tiny.model], data: tiny.sst2, ...quick, controls, ...over }, {}), out);
  try {
    return { action: study.action, summary: await study.run() };
  } finally {
    study.close();
  }
}

const stored = storedResults;

const names = (rs: RepeatRecord[]): string[] => [...new Set(rs.map((r) => r.condition))].sort();

test('a run with --controls writes the three control conditions\' records beside the preset\'s; the same command again resumes them (nothing computed)', async () => {
  const out = join(root, 'all');
  const first = await run(out, ['untrained', 'random-adapter', 'shuffled-labels']);
  assert.equal(first.action, 'new');
  // two runs on the model (its own conditions, then the untrained copy) over the same two repeats: each counts once
  assert.deepEqual([first.summary.computed, first.summary.skipped], [2, 0]);
  const { records, manifest } = stored(out);
  assert.deepEqual(names(records), ['control:random-adapter', 'control:shuffled-labels', 'control:untrained', 'right-labels']);
  assert.equal(records.length, 8);
  for (const r of records) assert.equal(recordCondition(r).control, r.condition.startsWith('control:') ? r.condition.slice('control:'.length) : null);
  assert.deepEqual((manifest.config as { controls: string[] }).controls, ['untrained', 'random-adapter', 'shuffled-labels']);
  const again = await run(out, ['shuffled-labels', 'random-adapter', 'untrained']); // the order named does not matter
  assert.equal(again.action, 'resume');
  assert.deepEqual([again.summary.computed, again.summary.skipped], [0, 2]);
  assert.deepEqual(stored(out).records, records);
});

test('controls added to a folder computed without them: only the control conditions are computed, the earlier records stay; fewer controls are refused (or --force)', async () => {
  const out = join(root, 'extend');
  await run(out, []);
  const plain = stored(out);
  assert.equal(plain.records.length, 2);
  assert.equal('controls' in (plain.manifest.config as object), false, 'no controls: the config (and its hash) as before controls existed');
  const added = await run(out, ['untrained']);
  assert.equal(added.action, 'extend');
  assert.deepEqual([added.summary.computed, added.summary.skipped], [2, 0], 'the untrained copy computes its 2 repeats (the model\'s own conditions were done): both repeats had something to compute');
  const more = await run(out, ['untrained', 'shuffled-labels']);
  assert.equal(more.action, 'extend');
  assert.deepEqual([more.summary.computed, more.summary.skipped], [2, 0], 'the model computes shuffled labels; the untrained copy has nothing left');
  const { records, manifest } = stored(out);
  assert.deepEqual(names(records), ['control:shuffled-labels', 'control:untrained', 'right-labels']);
  assert.deepEqual(records.filter((r) => r.condition === 'right-labels'), plain.records, 'the earlier records are kept as they were');
  assert.deepEqual(manifest.extends?.length, 2);
  assert.equal(records.filter((r) => r.condition === 'control:shuffled-labels')[0].configHash, manifest.configHash);
  // dropping a control, or changing anything else, is another setup
  await assert.rejects(run(out, ['untrained']), /different setup: .*config\.controls/);
  await assert.rejects(run(out, ['untrained', 'shuffled-labels', 'random-adapter'], { lr: 2e-3 }), /different setup: .*config\.lr/);
  const forced = await openStudy(mergeSettings({ preset: 'convergence', models: [tiny.model], data: tiny.sst2, ...quick, controls: [] }, {}), out, { force: true });
  assert.equal(forced.action, 'replace');
  forced.close();
});

test('--controls refused where it cannot apply: shuffled labels need labelled demonstrations and two repeats (before anything is written)', async () => {
  await assert.rejects(run(join(root, 'one'), ['shuffled-labels'], { repeats: 1 }), /--controls shuffled-labels .* needs --repeats 2 or more/);
  await assert.rejects(openStudy(mergeSettings({ preset: 'translation', models: [tiny.model], data: tiny.wmt, ...quick, controls: ['shuffled-labels'] }, {}), join(root, 'tr')), /--controls shuffled-labels needs labelled demonstrations; preset translation's first condition has translation demonstrations/);
});
