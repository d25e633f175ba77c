// `iclit activations` on hostile copies of the tiny-llama fixture: each lie is refused (exit 1) or warned about in one line naming the file, key or tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../util/paths.js';
import { makeTempDir, missingShared, sharedPath, tempDir } from '../../util/testing.js';
import { forgeSafetensors, safetensorsParts, type HeaderEntry } from '../../io/testing.js';

const FIXTURE = 'fixtures/tiny-llama';
const root = tempDir(test, 'iclit-lying-cli-');

type Header = Record<string, HeaderEntry>;

function iclit(model: string) {
  return spawnSync(process.execPath, [join(repoRoot(), 'bin', 'iclit.js'), 'activations', '--model', model, '--ids', '1,5,9', '--out', join(model, '..', 'out.safetensors')], { encoding: 'utf8' });
}

/** A writable copy of the fixture (config.json + model.safetensors) inside its own parent folder. */
function copy(fixture: string): string {
  const dir = join(makeTempDir('case-', root), 'model');
  mkdirSync(dir);
  for (const f of ['config.json', 'model.safetensors']) cpSync(join(fixture, f), join(dir, f));
  return dir;
}


/** Removes the bytes [begin, end) of the data section, shifting the offsets of every tensor after them. */
function dropBytes(header: Header, data: Buffer, begin: number, end: number): Buffer {
  for (const e of Object.values(header)) {
    if (e.data_offsets && e.data_offsets[0] >= end) e.data_offsets = [e.data_offsets[0] - (end - begin), e.data_offsets[1] - (end - begin)];
  }
  return Buffer.concat([data.subarray(0, begin), data.subarray(end)]);
}

function editConfig(dir: string, over: Record<string, unknown>): void {
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...c, ...over }));
}

const cases: [string, (dir: string) => void, RegExp][] = [
  ['overlapping data_offsets (lm_head reuses the embedding bytes)', (dir) => {
    const file = join(dir, 'model.safetensors');
    const { header, data } = safetensorsParts<Header>(file);
    const [b, e] = header['lm_head.weight'].data_offsets;
    const rest = dropBytes(header, data, b, e);
    header['lm_head.weight'].data_offsets = [...header['model.embed_tokens.weight'].data_offsets];
    forgeSafetensors(file, JSON.stringify(header), rest);
  }, /model\.safetensors is not a valid safetensors file: tensors '.*' and '.*' overlap/],
  ['a gap between tensors', (dir) => {
    const file = join(dir, 'model.safetensors');
    const { header, data } = safetensorsParts<Header>(file);
    const first = Object.values(header).filter((e) => e.data_offsets).sort((a, b) => a.data_offsets[0] - b.data_offsets[0])[0];
    const cut = first.data_offsets[1];
    for (const e of Object.values(header)) if (e.data_offsets && e.data_offsets[0] >= cut) e.data_offsets = [e.data_offsets[0] + 64, e.data_offsets[1] + 64];
    forgeSafetensors(file, JSON.stringify(header), Buffer.concat([data.subarray(0, cut), Buffer.alloc(64), data.subarray(cut)]));
  }, /model\.safetensors is not a valid safetensors file: 64 bytes of the data between tensors '.*' and '.*' belong to no tensor/],
  ['a shard index naming a file outside the model folder', (dir) => {
    const other = join(dir, '..', 'other');
    mkdirSync(other);
    renameSync(join(dir, 'model.safetensors'), join(other, 'model.safetensors'));
    const names = Object.keys(safetensorsParts<Header>(join(other, 'model.safetensors')).header).filter((n) => n !== '__metadata__');
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, '../other/model.safetensors'])) }));
  }, /model\.safetensors\.index\.json: weight_map\[".*"\] names "\.\.\/other\/model\.safetensors", outside the model folder/],
  ['a weight holding NaN', (dir) => {
    const file = join(dir, 'model.safetensors');
    const { header, data } = safetensorsParts<Header>(file);
    const e = header['model.layers.1.mlp.up_proj.weight'];
    assert.equal(e.dtype, 'F32');
    data.writeFloatLE(NaN, e.data_offsets[0] + 4 * 17);
    forgeSafetensors(file, JSON.stringify(header), data);
  }, /weight 'model\.layers\.1\.mlp\.up_proj\.weight' in .*model\.safetensors holds 1 NaN value\(s\) of \d+/],
  ['tie_word_embeddings "yes"', (dir) => editConfig(dir, { tie_word_embeddings: 'yes' }), /config\.json: "tie_word_embeddings" must be true or false, got "yes"/],
  ['config saying more layers than the checkpoint holds', (dir) => editConfig(dir, { num_hidden_layers: 4 }), /has no weight 'model\.layers\.3\.input_layernorm\.weight' \(config\.json says num_hidden_layers 4\)/],
];

test('fixture tier: lying copies of tiny-llama are refused with exit 1 and one line naming the file, key or tensor', (t) => {
  const fixture = sharedPath(FIXTURE);
  if (!fixture) return t.skip(missingShared(FIXTURE));
  const honest = iclit(copy(fixture));
  assert.equal(honest.status, 0, honest.stderr);
  assert.doesNotMatch(honest.stderr, /warning/, 'the untouched copy loads silently');
  for (const [name, lie, pattern] of cases) {
    const dir = copy(fixture);
    lie(dir);
    const r = iclit(dir);
    assert.equal(r.status, 1, `${name}: exit ${r.status}, stderr ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line, got ${r.stderr}`);
    assert.match(r.stderr, /^iclit: /, name);
    assert.match(r.stderr, pattern, name);
  }
});

test('fixture tier: config.json saying 2 layers while the checkpoint holds 3 loads with one warning naming the unused weights', (t) => {
  const fixture = sharedPath(FIXTURE);
  if (!fixture) return t.skip(missingShared(FIXTURE));
  const dir = copy(fixture);
  editConfig(dir, { num_hidden_layers: 2 });
  const r = iclit(dir);
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /^iclit: warning: 9 weight\(s\) in .*model are not used by its config\.json \(num_hidden_layers 2\): model\.layers\.2\./);
});
