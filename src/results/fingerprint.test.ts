// A model folder's fingerprint hashes the checkpoint's own files (config, weights, tokenizer) and never walks a link to a folder: a README, an unrelated file or an `up -> ..` link leave it alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintPath } from './manifest.js';
import { tempDir } from '../util/testing.js';

const root = tempDir(test, 'iclit-fp-');

test('checkpoint fingerprints: own files only, folder links never walked', () => {
  const dir = join(root, 'model');
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"hidden_size": 8}');
  writeFileSync(join(dir, 'tokenizer.json'), '{}');
  writeFileSync(join(dir, 'model.safetensors'), Buffer.alloc(64, 1));
  writeFileSync(join(dir, '1_Pooling', 'config.json'), '{}');
  writeFileSync(join(dir, 'README.md'), 'about');
  symlinkSync('..', join(dir, 'up'));
  const before = fingerprintPath(dir, { checkpoint: true });
  // harmless company: a README edit, a large unrelated file, another link to a folder
  writeFileSync(join(dir, 'README.md'), 'about, edited');
  writeFileSync(join(dir, 'notes.tar'), Buffer.alloc(1 << 20, 7));
  symlinkSync(root, join(dir, 'elsewhere'));
  assert.equal(fingerprintPath(dir, { checkpoint: true }), before);
  // the checkpoint's own files do count, also in a module folder
  writeFileSync(join(dir, '1_Pooling', 'config.json'), '{"pooling_mode_mean_tokens": true}');
  assert.notEqual(fingerprintPath(dir, { checkpoint: true }), before);
  // a data folder still hashes every file, but never walks a folder link either
  assert.match(fingerprintPath(dir), /^[0-9a-f]{64}$/);
});
