// One benchmark measurement, printed by `npm run bench` with its ratio to plain PyTorch where one was measured.
export interface BenchResult {
  name: string;
  /** Unit of the numbers, higher is better (e.g. 'tokens/s', 'sentences/s', 'repeats/s'). */
  unit: string;
  iclit: number;
  pytorch?: number;
}
