// Forward-pass throughput on a SmolLM2-135M-shaped random checkpoint, float32 and bfloat16, against plain PyTorch.
import { tinyConfig, writeRandomCheckpoint } from '../src/io/index.js';
import { LlamaModel } from '../src/models/index.js';
import { getNumThreads, tidyNoGrad, randn, tidy } from '../src/torch/index.js';
import { PY_LLAMA_COMMON, PY_LOAD_SAFETENSORS, runPython } from './pytorch.js';
import type { BenchResult } from './types.js';
import { makeTempDir, removeTempDir } from '../src/util/testing.js';

export const SMOLLM2_135M = tinyConfig({
  vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64,
  tieWordEmbeddings: true, ropeTheta: 100000, maxPositionEmbeddings: 2048,
});

const LENGTHS = [64, 512];
const ITERS: Record<number, number> = { 64: 10, 512: 3 };
/** Untimed forwards first (the first touches of the mapped weights and of the allocator's buffers); bfloat16 fewer, PyTorch's being a scalar loop. Both sides report the median forward. */
const WARMUP: Record<string, number> = { float32: 3, bfloat16: 1 };

const PY_FORWARD = `
import json, math, sys, time, torch
torch.set_num_threads(THREADS)
def forward(ids, dt, Wd):
    B, T = ids.shape
    inv = 1.0 / (C['rope_theta'] ** (torch.arange(0, D, 2).float() / D))
    f = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos().to(dt), emb.sin().to(dt)
    mask = torch.full((T, T), torch.finfo(dt).min, dtype=dt).triu(1)
    x = Wd['model.embed_tokens.weight'][ids]
    for i in range(L):
        p = 'model.layers.%d.' % i
        h = rms(x, Wd[p + 'input_layernorm.weight'])
        q = torch.nn.functional.linear(h, Wd[p + 'self_attn.q_proj.weight']).view(B, T, H, D).transpose(1, 2)
        k = torch.nn.functional.linear(h, Wd[p + 'self_attn.k_proj.weight']).view(B, T, KV, D).transpose(1, 2)
        v = torch.nn.functional.linear(h, Wd[p + 'self_attn.v_proj.weight']).view(B, T, KV, D).transpose(1, 2)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        a = (q @ k.transpose(2, 3)) / math.sqrt(D) + mask
        a = torch.softmax(a.float(), -1).to(dt)
        o = (a @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + torch.nn.functional.linear(o, Wd[p + 'self_attn.o_proj.weight'])
        h = rms(x, Wd[p + 'post_attention_layernorm.weight'])
        g = torch.nn.functional.linear(h, Wd[p + 'mlp.gate_proj.weight'])
        u = torch.nn.functional.linear(h, Wd[p + 'mlp.up_proj.weight'])
        x = x + torch.nn.functional.linear(torch.nn.functional.silu(g) * u, Wd[p + 'mlp.down_proj.weight'])
    return rms(x[:, -1], Wd['model.norm.weight'])
out = {}
with torch.no_grad():
    for dt, name in [(torch.float32, 'float32'), (torch.bfloat16, 'bfloat16')]:
        Wd = {k: v.to(dt) for k, v in W.items()}
        for T in LENGTHS:
            ids = torch.randint(0, C['vocab_size'], (1, T))
            for _ in range(WARMUP[name]):
                forward(ids, dt, Wd)
            times = []
            for _ in range(ITERS[str(T)]):
                t0 = time.perf_counter()
                forward(ids, dt, Wd)
                times.append(time.perf_counter() - t0)
            out['%s/%d' % (name, T)] = T / sorted(times)[len(times) // 2]
print(json.dumps(out))
`;

/** Writes the random 135M checkpoint the model benchmarks share; returns its folder and the thread count (iclit's policy: every core). */
export function prepareSmolLM2(prefix: string): { dir: string; threads: number } {
  const threads = getNumThreads();
  const dir = makeTempDir(`iclit-bench-${prefix}-`);
  process.stderr.write('bench: writing a random SmolLM2-135M-shaped checkpoint…\n');
  writeRandomCheckpoint(dir, SMOLLM2_135M, { seed: 1 });
  return { dir, threads };
}

/** Per-op overhead: a small elementwise op (64×64 add) in a tidy scope, against the same op in PyTorch. */
export function benchSmallOp(): BenchResult {
  const n = 20000;
  const x = randn([64, 64]);
  for (let i = 0; i < 1000; i++) tidy(() => void x.add(1));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tidy(() => void x.add(1));
  const ours = n / ((performance.now() - t0) / 1000);
  x.dispose();
  const py = runPython<{ opsPerSecond: number }>(`
import json, time, torch
x = torch.randn(64, 64)
for _ in range(1000): x + 1
t = time.perf_counter()
for _ in range(${n}): x + 1
print(json.dumps({'opsPerSecond': ${n} / (time.perf_counter() - t)}))
`);
  return { name: 'small op (64×64 add), per-op overhead', unit: 'ops/s', iclit: ours, pytorch: py?.opsPerSecond };
}

export async function benchForward(): Promise<BenchResult[]> {
  const { dir, threads } = prepareSmolLM2('fwd');
  const results: BenchResult[] = [];
  const ours: Record<string, number> = {};
  for (const dtype of ['float32', 'bfloat16'] as const) {
    const model = LlamaModel.load(dir, { dtype });
    for (const T of LENGTHS) {
      const ids = Array.from({ length: T }, (_, i) => (i * 7919) % SMOLLM2_135M.vocabSize);
      const run = () => tidyNoGrad(() => void model.forward([ids], { hiddenStates: [-1], positions: 'last' }));
      for (let i = 0; i < WARMUP[dtype]; i++) run();
      const times: number[] = [];
      for (let i = 0; i < ITERS[T]; i++) {
        const t0 = performance.now();
        run();
        times.push(performance.now() - t0);
      }
      ours[`${dtype}/${T}`] = T / (times.sort((a, b) => a - b)[times.length >> 1] / 1000);
      process.stderr.write(`bench: forward ${dtype} T=${T}: ${ours[`${dtype}/${T}`].toFixed(0)} tokens/s\n`);
    }
    model.dispose();
  }
  process.stderr.write('bench: the same forward in plain PyTorch…\n');
  const code = PY_LOAD_SAFETENSORS + PY_LLAMA_COMMON.replace(/DIR/g, JSON.stringify(dir)) + PY_FORWARD.replace('THREADS', String(threads)).replace(/DIR/g, JSON.stringify(dir)).replace(/LENGTHS/g, JSON.stringify(LENGTHS)).replace(/ITERS/g, JSON.stringify(Object.fromEntries(Object.entries(ITERS).map(([k, v]) => [k, v])))).replace(/WARMUP/g, JSON.stringify(WARMUP));
  const py = runPython<Record<string, number>>(code);
  for (const key of Object.keys(ours)) results.push({ name: `forward ${key.replace('/', ', T=')} (135M)`, unit: 'tokens/s', iclit: ours[key], pytorch: py?.[key] });
  removeTempDir(dir);
  results.push(benchSmallOp());
  return results;
}
