// Strict UTF-8 text files: invalid bytes are refused naming file:line and the byte, never replaced by U+FFFD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidUtf8At, readTextFile } from './text.js';
import { tempDir } from '../util/testing.js';

const bytes = (...parts: (string | number[])[]): Uint8Array => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

test('invalidUtf8At finds the line and the byte of the first invalid sequence', () => {
  assert.equal(invalidUtf8At(bytes('a\nčeský ✓ 😀\n')), undefined);
  assert.deepEqual(invalidUtf8At(bytes('ok\nab', [0xff], 'c\n')), { line: 2, byte: 3 }, 'a byte that never occurs in UTF-8');
  assert.deepEqual(invalidUtf8At(bytes('x\ny\nab', [0xc3, 0x28], '\n')), { line: 3, byte: 3 }, 'a lead byte followed by ASCII: the sequence starts at the lead');
  assert.deepEqual(invalidUtf8At(bytes('abc', [0xe2, 0x82], '\nnext')), { line: 1, byte: 4 }, 'a sequence cut off by the end of the line');
  assert.deepEqual(invalidUtf8At(bytes([0xc3, 0xa9, 0xa9])), { line: 1, byte: 3 }, 'a stray continuation byte after a complete character');
  assert.deepEqual(invalidUtf8At(bytes([0xc0, 0xaf])), { line: 1, byte: 1 }, 'an overlong encoding');
  assert.deepEqual(invalidUtf8At(bytes('end', [0xf0, 0x9f])), { line: 1, byte: 4 }, 'cut off by the end of the file');
});

test('readTextFile: content as is (BOM kept for the reader), invalid UTF-8, a folder and a missing file are one clear line', (t) => {
  const dir = tempDir(t, 'iclit-text-');
  const good = join(dir, 'good.txt');
  writeFileSync(good, bytes([0xef, 0xbb, 0xbf], 'dům\n'));
  assert.equal(readTextFile(good), '\uFEFFdům\n');
  const bad = join(dir, 'bad.tsv');
  writeFileSync(bad, bytes('sentence\tlabel\ngood\t1\nbad ', [0xe9], '\t0\n'));
  assert.throws(() => readTextFile(bad, 'data file'), { message: `${bad}:3: not valid UTF-8 (byte 5 of the line); save the file as UTF-8` });
  assert.throws(() => readTextFile(dir, 'data file'), { message: `${dir} is a folder, not a data file` });
  assert.throws(() => readTextFile(join(dir, 'none'), 'instruction pool'), { message: `instruction pool ${join(dir, 'none')} does not exist` });
});
