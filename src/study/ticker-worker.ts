// The ticker's worker thread: while the main thread is inside a long native call, redraws the progress line with elapsed and ETA moved on.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { composeLine } from './progress-line.js';
import { tickerViews } from './ticker-layout.js';

const { buffer, fd, intervalMs, quietMs } = workerData as { buffer: SharedArrayBuffer; fd: number; intervalMs: number; quietMs: number };
const v = tickerViews(buffer);
const decoder = new TextDecoder();

setInterval(() => {
  const now = Date.now();
  if (Atomics.load(v.ints, 1) === 0 || now - v.nums[0] < quietMs) return;
  if (Atomics.compareExchange(v.ints, 0, 0, 1) !== 0) return; // the main thread is drawing
  try {
    if (Atomics.load(v.ints, 1) === 0) return; // stopped while the lock was being taken: draw nothing stale
    const head = decoder.decode(v.text.slice(0, v.ints[2]));
    const since = now - v.nums[0];
    writeSync(fd, `\r\x1b[2K${composeLine(head, v.nums[1] + since, Math.max(0, v.nums[2] - since))}`);
  } finally {
    Atomics.store(v.ints, 0, 0);
  }
}, intervalMs);
