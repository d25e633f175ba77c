// `iclit embed` end to end: the real all-MiniLM-L6-v2 tokenizer with a random MiniLM-shaped encoder, ids JSON, outputs, one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../io/index.js';
import { miniLmConfig, tinyEncoderConfig, writeRandomEncoderCheckpoint } from '../../io/bert-config.js';
import { SentenceEncoder, writeSentenceModules } from '../../models/index.js';
import { tidy } from '../../torch/index.js';
import { maxAbsDiff, missingShared, sharedPath, tempDir, makeTempDir } from '../../util/testing.js';
import { repoRoot } from '../../util/paths.js';

const bin = join(repoRoot(), 'bin', 'iclit.js');
const root = tempDir(test, 'iclit-embed-');
const tmp = () => makeTempDir('d-', root);
function iclit(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}
const MINILM_TOKENIZER = 'data/tokenizers/all-MiniLM-L6-v2';

test('embed: real MiniLM tokenizer + random MiniLM-shaped encoder, --text repeated and --file, safetensors and JSON equal the library', async (t) => {
  const tok = sharedPath(MINILM_TOKENIZER);
  if (!tok) return t.skip(missingShared(MINILM_TOKENIZER));
  const config = miniLmConfig();
  const enc = writeSentenceModules(writeRandomEncoderCheckpoint(tmp(), config, { seed: 2 }), config.hiddenSize, { maxSeqLength: 256 });
  const texts = ['a gripping, beautifully acted film', 'dull', 'it is not a bad movie , but it never takes off .'];
  const out = join(tmp(), 'sub', 'e.safetensors');
  const r = iclit('embed', '--encoder', enc, '--tokenizer', tok, ...texts.flatMap((s) => ['--text', s]), '--out', out, '--batch-size', '2', '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote 3 embeddings of dimension 384/);
  const f = SafetensorsFile.open(out);
  assert.deepEqual(f.names(), ['embeddings']);
  assert.deepEqual(f.info('embeddings')!.shape, [3, 384]);
  const got = tidy(() => f.tensor('embeddings').toFloat32Array());
  f.close();
  const lib = await SentenceEncoder.load(enc, { tokenizerDir: tok });
  const want = lib.embed(texts);
  lib.dispose();
  want.forEach((v, i) => assert.ok(maxAbsDiff(got.subarray(i * 384, (i + 1) * 384), v) < 1e-5, `text ${i}`));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(Math.hypot(...got.subarray(i * 384, (i + 1) * 384)) - 1) < 1e-5, 'normalised');

  const file = join(tmp(), 'texts.txt');
  writeFileSync(file, `${texts.join('\n')}\n\n`);
  const j = iclit('embed', '--encoder', enc, '--tokenizer', tok, '--file', file, '--json');
  assert.equal(j.status, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { dimension: number; embeddings: number[][] };
  assert.equal(parsed.dimension, 384);
  assert.equal(parsed.embeddings.length, 3);
  parsed.embeddings.forEach((v, i) => assert.ok(maxAbsDiff(v, want[i]) < 1e-5));
});

test('embed --ids-json skips the tokenizer; bad input gives one line and a non-zero exit', () => {
  const config = tinyEncoderConfig();
  const enc = writeSentenceModules(writeRandomEncoderCheckpoint(tmp(), config, { seed: 3 }), config.hiddenSize, { modes: ['cls_token'], normalize: false });
  const ids = join(tmp(), 'ids.json');
  writeFileSync(ids, JSON.stringify({ input_ids: [[2, 5, 6, 3, 0], [2, 7, 3, 0, 0]], attention_mask: [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]] }));
  const r = iclit('embed', '--encoder', enc, '--ids-json', ids);
  assert.equal(r.status, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { dimension: number; embeddings: number[][] };
  assert.equal(parsed.dimension, 32);
  assert.equal(parsed.embeddings.length, 2);

  const bad = join(tmp(), 'bad.json');
  writeFileSync(bad, JSON.stringify({ input_ids: [[2, 5, 500]] }));
  const noPool = writeRandomEncoderCheckpoint(tmp(), config, { seed: 3 });
  const cases: [string[], RegExp, number][] = [
    [['--encoder', enc], /give exactly one of --text \(repeatable\), --file or --ids-json/, 2],
    [['--encoder', enc, '--ids-json', ids, '--text', 'x'], /give exactly one of/, 2],
    [['--encoder', enc, '--ids-json', ids, '--out', 'x.safetensors', '--json'], /either --out or --json/, 2],
    [['--encoder', enc, '--ids-json', ids, '--batch-size', '0'], /--batch-size must be at least 1/, 2],
    [['--encoder', enc, '--text', 'hello'], /has no tokenizer.json: pass token ids/, 1],
    [['--encoder', enc, '--ids-json', bad], /input_ids\[0\]\[2\] is 500/, 1],
    [['--encoder', enc, '--ids-json', join(tmp(), 'none.json')], /ids file .*none\.json does not exist/, 1],
    [['--encoder', noPool, '--ids-json', ids], /modules.json not found/, 1],
  ];
  for (const [args, re, code] of cases) {
    const e = iclit('embed', ...args);
    assert.equal(e.status, code, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, re);
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.doesNotMatch(e.stderr, /\n\s+at /);
  }
});
