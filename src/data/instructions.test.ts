// Tests for the instruction pools: sizes and shape of the built-in pools, the pool file reader, the paper's pools.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { missingShared, sharedPath, tempDir, makeTempDir } from '../util/testing.js';
import { defaultInstructionPool, loadInstructionPool, parseInstructionPool, SENTIMENT_INSTRUCTIONS, TRANSLATION_INSTRUCTIONS } from './instructions.js';

/** Every folder this file writes lives here and is removed when the file's tests end. */
const root = tempDir(test, 'iclit-pool-');

const norm = (s: string): string => s.toLowerCase().replace(/[^a-z]+/g, ' ').trim();

test('built-in pools: 30 distinct one-line instructions each', () => {
  for (const pool of [SENTIMENT_INSTRUCTIONS, TRANSLATION_INSTRUCTIONS]) {
    assert.equal(pool.length, 30);
    assert.equal(new Set(pool.map(norm)).size, 30, 'instructions differ beyond punctuation and case');
    for (const s of pool) {
      assert.equal(s, s.trim());
      assert.ok(!s.includes('\n') && s.length > 10 && !s.startsWith('#'), s);
    }
  }
  // every sentiment instruction names both label words; every translation instruction names Czech
  for (const s of SENTIMENT_INSTRUCTIONS) assert.ok(/negative/.test(s) && /positive/.test(s), s);
  for (const s of TRANSLATION_INSTRUCTIONS) assert.match(s, /Czech/);
  assert.equal(defaultInstructionPool('sentiment'), SENTIMENT_INSTRUCTIONS);
  assert.equal(defaultInstructionPool('translation'), TRANSLATION_INSTRUCTIONS);
});

test('parseInstructionPool: trims, skips blank lines and # comments, rejects repeats and empty pools', () => {
  const pool = parseInstructionPool('# my pool\n\n  First one.  \r\n   # indented comment\nSecond one.\n\n', 'p.txt');
  assert.deepEqual(pool, ['First one.', 'Second one.']);
  assert.throws(() => parseInstructionPool('A.\nB.\nA.\n', 'p.txt'), /p\.txt:3: instruction repeats line 1/);
  assert.throws(() => parseInstructionPool('# only comments\n\n', 'e.txt'), /e\.txt: no instructions/);
  const dir = makeTempDir('pool-', root);
  const f = join(dir, 'pool.txt');
  writeFileSync(f, 'Classify it.\nJudge it.\n');
  assert.deepEqual(loadInstructionPool(f), ['Classify it.', 'Judge it.']);
  assert.throws(() => loadInstructionPool(join(dir, 'absent.txt')), (e: unknown) => e instanceof IclitError && /instruction pool .*absent\.txt does not exist/.test(e.message));
  writeFileSync(f, Buffer.from([0x41, 0x0a, 0x42, 0xff, 0x0a]));
  assert.throws(() => loadInstructionPool(f), /pool\.txt:2: not valid UTF-8/, 'never silently replaced by U+FFFD');
});

test('fixture: the study\'s pools load (26 sentiment, 30 translation) and differ from ours', (t) => {
  const rels = ['data/paper-instructions/sentiment.txt', 'data/paper-instructions/translation.txt'];
  const paths = rels.map(sharedPath);
  if (!paths[0] || !paths[1]) return t.skip(missingShared(rels[paths[0] ? 1 : 0]));
  const sentiment = loadInstructionPool(paths[0]);
  const translation = loadInstructionPool(paths[1]);
  assert.equal(sentiment.length, 26);
  assert.equal(translation.length, 30);
  const ours = new Set([...SENTIMENT_INSTRUCTIONS, ...TRANSLATION_INSTRUCTIONS].map(norm));
  for (const s of [...sentiment, ...translation]) assert.ok(!ours.has(norm(s)), `our pool repeats the study's instruction ${JSON.stringify(s)}`);
});
