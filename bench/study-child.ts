// Runs the batched study loop in its own process (so its peak RSS is its own): argv = model dir, workload JSON, dtype, batch, repeats.
import { readFileSync } from 'node:fs';
import { peakRssKb } from './types.js';
import { LlamaModel } from '../src/models/index.js';
import { threadSetup } from '../src/torch/index.js';
import { runStudyLoop } from './study-loop.js';
import type { Workload } from './workload.js';

const [dir, workloadFile, dtype, batch, repeats] = process.argv.slice(2);
const w = JSON.parse(readFileSync(workloadFile, 'utf8')) as Workload;
const model = LlamaModel.load(dir, { dtype: dtype as 'float32' | 'bfloat16' });
const r = runStudyLoop(model, w.repeats.slice(0, Number(repeats)), Number(batch));
console.log(JSON.stringify({ seconds: r.seconds, maxRssKb: peakRssKb(), simIclIt: r.simIclIt, threads: threadSetup() }));
