// `npm run bench`: runs every benchmark and prints a table with the ratio iclit / PyTorch (higher is better).
import { availableParallelism, cpus } from 'node:os';
import { parallelInfo, torchVersion } from '../src/torch/index.js';
import { benchForward } from './forward.js';
import type { BenchResult } from './types.js';

type Bench = () => Promise<BenchResult[]>;

async function optional(path: string, name: string): Promise<Bench | undefined> {
  try {
    const mod = (await import(path)) as Record<string, Bench>;
    return mod[name];
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const benches: [string, Bench | undefined][] = [
    ['forward', benchForward],
    ['train', await optional('./train.js', 'benchTrain')],
    ['encoder', await optional('./encoder.js', 'benchEncoder')],
    ['study', await optional('./study.js', 'benchStudy')],
    ['estimate', await optional('./estimate.js', 'benchEstimate')],
    ['agreement', await optional('./agreement.js', 'benchAgreement')],
    ['7b', await optional('./study-7b.js', 'bench7b')],
    ['profile', await optional('./profile.js', 'benchProfile')],
    ['kernels', await optional('./kernels.js', 'benchKernels')],
    ['threads', await optional('./threads.js', 'benchThreads')],
  ];
  const rows: BenchResult[] = [];
  for (const [name, fn] of benches) {
    if (!fn || (only.length && !only.includes(name))) continue;
    rows.push(...(await fn()));
  }
  const fmt = (n: number | undefined) => (n === undefined ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(2));
  console.log(`\niclit benchmarks — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} threads, libtorch ${torchVersion()}`);
  console.log(parallelInfo().split('\n').filter((l) => /OpenMP|MKL|threads/.test(l)).map((l) => `  ${l.trim()}`).join('\n'));
  console.log('\n| benchmark | unit | iclit | PyTorch | iclit / PyTorch |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.unit} | ${fmt(r.iclit)} | ${fmt(r.pytorch)} | ${r.pytorch ? (r.iclit / r.pytorch).toFixed(2) : '–'} |`);
}

await main();
