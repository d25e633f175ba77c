// Thread policies measured side by side (`npm run bench threads`): forward float32 T=64 and one LoRA step, each policy in its own process, rounds interleaved.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { LlamaModel } from '../src/models/index.js';
import { applyLora } from '../src/lora/index.js';
import { trainLora } from '../src/train/index.js';
import { threadSetup, tidyNoGrad } from '../src/torch/index.js';
import { SMOLLM2_135M, prepareSmolLM2 } from './forward.js';
import { PY_LLAMA_COMMON, PY_LOAD_SAFETENSORS, runPython } from './pytorch.js';
import { STUDY_LORA } from './study-loop.js';
import type { BenchResult } from './types.js';

const ROUNDS = Number(process.env.ICLIT_BENCH_THREAD_ROUNDS ?? 3);
const cores = String(availableParallelism());

/** The environments compared; iclit's default is the first (an empty override: what native.ts sets). */
export const POLICIES: { name: string; env: Record<string, string> }[] = [
  { name: 'iclit default', env: {} },
  { name: 'OpenMP active (libgomp default)', env: { OMP_WAIT_POLICY: 'ACTIVE', OPENBLAS_NUM_THREADS: cores, OPENBLAS_THREAD_TIMEOUT: '28' } },
  { name: `passive, OpenBLAS ${cores} threads spinning (OpenBLAS default timeout)`, env: { OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_NUM_THREADS: cores, OPENBLAS_THREAD_TIMEOUT: '28' } },
  { name: 'passive, OpenBLAS 1 thread', env: { OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_NUM_THREADS: '1' } },
];

const PY_FORWARD64 = `
import json, math, time, torch
import torch.nn.functional as F
torch.set_num_threads(THREADS)
T = 64
ids = torch.tensor([[(i * 7919) % C['vocab_size'] for i in range(T)]])
def forward():
    inv = 1.0 / (C['rope_theta'] ** (torch.arange(0, D, 2).float() / D))
    f = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)
    x = W['model.embed_tokens.weight'][ids]
    for i in range(L):
        p = 'model.layers.%d.' % i
        h = rms(x, W[p + 'input_layernorm.weight'])
        q = F.linear(h, W[p + 'self_attn.q_proj.weight']).view(1, T, H, D).transpose(1, 2)
        k = F.linear(h, W[p + 'self_attn.k_proj.weight']).view(1, T, KV, D).transpose(1, 2)
        v = F.linear(h, W[p + 'self_attn.v_proj.weight']).view(1, T, KV, D).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        a = torch.softmax((q @ k.transpose(2, 3)) / math.sqrt(D) + mask, -1)
        x = x + F.linear((a @ v).transpose(1, 2).reshape(1, T, H * D), W[p + 'self_attn.o_proj.weight'])
        h = rms(x, W[p + 'post_attention_layernorm.weight'])
        x = x + F.linear(F.silu(F.linear(h, W[p + 'mlp.gate_proj.weight'])) * F.linear(h, W[p + 'mlp.up_proj.weight']), W[p + 'mlp.down_proj.weight'])
    return rms(x[:, -1], W['model.norm.weight'])
with torch.no_grad():
    forward()
    t0 = time.perf_counter()
    for _ in range(10):
        forward()
    print(json.dumps({'forward64': 640 / (time.perf_counter() - t0)}))
`;

/** One measurement in this process (run as a child with a policy's environment): forward T=64 tokens/s, LoRA step seconds. */
export function measureHere(dir: string): { forward64: number; loraStep: number; setup: string } {
  const model = LlamaModel.load(dir);
  const ids = Array.from({ length: 64 }, (_, i) => (i * 7919) % SMOLLM2_135M.vocabSize);
  const run = () => tidyNoGrad(() => void model.forward([ids], { hiddenStates: [-1] }));
  run();
  let t0 = performance.now();
  for (let i = 0; i < 10; i++) run();
  const forward64 = 640 / ((performance.now() - t0) / 1000);
  const data = [0, 1, 2, 3].map((b) => [{ ids: ids.slice(b * 8, b * 8 + 40) }]);
  const lora = applyLora(model, STUDY_LORA, { adapters: 4 });
  trainLora(model, lora, data, { epochs: 1 });
  t0 = performance.now();
  trainLora(model, lora, data, { epochs: 3 });
  return { forward64, loraStep: (performance.now() - t0) / 3000, setup: threadSetup() };
}

export async function benchThreads(): Promise<BenchResult[]> {
  const { dir, threads } = prepareSmolLM2('threads');
  const self = fileURLToPath(import.meta.url);
  const ours = new Map<string, { forward64: number[]; loraStep: number[]; setup: string }>();
  const py: number[] = [];
  try {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMP_WAIT_POLICY|OPENBLAS_NUM_THREADS|OPENBLAS_THREAD_TIMEOUT|OMP_NUM_THREADS)$/.test(k)));
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of POLICIES) {
        const r = spawnSync(process.execPath, [self, '--child', dir], { encoding: 'utf8', env: { ...base, ...p.env } });
        if (r.status !== 0) throw new Error(`thread bench child failed: ${r.stderr}`);
        const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
        const acc = ours.get(p.name) ?? { forward64: [] as number[], loraStep: [] as number[], setup: m.setup as string };
        acc.forward64.push(m.forward64);
        acc.loraStep.push(m.loraStep);
        ours.set(p.name, acc);
      }
      const code = PY_LOAD_SAFETENSORS + PY_LLAMA_COMMON.replace(/DIR/g, JSON.stringify(dir)) + PY_FORWARD64.replace('THREADS', String(threads));
      const r = runPython<{ forward64: number }>(code, 600_000, { ...base, OMP_WAIT_POLICY: 'PASSIVE' });
      if (r) py.push(r.forward64);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const pyMedian = py.length ? median(py) : undefined;
  const rows: BenchResult[] = [];
  for (const [name, m] of ours) {
    process.stderr.write(`bench threads: ${name}: ${m.setup}\n`);
    rows.push({ name: `forward float32 T=64 (135M), ${name} vs PyTorch OMP_WAIT_POLICY=PASSIVE (median of ${ROUNDS})`, unit: 'tokens/s', iclit: median(m.forward64), pytorch: pyMedian });
    rows.push({ name: `LoRA step, 4 adapters × 40 tokens (135M, fp32), ${name} (median of ${ROUNDS})`, unit: 'steps/s', iclit: 1 / median(m.loraStep) });
  }
  return rows;
}

if (process.argv[2] === '--child') console.log(JSON.stringify(measureHere(process.argv[3])));
