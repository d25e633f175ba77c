// No output ever overwrites an input: every "data lost" case of issue 23 refused in one line, exit 1, the inputs byte-identical afterwards.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyEncoderConfig, writeRandomEncoderCheckpoint } from '../io/bert-config.js';
import { writeSentenceModules } from '../models/index.js';
import { writeTinyStudy } from '../experiments/testing.js';
import { DB_FILE, MANIFEST_FILE } from '../results/index.js';
import { runCli } from './testing.js';
import { makeTempDir, tempDir } from '../util/testing.js';

const root = tempDir(test, 'iclit-sacred-');
const tiny = writeTinyStudy(root);
const results = join(root, 'results');
const encoder = join(root, 'encoder');
const train = join(root, 'train.jsonl');
const texts = join(root, 'texts.txt');

/** A digest of every file under `path` (names and bytes; links by name), to prove nothing changed; SQLite's transient -wal/-shm files aside. */
function digest(path: string): string {
  const h = createHash('sha256');
  const walk = (p: string, rel: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) h.update(`link ${rel}\n`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n), `${rel}/${n}`);
    else if (st.isFile() && !/-(wal|shm)$/.test(rel)) h.update(`${rel} ${st.size}\n`).update(readFileSync(p));
  };
  walk(path, '');
  return h.digest('hex');
}

before(async () => {
  const made = await runCli(['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '1', '--epochs', '1', '--save-adapters', '--out', results]);
  assert.equal(made.code, 0, made.err);
  const c = tinyEncoderConfig();
  writeSentenceModules(writeRandomEncoderCheckpoint(encoder, c, { seed: 3 }), c.hiddenSize);
  writeFileSync(train, '{"input_ids": [1, 2, 3]}\n');
  writeFileSync(texts, 'one text\n');
});

/** A bad command: exit 1, one `iclit:` line matching `says`, and every input unchanged. */
async function refused(args: string[], says: RegExp, inputs: string[]): Promise<void> {
  const before = inputs.map(digest);
  const r = await runCli(args);
  const what = `iclit ${args.join(' ')}`;
  assert.equal(r.code, 1, `${what}: exit ${r.code}, ${r.err}`);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line, got ${r.err}`);
  assert.match(lines[0], /^iclit: /, what);
  assert.match(lines[0], says, what);
  assert.deepEqual(inputs.map(digest), before, `${what}: the inputs are byte-identical`);
}

test('export never writes over the results database, the manifest or the run\'s own data file', async () => {
  for (const target of [join(results, DB_FILE), join(results, MANIFEST_FILE), tiny.sst2]) {
    await refused(['export', results, '--format', 'csv', '--out', target], /^iclit: export file .* is the .* an input of this command/, [results, tiny.sst2]);
  }
  await refused(['export', results, '--format', 'csv', '--out', join(results, 'states', 'x.csv')], /lies inside the states of results folder/, [results]);
  // beside the folder's own files is fine
  const ok = await runCli(['export', results, '--format', 'csv', '--out', join(results, 'records.csv')]);
  assert.equal(ok.code, 0, ok.err);
});

test('activations and embed never write over the weights they read (also through a symlinked folder)', async () => {
  await refused(['activations', '--model', tiny.model, '--ids', '1,2,3', '--out', join(tiny.model, 'model.safetensors')], /output file .* is the model folder|lies inside the model folder/, [tiny.model]);
  const link = join(makeTempDir('link-', root), 'm');
  symlinkSync(tiny.model, link);
  await refused(['activations', '--model', tiny.model, '--ids', '1,2,3', '--out', join(link, 'model.safetensors')], /lies inside the model folder/, [tiny.model]);
  await refused(['embed', '--encoder', encoder, '--ids-json', join(root, 'none.json'), '--out', join(encoder, 'model.safetensors')], /lies inside the encoder folder/, [encoder]);
  await refused(['embed', '--encoder', encoder, '--file', texts, '--out', texts], /output file .* is the text file/, [encoder, texts]);
});

test('tune, report and run never write into a model folder (nor over their data)', async () => {
  await refused(['tune', '--model', tiny.model, '--data', train, '--out', tiny.model], /adapter folder .* is the model folder/, [tiny.model, train]);
  await refused(['tune', '--model', tiny.model, '--data', train, '--out', join(tiny.model, 'adapter')], /lies inside the model folder/, [tiny.model, train]);
  await refused(['report', results, '--out', tiny.model], /report folder .* is the model folder \(of .*results\)/, [tiny.model, results]);
  await refused(['report', results, '--out', join(results, 'states')], /is the states of results folder/, [results]);
  const run = ['run', 'convergence', '--model', tiny.model, '--data', tiny.sst2, '--repeats', '1', '--epochs', '1'];
  await refused([...run, '--out', join(tiny.model, 'results')], /results folder .* lies inside the model folder/, [tiny.model, tiny.sst2]);
  await refused([...run, '--out', tiny.model], /results folder .* is the model folder/, [tiny.model, tiny.sst2]);
  assert.equal(existsSync(join(tiny.model, 'results')), false, 'nothing created');
  await refused(['merge', results, '--out', join(results, 'adapters')], /is the adapters of results folder/, [results]);
});
