// Bad checkpoints are refused with one clear message: config, headers, truncation, shards, shapes, architectures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tidy } from '../torch/index.js';
import { IclitError } from '../util/errors.js';
import { CheckpointWeights } from './checkpoint.js';
import { parseDecoderConfig, readDecoderConfig, toHfConfig } from './hf-config.js';
import { tinyConfig, writeRandomCheckpoint } from './random-checkpoint.js';
import { SafetensorsFile, readSafetensorsHeader, writeSafetensors } from './safetensors.js';
import { tempDir, makeTempDir } from '../util/testing.js';

const root = tempDir(test, 'iclit-io-');
const tmp = () => makeTempDir('d-', root);
const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof IclitError && pattern.test(e.message) && !e.message.includes('\n'));

test('safetensors round trip in every dtype, memory-mapped reads', () => {
  const path = join(tmp(), 'x.safetensors');
  writeSafetensors(path, {
    a: { dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
    b: { dtype: 'int64', shape: [3], data: BigInt64Array.from([1n, -2n, 3n]) },
    c: { dtype: 'bfloat16', shape: [1], data: Uint16Array.from([0x3fc0]) },
    d: { dtype: 'float16', shape: [1], data: Uint16Array.from([0x3e00]) },
  }, { format: 'pt' });
  const f = SafetensorsFile.open(path);
  assert.deepEqual(f.header.metadata, { format: 'pt' });
  tidy(() => {
    assert.deepEqual(Array.from(f.tensor('a').toFloat32Array()), [1, 2, 3, 4]);
    assert.deepEqual(f.tensor('b').toIntArray(), [1, -2, 3]);
    assert.deepEqual(Array.from(f.tensor('c').toFloat32Array()), [1.5]);
    assert.deepEqual(Array.from(f.tensor('d').toFloat32Array()), [1.5]);
  });
  // the data section starts 8-byte aligned
  assert.equal(Number(readFileSync(path).readBigUInt64LE(0)) % 8, 0);
});

test('a header that lies about sizes, a truncated file, garbage: refused by name', () => {
  const dir = tmp();
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, { w: { dtype: 'float32', shape: [4, 4], data: new Float32Array(16) } });
  const bytes = readFileSync(good);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString());

  const lying = join(dir, 'lying.safetensors');
  header.w.shape = [4, 5];
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(lying, Buffer.concat([len, h, bytes.subarray(8 + headerLen)]));
  refused(() => readSafetensorsHeader(lying), /tensor 'w' \(\[4, 5\] F32\) needs 80 bytes but its offsets span 64/);

  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, bytes);
  truncateSync(truncated, bytes.length - 10);
  refused(() => readSafetensorsHeader(truncated), /tensor 'w' ends at byte 64 of the data but the file holds only 54 \(truncated\?\)/);

  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, 20));
  refused(() => readSafetensorsHeader(cut), /header claims \d+ bytes but the file has 12/);

  const junk = join(dir, 'junk.safetensors');
  writeFileSync(junk, Buffer.from('hello world, not a model'));
  refused(() => readSafetensorsHeader(junk), /not a valid safetensors file/);
  refused(() => readSafetensorsHeader(join(dir, 'absent.safetensors')), /cannot open .*absent.safetensors: no such file/);
});

test('config.json: missing, malformed, unsupported model_type, unsupported rope_scaling, bad values', () => {
  const dir = tmp();
  refused(() => readDecoderConfig(dir), /config.json not found/);
  writeFileSync(join(dir, 'config.json'), '{"model_type": "llama", ');
  refused(() => readDecoderConfig(dir), /config.json is not valid JSON/);
  const base = toHfConfig(tinyConfig());
  refused(() => parseDecoderConfig({ ...base, model_type: 'gpt2' }), /model_type "gpt2" is not supported \(supported: llama, mistral, qwen2\)/);
  refused(() => parseDecoderConfig({ ...base, rope_scaling: { type: 'yarn', factor: 4 } }), /rope_scaling type "yarn" is not implemented/);
  refused(() => parseDecoderConfig({ ...base, hidden_size: -3 }), /"hidden_size" must be a positive integer, got -3/);
  refused(() => parseDecoderConfig({ ...base, num_key_value_heads: 3 }), /must be a multiple of num_key_value_heads/);
  refused(() => parseDecoderConfig({ ...base, hidden_act: 'gelu' }), /hidden_act "gelu" is not supported/);
  const { vocab_size: _v, ...noVocab } = base;
  refused(() => parseDecoderConfig(noVocab), /"vocab_size" must be a positive integer \(missing\)/);
  assert.equal(parseDecoderConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } }).ropeScaling?.type, 'llama3');
  assert.equal(parseDecoderConfig({ ...base, model_type: 'qwen2' }).qkvBias, true);
});

test('checkpoints: missing weights file, missing shard, wrong shape, bf16 conversion on load', () => {
  const empty = tmp();
  refused(() => CheckpointWeights.open(empty), /has neither model.safetensors nor model.safetensors.index.json/);

  const sharded = writeRandomCheckpoint(tmp(), tinyConfig(), { shards: 2 });
  rmSync(join(sharded, 'model-00002-of-00002.safetensors'));
  refused(() => CheckpointWeights.open(sharded), /missing shard model-00002-of-00002.safetensors/);

  const dir = writeRandomCheckpoint(tmp(), tinyConfig(), { dtype: 'bfloat16' });
  const w = CheckpointWeights.open(dir);
  refused(() => w.get('model.embed_tokens.weight', [97, 32], 'float32'), /weight 'model.embed_tokens.weight' in model.safetensors has shape \[96, 32\], the config implies \[97, 32\]/);
  refused(() => w.get('model.nope.weight', [1], 'float32'), /has no weight 'model.nope.weight'/);
  tidy(() => {
    const t = w.get('model.norm.weight', [32], 'float32');
    assert.equal(t.dtype, 'float32');
    assert.equal(w.get('model.norm.weight', [32], 'bfloat16').dtype, 'bfloat16');
  });
});
