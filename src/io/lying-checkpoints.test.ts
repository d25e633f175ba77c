// Checkpoints that lie are refused in one line naming the file, key or tensor: safetensors header rules, shard indexes, NaN weights, config types, layer counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { makeTempDir, tempDir } from '../util/testing.js';
import { forgeSafetensors, safetensorsParts, type HeaderEntry, type RawHeader } from './testing.js';
import { CheckpointWeights, matchCheckpoint } from './checkpoint.js';
import { parseDecoderConfig, toHfConfig } from './hf-config.js';
import { tinyConfig, writeRandomCheckpoint } from './random-checkpoint.js';
import { firstDuplicateKey, readSafetensorsHeader, writeSafetensors } from './safetensors.js';
import { decoderWeightShapes } from './weight-names.js';

const root = tempDir(test, 'iclit-lying-');
const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof IclitError && !e.message.includes('\n') && (pattern.test(e.message) || assert.fail(`message was: ${e.message}`)));

const tensorEntry = (h: RawHeader, name: string) => h[name] as HeaderEntry;

/** A fresh copy of a small random checkpoint (untied, so it has lm_head.weight as its last tensor). */
const checkpoint = (over = {}) => writeRandomCheckpoint(makeTempDir('ckpt-', root), tinyConfig(over), { seed: 5 });

test('two tensors whose data_offsets overlap (lm_head reusing the embedding\'s bytes) are refused, naming both', () => {
  const dir = checkpoint();
  const file = join(dir, 'model.safetensors');
  const { header, data } = safetensorsParts(file);
  const lm = tensorEntry(header, 'lm_head.weight');
  assert.equal(lm.data_offsets[1], data.length, 'lm_head is the last tensor of the file');
  lm.data_offsets = [...tensorEntry(header, 'model.embed_tokens.weight').data_offsets];
  forgeSafetensors(file, JSON.stringify(header), data.subarray(0, data.length - (96 * 32 * 4)));
  refused(() => CheckpointWeights.open(dir), /model\.safetensors is not a valid safetensors file: tensors '(model\.embed_tokens\.weight|lm_head\.weight)' and '(lm_head\.weight|model\.embed_tokens\.weight)' overlap/);
});

test('a gap between tensors, bytes before the first or after the last are refused (tensors must tile the data)', () => {
  const dir = makeTempDir('gap-', root);
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, { a: { dtype: 'float32', shape: [2], data: new Float32Array(2) }, b: { dtype: 'float32', shape: [3], data: new Float32Array(3) } });
  const { header, data } = safetensorsParts(good);
  const gap = join(dir, 'gap.safetensors');
  const h1 = structuredClone(header);
  tensorEntry(h1, 'b').data_offsets = [8 + 16, 20 + 16];
  forgeSafetensors(gap, JSON.stringify(h1), Buffer.concat([data.subarray(0, 8), Buffer.alloc(16), data.subarray(8)]));
  refused(() => readSafetensorsHeader(gap), /gap\.safetensors is not a valid safetensors file: 16 bytes of the data between tensors 'a' and 'b' belong to no tensor/);

  const before = join(dir, 'before.safetensors');
  const h2 = structuredClone(header);
  tensorEntry(h2, 'a').data_offsets = [4, 12];
  tensorEntry(h2, 'b').data_offsets = [12, 24];
  forgeSafetensors(before, JSON.stringify(h2), Buffer.concat([Buffer.alloc(4), data]));
  refused(() => readSafetensorsHeader(before), /4 bytes of the data before tensor 'a' belong to no tensor/);

  const after = join(dir, 'after.safetensors');
  forgeSafetensors(after, JSON.stringify(header), Buffer.concat([data, Buffer.alloc(5)]));
  refused(() => readSafetensorsHeader(after), /5 bytes after the last tensor 'b' belong to no tensor/);
  assert.equal(readSafetensorsHeader(good).tensors.size, 2, 'the untouched file still reads');
});

