// Issue 23's late refusals: a lying or broken checkpoint (shapes, dtypes, missing, NaN/Inf, all-zero weights) and an encoder without a tokenizer are refused before the results folder exists, and the corrected rerun needs no --force.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyEncoderConfig, writeRandomEncoderCheckpoint } from '../io/bert-config.js';
import { writeSentenceModules } from '../models/index.js';
import { writeTinyStudy } from '../experiments/testing.js';
import { runCli } from './testing.js';
import { ResultsStore } from '../results/index.js';
import { makeTempDir, tempDir } from '../util/testing.js';
import { forgeSafetensors, safetensorsParts, type HeaderEntry } from '../io/testing.js';

type Header = Record<string, HeaderEntry>;

const root = tempDir(test, 'iclit-late-');
const tiny = writeTinyStudy(root);
const encoder = join(root, 'encoder');

before(() => {
  const c = tinyEncoderConfig();
  writeSentenceModules(writeRandomEncoderCheckpoint(encoder, c, { seed: 3 }), c.hiddenSize);
});


/** Edits the tiny model's weights file in place through its header and data bytes. */
function lie(dir: string, edit: (header: Header, data: Buffer) => Buffer | void): void {
  const file = join(dir, 'model.safetensors');
  const { header, data } = safetensorsParts<Header>(file);
  const out = edit(header, data) ?? data;
  forgeSafetensors(file, JSON.stringify(header), out);
}

const UP = 'model.layers.0.mlp.up_proj.weight';

const cases: [string, (dir: string) => void, RegExp][] = [
  ['a shape lie of the same byte size', (dir) => lie(dir, (h) => void (h[UP].shape = [...h[UP].shape].reverse())), /weight 'model\.layers\.0\.mlp\.up_proj\.weight' in .*model\.safetensors has shape \[32, \d+\], the config implies \[\d+, 32\]/],
  ['a float weight relabelled I32', (dir) => lie(dir, (h) => void (h[UP].dtype = 'I32')), /weight 'model\.layers\.0\.mlp\.up_proj\.weight' in .* is stored as int32; model weights must be floating point/],
  ['a weight holding NaN', (dir) => lie(dir, (h, d) => void d.writeFloatLE(NaN, h[UP].data_offsets[0] + 8)), /weight 'model\.layers\.0\.mlp\.up_proj\.weight' in .* holds 1 NaN value\(s\)/],
  ['a weight holding +Inf', (dir) => lie(dir, (h, d) => void d.writeFloatLE(Infinity, h[UP].data_offsets[0])), /holds 1 infinite value\(s\)/],
  ['every weight zero', (dir) => lie(dir, (_h, d) => Buffer.alloc(d.length)), /weight 'model\.embed_tokens\.weight' in .* is all zeros/],
  ['config saying more layers than the checkpoint holds', (dir) => {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, num_hidden_layers: 3 }));
  }, /has no weight 'model\.layers\.2\.input_layernorm\.weight' \(config\.json says num_hidden_layers 3\)/],
];

const args = (model: string, out: string): string[] => ['run', 'convergence', '--model', model, '--data', tiny.sst2, '--repeats', '1', '--epochs', '1', '--out', out];

test('a lying checkpoint is refused before the results folder exists; the corrected rerun works without --force', async () => {
  for (const [name, edit, says] of cases) {
    const dir = join(makeTempDir('case-', root), 'model');
    cpSync(tiny.model, dir, { recursive: true });
    const honest = readFileSync(join(dir, 'model.safetensors'));
    const config = readFileSync(join(dir, 'config.json'));
    edit(dir);
    const out = join(dir, '..', 'results');
    const r = await runCli(args(dir, out));
    assert.equal(r.code, 1, `${name}: exit ${r.code}, ${r.err}`);
    assert.equal(r.err.trimEnd().split('\n').length, 1, `${name}: one line, got ${r.err}`);
    assert.match(r.err, /^iclit: /, name);
    assert.match(r.err, says, name);
    assert.equal(existsSync(out), false, `${name}: no results folder`);
    writeFileSync(join(dir, 'model.safetensors'), honest);
    writeFileSync(join(dir, 'config.json'), config);
    const again = await runCli(args(dir, out));
    assert.equal(again.code, 0, `${name}: the corrected rerun: ${again.err}`);
  }
});

test('an encoder folder without a tokenizer is refused before the results folder exists', async () => {
  const out = join(root, 'similarity');
  const r = await runCli(['run', 'demo-similarity', '--model', tiny.model, '--data', tiny.sst2, '--encoder', encoder, '--repeats', '1', '--epochs', '1', '--out', out]);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err.trimEnd().split('\n').length, 1, r.err);
  assert.match(r.err, /^iclit: encoder folder .*encoder has no tokenizer\.json/);
  assert.equal(existsSync(out), false);
});

test('a results folder holding no record never blocks a rerun with another setup', async () => {
  const out = join(root, 'empty');
  const store = ResultsStore.open(out, { create: true });
  const made = await runCli(args(tiny.model, join(root, 'probe')));
  assert.equal(made.code, 0, made.err);
  // the manifest of another setup (another seed), and not one record
  const probe = ResultsStore.open(join(root, 'probe'), { readonly: true });
  store.beginRun({ ...probe.manifest()!, seed: 99 });
  probe.close();
  store.close();
  const r = await runCli(args(tiny.model, out));
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /different setup/);
  rmSync(join(root, 'probe'), { recursive: true, force: true });
});
