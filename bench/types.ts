// One benchmark measurement, printed by `npm run bench` with its ratio to plain PyTorch where one was measured.
import { readFileSync } from 'node:fs';

export interface BenchResult {
  name: string;
  /** Unit of the numbers, higher is better (e.g. 'tokens/s', 'sentences/s', 'repeats/s'). */
  unit: string;
  iclit: number;
  pytorch?: number;
}

/**
 * This process's peak resident set in KiB since it started. Linux: VmHWM, which exec resets; getrusage's maxrss
 * (Node's resourceUsage().maxRSS, Python's ru_maxrss) keeps the high-water mark of the process that spawned it, so a
 * child of a large benchmark process would report the parent's size.
 */
export function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}