test('header rules: a name given twice, a header not starting with {, non-string metadata, impossible shapes', () => {
  const dir = makeTempDir('hdr-', root);
  const file = join(dir, 'x.safetensors');
  const data = Buffer.alloc(8);
  forgeSafetensors(file, '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data);
  refused(() => readSafetensorsHeader(file), /x\.safetensors is not a valid safetensors file: the header names 'w' twice/);
  forgeSafetensors(file, '[{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}]', data);
  refused(() => readSafetensorsHeader(file), /the header does not start with '\{'/);
  forgeSafetensors(file, '{"__metadata__":{"format":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data);
  refused(() => readSafetensorsHeader(file), /__metadata__ must map names to strings/);
  forgeSafetensors(file, '{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', data);
  refused(() => readSafetensorsHeader(file), /tensor 'w' has an impossibly large shape/);
  // Padding with trailing spaces is allowed by the format, and a zero-element tensor takes no bytes.
  forgeSafetensors(file, '{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   ', data);
  assert.deepEqual([...readSafetensorsHeader(file).tensors.keys()], ['e', 'w']);
});

test('firstDuplicateKey looks at top-level keys only, through strings with escapes and nested objects', () => {
  assert.equal(firstDuplicateKey('{"a":{"x":1,"x":2},"b":"\\"a\\"","c":["a","a"]}'), undefined);
  assert.equal(firstDuplicateKey('{"a":1, "b":{"a":2}, "a" : 3}'), 'a');
  assert.equal(firstDuplicateKey('{"\\u0061":1,"a":2}'), 'a');
});

test('a shard index whose weight_map names a file outside the model folder is refused, naming the entry', () => {
  const dir = writeRandomCheckpoint(makeTempDir('shards-', root), tinyConfig(), { seed: 5, shards: 2 });
  const indexPath = join(dir, 'model.safetensors.index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  for (const [bad, why] of [['../other/model.safetensors', 'outside the model folder'], ['/etc/model.safetensors', 'outside the model folder'], ['sub/../../x.safetensors', 'outside the model folder'], [7, 'must be a file name']] as const) {
    writeFileSync(indexPath, JSON.stringify({ ...index, weight_map: { ...index.weight_map, 'lm_head.weight': bad } }));
    refused(() => CheckpointWeights.open(dir), new RegExp(`model\\.safetensors\\.index\\.json: weight_map\\["lm_head\\.weight"\\] (names ${JSON.stringify(JSON.stringify(bad)).slice(1, -1).replace(/[./]/g, '\\$&')}, )?${why}`));
  }
  writeFileSync(indexPath, JSON.stringify({ weight_map: ['model-00001-of-00002.safetensors'] }));
  refused(() => CheckpointWeights.open(dir), /has no weight_map object/);
});

test('weights holding NaN or ±Inf are refused when loaded, naming the tensor and file; a float32 overflow to bfloat16 too', () => {
  const dir = makeTempDir('nan-', root);
  const file = join(dir, 'model.safetensors');
  const w = new Float32Array(12).fill(0.5);
  w[3] = NaN;
  w[7] = Infinity;
  const big = Float32Array.from([1, 3.4e38]);
  writeSafetensors(file, { 'model.norm.weight': { dtype: 'float32', shape: [12], data: w }, big: { dtype: 'float32', shape: [2], data: big }, fine: { dtype: 'float32', shape: [2], data: Float32Array.from([1, 2]) } });
  const weights = CheckpointWeights.open(dir);
  refused(() => weights.get('model.norm.weight', [12], 'float32'), /weight 'model\.norm\.weight' in .*model\.safetensors holds 1 NaN and 1 infinite value\(s\) of 12/);
  tidy(() => assert.equal(weights.get('big', [2], 'float32').dtype, 'float32'));
  refused(() => weights.get('big', [2], 'bfloat16'), /weight 'big' in .*model\.safetensors holds 1 infinite value\(s\) of 2/);
  tidy(() => assert.deepEqual(Array.from(weights.get('fine', [2], 'bfloat16').toFloat32Array()), [1, 2]));
  weights.close();
});

test('config.json fields of the wrong type are one line naming the key and the expected type', () => {
  const base = toHfConfig(tinyConfig());
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ tie_word_embeddings: 'yes' }, /cfg: "tie_word_embeddings" must be true or false, got "yes"/],
    [{ attention_bias: 1 }, /"attention_bias" must be true or false, got 1/],
    [{ mlp_bias: 'false' }, /"mlp_bias" must be true or false, got "false"/],
    [{ bos_token_id: '1' }, /"bos_token_id" must be an integer of at least 0 or null, got "1"/],
    [{ eos_token_id: ['2'] }, /"eos_token_id" must be a token id, a list of token ids or null, got \["2"\]/],
    [{ hidden_act: 7 }, /"hidden_act" must be a string, got 7/],
    [{ rope_theta: '1e4' }, /"rope_theta" must be a positive number, got "1e4"/],
    [{ head_dim: '8' }, /"head_dim" must be a positive integer, got "8"/],
    [{ num_hidden_layers: 2.5 }, /"num_hidden_layers" must be a positive integer, got 2.5/],
    [{ rope_scaling: 'linear' }, /"rope_scaling" must be an object or null, got "linear"/],
    [{ rope_scaling: { type: 'linear', factor: '2' } }, /rope_scaling\.factor must be a positive number, got "2"/],
    [{ model_type: 'mistral', sliding_window: '4096' }, /"sliding_window" must be an integer of at least 1 or null, got "4096"/],
    [{ model_type: 'qwen2', use_sliding_window: 'no' }, /"use_sliding_window" must be true or false, got "no"/],
  ];
  for (const [over, pattern] of cases) refused(() => parseDecoderConfig({ ...base, ...over }, 'cfg'), pattern);
  const ok = parseDecoderConfig({ ...base, tie_word_embeddings: null, bos_token_id: null, eos_token_id: [2, 3], model_type: 'mistral', sliding_window: null }, 'cfg');
  assert.deepEqual([ok.tieWordEmbeddings, ok.bosTokenId, ok.eosTokenId, ok.slidingWindow], [false, null, 2, null]);
});

test('config saying fewer layers than the checkpoint holds warns naming the unused weights; more layers is an error naming the missing tensor', () => {
  const dir = writeRandomCheckpoint(makeTempDir('layers-', root), tinyConfig({ numLayers: 3 }), { seed: 5 });
  const weights = CheckpointWeights.open(dir);
  assert.equal(matchCheckpoint(weights, decoderWeightShapes(tinyConfig({ numLayers: 3 })).keys(), 3), undefined, 'an exact match is silent');
  const warning = matchCheckpoint(weights, decoderWeightShapes(tinyConfig({ numLayers: 2 })).keys(), 2)!;
  assert.match(warning, /^warning: 9 weight\(s\) in .* are not used by its config\.json \(num_hidden_layers 2\): model\.layers\.2\.input_layernorm\.weight, model\.layers\.2\.self_attn\.q_proj\.weight, .*\(3 more\)$/);
  refused(() => matchCheckpoint(weights, decoderWeightShapes(tinyConfig({ numLayers: 4 })).keys(), 4), /the checkpoint in .* has no weight 'model\.layers\.3\.input_layernorm\.weight' \(config\.json says num_hidden_layers 4\)/);
  weights.close();
});
