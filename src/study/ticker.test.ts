// The ticker: while the main thread is blocked (as inside a native call), its worker keeps redrawing the line, elapsed going up and the ETA down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../util/testing.js';
import { Ticker } from './ticker.js';

test('a main thread blocked for 2.5 s still sees its line redrawn with elapsed and ETA moved on; after stop() nothing more is written', async (t) => {
  const file = join(tempDir(t, 'iclit-ticker-'), 'tty');
  const fd = openSync(file, 'w');
  try {
    const ticker = new Ticker(fd, { intervalMs: 100, quietMs: 300 });
    await new Promise((r) => setTimeout(r, 200)); // the worker starts
    ticker.draw({ head: 'llama-2-7b [#.......] 0/30 repeats · 1.2% of the work', elapsedMs: 5000, etaMs: 60000 });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500); // the main thread blocked, as in a backward
    await ticker.stop();
    const size = readFileSync(file).length;
    await new Promise((r) => setTimeout(r, 300));
    const lines = readFileSync(file, 'utf8').split('\r\x1b[2K').filter(Boolean);
    assert.equal(readFileSync(file).length, size, 'written after stop()');
    assert.equal(lines[0], 'llama-2-7b [#.......] 0/30 repeats · 1.2% of the work  elapsed 5s  ETA 1m00s');
    assert.ok(lines.length >= 5, `${lines.length} draws`);
    const last = /elapsed (\d+)s {2}ETA (\d+)s$/.exec(lines.at(-1)!)!;
    assert.ok(Number(last[1]) >= 7 && Number(last[2]) <= 58, lines.at(-1));
    assert.ok(lines.every((l) => l.startsWith('llama-2-7b [#.......] 0/30 repeats · 1.2% of the work  elapsed ')));
  } finally {
    closeSync(fd);
  }
});
