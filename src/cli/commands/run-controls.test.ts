// `iclit run --controls`: the flag and YAML key checked with one line, the control conditions run and said in the estimate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../testing.js';
import { ResultsStore } from '../../results/index.js';
import { writeTinyStudy } from '../../experiments/testing.js';
import { DEMO_LABEL_WORDS, generateCorpus, writeSst2Tsv } from '../../data/synthetic/index.js';
import { repoRoot } from '../../util/paths.js';
import { tempDir } from '../../util/testing.js';

const root = tempDir(test, 'iclit-run-controls-');
const tiny = writeTinyStudy(root);
const base = ['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '2', '--epochs', '1', '--device', 'cpu', '--dtype', 'float32'];

test('an unknown control name is refused with one line naming the flag (exit 2), and a config file\'s with one naming its key (exit 1); nothing is written', async () => {
  const out = join(root, 'bad');
  const flag = await runCli([...base, '--controls', 'untrained,random', '--out', out]);
  assert.equal(flag.code, 2);
  assert.equal(flag.err, 'iclit: --controls must be controls from untrained, random-adapter, shuffled-labels, got "random"\n');
  const empty = await runCli([...base, '--controls', '', '--out', out]);
  assert.equal(empty.code, 2);
  assert.match(empty.err, /^iclit: --controls must be a list of controls from untrained, random-adapter, shuffled-labels, got ""\n$/);
  const yaml = join(root, 'c.yaml');
  writeFileSync(yaml, `preset: convergence\nmodels: [${tiny.model}]\ndata: ${tiny.sst2}\ncontrols: [untrained, frozen]\n`);
  const file = await runCli(['run', yaml, '--out', out]);
  assert.equal(file.code, 1);
  assert.equal(file.err, `iclit: ${yaml}: key 'controls' must be controls from untrained, random-adapter, shuffled-labels, got "frozen"\n`);
  assert.equal(existsSync(out), false);
});

test('iclit run --controls untrained,random-adapter,shuffled-labels: the estimate counts four conditions and the folder holds their records', async () => {
  const out = join(root, 'ok');
  const r = await runCli([...base, '--controls', 'untrained,random-adapter,shuffled-labels', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /estimate: 2 repeat\(s\) × 4 condition\(s\) of convergence/);
  const store = ResultsStore.open(out, { readonly: true });
  try {
    assert.deepEqual(store.summary().map((x) => [x.condition, x.n]), [['control:random-adapter', 2], ['control:shuffled-labels', 2], ['control:untrained', 2], ['right-labels', 2]]);
  } finally {
    store.close();
  }
});

test('must show: on the demo model the untrained control gives visibly different numbers from the trained model, and iclit report shows them side by side', async () => {
  const data = writeSst2Tsv(join(root, 'demo', 'sst2.tsv'), generateCorpus(0, { trainingTexts: 0 }).heldOut.sentiment);
  const out = join(root, 'demo', 'results');
  const model = join(repoRoot(), 'models', 'iclit-demo');
  const r = await runCli(['run', 'convergence', '--model', model, '--data', data, '--repeats', '4', '--epochs', '4', '--lr', '1e-2', '--labels', DEMO_LABEL_WORDS.join(','), '--device', 'cpu', '--dtype', 'float32', '--controls', 'untrained', '--out', out]);
  assert.equal(r.code, 0, r.err);
  const report = await runCli(['report', out, '--out', join(root, 'demo', 'report')]);
  assert.equal(report.code, 0, report.err);
  const md = readFileSync(join(root, 'demo', 'report', 'report.md'), 'utf8');
  // the last-layer table: | condition | n | layer | s(anchor,ICL) median / mean / IQR | s(anchor,IT) … | s(ICL,IT) … | …
  const row = (condition: string): number[] => {
    const line = md.split('\n').find((l) => l.startsWith(`| ${condition} | 4 |`));
    assert.ok(line, `report.md has a last-layer row for ${condition}`);
    return line.split('|').slice(4, 7).map((cell) => Number(cell.trim().split(' / ')[0])); // the three medians
  };
  const trained = row('right-labels');
  const untrained = row('control:untrained');
  const gaps = trained.map((v, i) => Math.abs(v - untrained[i]));
  assert.ok(gaps.every(Number.isFinite));
  assert.ok(Math.max(...gaps) > 0.3, `medians s(anchor,ICL), s(anchor,IT), s(ICL,IT): trained ${trained.join(', ')}, untrained ${untrained.join(', ')}`);
});
