// The 7B row (opt-in, ICLIT_BENCH_7B=1): iclit's convergence repeat on a random LLaMA-2-7B-shaped bf16 checkpoint against the paper's loop in PyTorch on the same prompts.
/*
 * The checkpoint (13.5 GB, 3 shards, the LLaMA-2 tokenizer from ../shared) is written once into a cache folder
 * (ICLIT_BENCH_CACHE, default ~/.cache/iclit-bench) and reused. iclit runs `convergence` through the library in its
 * own process (bench/study-7b-child.ts): the estimate first, then the run with the progress reporter; PyTorch runs
 * the paper's loop (bench/study.ts's PY_STUDY) over the first prompts iclit read, weights memory-mapped as iclit's.
 * ICLIT_BENCH_7B_SHAPE=small runs the same code path on a small LLaMA shape (for testing the row; seconds).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyConfig, writeRandomCheckpoint, type DecoderConfig } from '../src/io/index.js';
import { getNumThreads } from '../src/torch/index.js';
import { makeTempDir, removeTempDir, sharedDir } from '../src/util/testing.js';
import { runPython } from './pytorch.js';
import { loopPasses } from './estimate.js';
import { pyStudyScript } from './study.js';
import { STUDY_LORA } from './study-loop.js';
import { passFlops } from '../src/models/index.js';
import type { Workload } from './workload.js';
import type { BenchResult } from './types.js';

/** LLaMA-2-7B's shape, and a small one through the same code path. */
export const SHAPES: Record<string, DecoderConfig> = {
  'llama2-7b': tinyConfig({ vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, maxPositionEmbeddings: 4096, ropeTheta: 10000, rmsNormEps: 1e-5 }),
  small: tinyConfig({ vocabSize: 32000, hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 32, maxPositionEmbeddings: 4096, ropeTheta: 10000, rmsNormEps: 1e-5 }),
};

const SHAPE = process.env.ICLIT_BENCH_7B_SHAPE ?? 'llama2-7b';
const REPEATS = Number(process.env.ICLIT_BENCH_7B_REPEATS ?? 5);
const BATCH = Number(process.env.ICLIT_BENCH_7B_BATCH ?? 5);
const PY_REPEATS = Number(process.env.ICLIT_BENCH_7B_PY_REPEATS ?? 1);

/** Weights memory-mapped (copy-on-write, never written), every shard of the folder: no copy of 13.5 GB in Python. */
const PY_LOAD_MAPPED = `
import json, mmap, os, struct, torch
def load_safetensors(path):
    files = [path]
    index = os.path.join(os.path.dirname(path), 'model.safetensors.index.json')
    if not os.path.exists(path) and os.path.exists(index):
        files = sorted(set(os.path.join(os.path.dirname(path), f) for f in json.load(open(index))['weight_map'].values()))
    dt = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64}
    out = {}
    for file in files:
        f = open(file, 'rb')
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        n = struct.unpack('<Q', m[:8])[0]
        header = json.loads(m[8:8 + n])
        base = 8 + n
        for k, v in header.items():
            if k == '__metadata__':
                continue
            b, e = v['data_offsets']
            t = torch.frombuffer(m, dtype=dt[v['dtype']], count=(e - b) // torch.tensor([], dtype=dt[v['dtype']]).element_size(), offset=base + b)
            out[k] = t.reshape(v['shape'])
    return out
`;

