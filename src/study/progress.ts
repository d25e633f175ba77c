// The progress line of a study run: moves with every decoder block and training step, its ETA from the measured rate against the estimate.
import type { ProgressEvent, WorkEvent } from '../experiments/index.js';
import { blockForwardSeconds, passSeconds } from './cost.js';
import { remainingShare, type StudyEstimate } from './estimate.js';
import { composeLine } from './progress-line.js';

export interface ReporterOptions {
  /** Where lines go; `final` marks a finished repeat (or the start), the only lines written when not a terminal; `parts` for a Ticker. */
  write: (line: string, final: boolean, parts: { head: string; elapsedMs: number; etaMs: number }) => void;
  /** A terminal redraws one line as work moves; anything else gets one line per finished repeat. */
  tty: boolean;
  /** Milliseconds (default performance.now): tests pass a fake clock. */
  now?: () => number;
  /** The least milliseconds between two redraws (default 1000). */
  minIntervalMs?: number;
}

interface ModelState {
  /** Estimated seconds of this run's work on the model (the estimate's, scaled to the repeats still to do). */
  total: number;
  done: number;
  repeats?: ProgressEvent;
  /** Seconds credited to the model's earlier run (the model's own, when the untrained control runs after it) and the current run's estimate. */
  before: number;
  run: number;
}

/**
 * Turns the runner's events into a progress line. The work is counted in estimated seconds (src/study/cost.ts):
 * each decoder block's forward and each training step's backward and update add theirs as they finish, so the line
 * moves inside a chunk. The ETA is the work left at the rate measured so far (elapsed ÷ work done), the estimate
 * itself before anything finished.
 */
export class ProgressReporter {
  readonly #e: StudyEstimate;
  readonly #o: Required<Omit<ReporterOptions, 'now'>> & { now: () => number };
  readonly #models: ModelState[];
  #current = 0;
  #started?: number;
  #lastWrite = -Infinity;
  #last = '';

  constructor(estimate: StudyEstimate, opts: ReporterOptions) {
    this.#e = estimate;
    this.#o = { minIntervalMs: 1000, now: () => performance.now(), ...opts };
    this.#models = estimate.models.map((m) => ({ total: m.seconds, done: 0, before: 0, run: m.seconds - (m.untrainedSeconds ?? 0) }));
  }

  /** The runner's repeat event (runPlan's onProgress) for model `index`. */
  repeat(e: ProgressEvent, index: number): void {
    this.#started ??= this.#o.now();
    this.#current = index;
    const m = this.#models[index];
    const est = this.#e.models[index];
    if (e.repeat === -1 && e.untrained) {
      // the untrained control's run after the model's own: its share of the estimate, for the repeats it still has
      m.before = m.done;
      m.run = (est.untrainedSeconds ?? 0) * remainingShare(e);
      m.total = m.before + m.run;
    } else if (e.repeat === -1) {
      m.total = est.seconds * remainingShare(e);
      m.run = (est.seconds - (est.untrainedSeconds ?? 0)) * remainingShare(e);
    }
    if (e.done === e.total) m.done = Math.min(m.total, m.before + m.run); // reads' LM heads are not reported one by one
    m.repeats = e;
    this.#emit(true);
  }

  /** A block or training step finished (the backend's onWork) on the current model. */
  work(w: WorkEvent): void {
    this.#started ??= this.#o.now();
    const m = this.#models[this.#current];
    const est = this.#e.models[this.#current];
    const c = est.config;
    if (w.kind === 'block') m.done += blockForwardSeconds(c, est.cost, w.lengths);
    else {
      const rest = passSeconds(c, { kind: 'step', lengths: [...w.lengths], logitRows: w.lengths.reduce((a, l) => a + l - 1, 0) }, est.cost, this.#e.lora);
      m.done += rest - c.numLayers * blockForwardSeconds(c, est.cost, w.lengths); // its forward's blocks were counted as they ran
    }
    m.done = Math.min(m.done, m.total);
    this.#emit(false);
  }

  /** The line now: model, repeats, share of the work, elapsed, ETA. */
  line(): string {
    const p = this.parts();
    return composeLine(p.head, p.elapsedMs, p.etaMs);
  }

  /** The line's parts: where the run is, milliseconds since it started, and the ETA in milliseconds. */
  parts(): { head: string; elapsedMs: number; etaMs: number } {
    const m = this.#models[this.#current];
    const r = m.repeats;
    const total = this.#models.reduce((a, x) => a + x.total, 0);
    const done = this.#models.reduce((a, x) => a + x.done, 0);
    const elapsed = this.#started === undefined ? 0 : this.#o.now() - this.#started;
    const eta = done > 0 && elapsed > 0 ? (total - done) * (elapsed / done) : total * 1000;
    const frac = m.total > 0 ? m.done / m.total : 1;
    const bar = '#'.repeat(Math.round(frac * 24)).padEnd(24, '.');
    const n = this.#models.length;
    const which = n > 1 ? ` [model ${this.#current + 1}/${n}]` : '';
    const repeats = r ? `${r.done}/${r.total} repeats${r.skipped > 0 ? ` (${r.skipped} already done)` : ''}` : '';
    return { head: `${r?.model ?? ''}${which} [${bar}] ${repeats} · ${(100 * (total > 0 ? done / total : 1)).toFixed(1)}% of the work`, elapsedMs: elapsed, etaMs: eta };
  }

  #emit(final: boolean): void {
    if (!final && !this.#o.tty) return;
    const now = this.#o.now();
    if (!final && now - this.#lastWrite < this.#o.minIntervalMs) return;
    const parts = this.parts();
    const line = composeLine(parts.head, parts.elapsedMs, parts.etaMs);
    if (!final && line === this.#last) return;
    this.#lastWrite = now;
    this.#last = line;
    this.#o.write(line, final, parts);
  }
}
