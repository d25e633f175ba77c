// Keeps a terminal's progress line moving while the main thread is inside a long native call (a 7B training step's backward): a worker redraws it once a second.
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { composeLine } from './progress-line.js';
import { HEAD_BYTES, TICKER_BYTES, tickerViews } from './ticker-layout.js';

/**
 * Draws the progress line on `fd` (a terminal) and, from a worker thread, redraws it every `intervalMs` once the
 * main thread has drawn nothing for `quietMs`: the same head, elapsed and ETA moved on by the time since (the ETA
 * counting down at the rate last measured). The main thread's JavaScript is blocked during a native call; the
 * worker's is not. Both write under one lock, so lines never interleave.
 */
export class Ticker {
  readonly #fd: number;
  readonly #v: ReturnType<typeof tickerViews>;
  readonly #worker: Worker;
  readonly #encoder = new TextEncoder();

  constructor(fd: number, opts: { intervalMs?: number; quietMs?: number } = {}) {
    const buffer = new SharedArrayBuffer(TICKER_BYTES);
    this.#fd = fd;
    this.#v = tickerViews(buffer);
    this.#worker = new Worker(new URL('./ticker-worker.js', import.meta.url), {
      workerData: { buffer, fd, intervalMs: opts.intervalMs ?? 1000, quietMs: opts.quietMs ?? 2000 },
    });
    this.#worker.unref(); // never keeps the process alive
  }

  /** Draws the line now and hands its parts to the worker. */
  draw(parts: { head: string; elapsedMs: number; etaMs: number }): void {
    const v = this.#v;
    while (Atomics.compareExchange(v.ints, 0, 0, 1) !== 0); // the worker holds it for one write
    try {
      const { written } = this.#encoder.encodeInto(parts.head, v.text);
      v.ints[2] = Math.min(written, HEAD_BYTES);
      v.nums[0] = Date.now();
      v.nums[1] = parts.elapsedMs;
      v.nums[2] = parts.etaMs;
      Atomics.store(v.ints, 1, 1);
      writeSync(this.#fd, `\r\x1b[2K${composeLine(parts.head, parts.elapsedMs, parts.etaMs)}`);
    } finally {
      Atomics.store(this.#v.ints, 0, 0);
    }
  }

  /** Stops the redraws (call before anything else is written on the line). */
  async stop(): Promise<void> {
    const v = this.#v;
    while (Atomics.compareExchange(v.ints, 0, 0, 1) !== 0);
    Atomics.store(v.ints, 1, 0);
    Atomics.store(v.ints, 0, 0);
    await this.#worker.terminate();
  }
}
