// One `iclit run convergence` through the library in its own process (its peak RSS its own): estimate, run with the progress reporter, the prompts as token ids. argv = model dir, data, repeats, batch, out dir, workload file to write.
import { writeFileSync } from 'node:fs';
import { ResultsStore } from '../src/results/index.js';
import { ProgressReporter, estimateLine, estimateStudy, mergeSettings, openStudy } from '../src/study/index.js';
import { Tokenizer } from '../src/tokenizers/index.js';
import { peakRssKb } from './types.js';

const [dir, data, repeats, batch, out, workloadFile] = process.argv.slice(2);
const settings = mergeSettings({ preset: 'convergence' }, { models: [dir], data, repeats: Number(repeats), batch: Number(batch), dtype: 'bfloat16', device: 'cpu' });
const t0 = performance.now();
const estimate = await estimateStudy(settings);
const estimated = performance.now();
process.stderr.write(`bench: ${estimateLine(estimate)}\n`);
const study = await openStudy(settings, out);
let started: number | undefined;
let moved: number | undefined;
let first: string | undefined;
const reporter = new ProgressReporter(estimate, {
  tty: true,
  minIntervalMs: 1000,
  write: (line) => {
    if (started === undefined) return;
    if (first === undefined) first = line;
    else if (moved === undefined && line.replace(/elapsed.*/, '') !== first.replace(/elapsed.*/, '')) moved = performance.now();
  },
});
let summary;
try {
  summary = await study.run({
    onProgress: (e, i) => {
      if (e.repeat === -1) started = performance.now();
      reporter.repeat(e, i);
    },
    onWork: (e) => reporter.work(e),
  });
} finally {
  study.close();
}
const ended = performance.now();
// The prompts each repeat read, as token ids, for the PyTorch side (the same tokenizer, BOS as the study adds it).
const tok = await Tokenizer.load(dir);
const store = ResultsStore.open(out, { readonly: true });
const records = store.records().sort((a, b) => a.repeat - b.repeat);
store.close();
writeFileSync(workloadFile, JSON.stringify({ repeats: records.map((r) => ({ anchor: tok.encode(r.prompts.anchor), icl: tok.encode(r.prompts.icl), tuning: tok.encode(r.prompts.tuning[0]) })), source: data }));
console.log(
  JSON.stringify({
    computed: summary.computed,
    estimateSeconds: estimate.seconds,
    calibrationSeconds: estimate.models[0].cost.seconds,
    estimateWall: (estimated - t0) / 1000,
    flops: estimate.flops,
    loadSeconds: (started! - estimated) / 1000,
    computeSeconds: (ended - started!) / 1000,
    firstMoveSeconds: moved === undefined ? null : (moved - started!) / 1000,
    maxRssKb: peakRssKb(),
  }),
);
