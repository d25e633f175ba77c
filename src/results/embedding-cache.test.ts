// The on-disk embedding cache: each text embedded once, across cache objects (processes) and encoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tinyEncoderConfig, writeRandomEncoderCheckpoint } from '../io/bert-config.js';
import { SentenceEncoder, writeSentenceModules, type TextEmbedder } from '../models/index.js';
import { maxAbsDiff, tempDir, makeTempDir } from '../util/testing.js';
import { EmbeddingCache, embeddingKey } from './embedding-cache.js';

const root = tempDir(test, 'iclit-cache-');
let n = 0;
const tmp = (): string => makeTempDir(`d${n++}-`, root);

function randomFolder(seed = 5): string {
  const config = tinyEncoderConfig();
  const dir = writeRandomEncoderCheckpoint(tmp(), config, { seed, std: 0.15 });
  return writeSentenceModules(dir, config.hiddenSize);
}

/** Texts → ids without a tokenizer (character codes), so that the cache is tested in the unit tier. */
function charEmbedder(enc: SentenceEncoder): TextEmbedder & { texts: number } {
  const e = {
    texts: 0,
    fingerprint: enc.fingerprint,
    embed(texts: readonly string[]): Float32Array[] {
      e.texts += texts.length;
      return enc.embed({ inputIds: texts.map((t) => [2, ...[...t].map((ch) => 4 + (ch.charCodeAt(0) % 100)), 3]) });
    },
  };
  return e;
}

test('embedding cache: the second call (and a new cache object on the same folder) does not run the model', async () => {
  const enc = await SentenceEncoder.load(randomFolder(), { batchSize: 4 });
  const embedder = charEmbedder(enc);
  const dir = tmp();
  const cache = EmbeddingCache.inResults(dir);
  assert.equal(cache.dir, join(dir, '.iclit-cache', 'embeddings'));
  const texts = ['the film is great', 'dull', 'a moving, funny story', 'dull', 'terrible acting'];
  const first = cache.embed(embedder, texts);
  assert.equal(embedder.texts, 4, 'duplicates embedded once');
  assert.equal(enc.forwardCalls, 1);
  assert.deepEqual(first[1], first[3]);
  const direct = enc.embed({ inputIds: texts.map((t) => [2, ...[...t].map((ch) => 4 + (ch.charCodeAt(0) % 100)), 3]) });
  direct.forEach((v, i) => assert.ok(maxAbsDiff(v, first[i]) < 1e-5, `text ${i}`)); // batches differ: float rounding only
  const calls = enc.forwardCalls;

  const second = cache.embed(embedder, texts);
  assert.equal(enc.forwardCalls, calls, 'second call: no forward pass');
  assert.deepEqual(second, first);
  assert.equal(cache.hits, 5);

  const fresh = EmbeddingCache.inResults(dir); // as another process would see the folder
  assert.deepEqual(fresh.embed(embedder, [...texts].reverse()), [...first].reverse());
  assert.equal(enc.forwardCalls, calls, 'a fresh cache object reads the files instead of running the model');

  const more = fresh.embed(embedder, ['dull', 'a new sentence']);
  assert.equal(embedder.texts, 5, 'only the new sentence is embedded');
  assert.deepEqual(more[0], first[1]);
  const folder = join(cache.dir, enc.fingerprint.slice(0, 16));
  assert.equal(readdirSync(folder).filter((f) => f.endsWith('.safetensors')).length, 2);
  assert.equal(embeddingKey(enc.fingerprint, 'dull'), embeddingKey(enc.fingerprint, 'dull'));
  assert.notEqual(embeddingKey(enc.fingerprint, 'dull'), embeddingKey(enc.fingerprint, 'Dull'));

  // Another encoder (different weights) gets its own entries.
  const other = await SentenceEncoder.load(randomFolder(99));
  assert.notEqual(other.fingerprint, enc.fingerprint);
  const otherEmbedder = charEmbedder(other);
  cache.embed(otherEmbedder, texts);
  assert.equal(otherEmbedder.texts, 4);
  enc.dispose();
  other.dispose();
});