/** The checkpoint of `shape` in the cache folder, written once (a `complete` marker after the last file). */
export function cachedCheckpoint(shape: string, root = process.env.ICLIT_BENCH_CACHE ?? join(homedir(), '.cache', 'iclit-bench')): string {
  const dir = join(root, `random-${shape}-bf16`);
  if (existsSync(join(dir, 'complete'))) return dir;
  const tokenizer = join(sharedDir(), 'data/tokenizers/llama2');
  if (!existsSync(join(tokenizer, 'tokenizer.json'))) throw new Error(`the LLaMA-2 tokenizer is not in ${tokenizer}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`bench: writing a random ${shape}-shaped bfloat16 checkpoint to ${dir} (once)…\n`);
  writeRandomCheckpoint(dir, SHAPES[shape], { dtype: 'bfloat16', shards: 3, seed: 1 });
  for (const f of readdirSync(tokenizer)) if (/\.(json|model)$/.test(f)) cpSync(join(tokenizer, f), join(dir, f));
  writeFileSync(join(dir, 'complete'), '');
  return dir;
}

interface ChildResult {
  computed: number;
  estimateSeconds: number;
  calibrationSeconds: number;
  estimateWall: number;
  flops: number;
  loadSeconds: number;
  computeSeconds: number;
  firstMoveSeconds: number | null;
  maxRssKb: number;
}

export async function bench7b(): Promise<BenchResult[]> {
  if (process.env.ICLIT_BENCH_7B !== '1' && process.env.ICLIT_BENCH_7B_SHAPE === undefined) {
    process.stderr.write('bench: 7b skipped (opt-in: ICLIT_BENCH_7B=1 writes a 13.5 GB checkpoint once and needs about 16 GB of memory)\n');
    return [];
  }
  const config = SHAPES[SHAPE];
  if (!config) throw new Error(`ICLIT_BENCH_7B_SHAPE must be one of ${Object.keys(SHAPES).join(', ')}`);
  const data = join(sharedDir(), 'data/sst2/dev.tsv');
  if (!existsSync(data)) throw new Error(`SST-2 is not in ${data}`);
  const dir = cachedCheckpoint(SHAPE);
  const tmp = makeTempDir('iclit-bench-7b-');
  try {
    const workloadFile = join(tmp, 'workload.json');
    const script = join(fileURLToPath(new URL('.', import.meta.url)), 'study-7b-child.js');
    const r = spawnSync(process.execPath, [script, dir, data, String(REPEATS), String(BATCH), join(tmp, 'results'), workloadFile], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error('the iclit 7B child failed');
    const ours = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
    const w = JSON.parse(readFileSync(workloadFile, 'utf8')) as Workload;
    const perRepeat = ours.computeSeconds / REPEATS;
    const flopsOf = (repeats: number): number => loopPasses(w, repeats, 1, config).reduce((a, p) => a + passFlops(config, p, STUDY_LORA), 0) / repeats / 1e9;
    const gflop = flopsOf(REPEATS);
    process.stderr.write(
      `bench: iclit ${SHAPE}: ${REPEATS} repeats at batch ${BATCH}: estimate ${ours.estimateSeconds.toFixed(1)} s (calibration ${ours.calibrationSeconds.toFixed(1)} s), ` +
        `measured ${ours.computeSeconds.toFixed(1)} s after ${ours.loadSeconds.toFixed(1)} s of loading; progress line first moved after ${ours.firstMoveSeconds?.toFixed(1) ?? 'never'} s; peak RSS ${(ours.maxRssKb / 1024).toFixed(0)} MB\n`,
    );
    const n = Math.min(PY_REPEATS, REPEATS);
    const code = pyStudyScript(PY_LOAD_MAPPED, dir, { threads: getNumThreads(), dtype: 'bfloat16', workload: workloadFile, repeats: n });
    const py = n > 0 ? runPython<{ seconds: number; maxRssKb: number }>(code, 4 * 3_600_000) : undefined;
    // PyTorch ran the first n of iclit's repeats: its time per repeat scaled to the mean FLOPs of all of them (as bench/study.ts)
    const pyGflop = flopsOf(n);
    const pyPerRepeat = py ? (py.seconds / n) * (gflop / pyGflop) : undefined;
    if (py) process.stderr.write(`bench: PyTorch ${SHAPE}: ${n} repeat(s) in ${py.seconds.toFixed(1)} s (${pyGflop.toFixed(0)} GFLOP per repeat), peak RSS ${(py.maxRssKb / 1024).toFixed(0)} MB\n`);
    const note = `${SHAPE}, bf16, convergence, ${REPEATS} repeats at batch ${BATCH}; PyTorch ${n} repeat(s), scaled by FLOPs`;
    return [
      { name: `study ${note}: time per repeat (s; lower is better)`, unit: 's', iclit: perRepeat, pytorch: pyPerRepeat },
      { name: `study ${SHAPE}: FLOP rate (${gflop.toFixed(0)} GFLOP per repeat)`, unit: 'GFLOP/s', iclit: gflop / perRepeat, pytorch: pyPerRepeat ? gflop / pyPerRepeat : undefined },
      { name: `study ${SHAPE}: peak RSS (VmHWM; lower is better)`, unit: 'MB', iclit: ours.maxRssKb / 1024, pytorch: py ? py.maxRssKb / 1024 : undefined },
      { name: `study ${SHAPE}: estimate printed before the run / measured (bar 0.7–1.3; ${ours.estimateSeconds.toFixed(0)} s vs ${ours.computeSeconds.toFixed(0)} s, loading apart)`, unit: 'ratio', iclit: ours.estimateSeconds / ours.computeSeconds },
      { name: `study ${SHAPE}: seconds until the progress line first moves (bar ≤ 15)`, unit: 's', iclit: ours.firstMoveSeconds ?? NaN },
    ];
  } finally {
    removeTempDir(tmp);
  }
}
