// LoRA tuning of 30 repeats (one ~64-token demonstration each, 1 epoch) on a SmolLM2-135M-shaped checkpoint: sequential vs batched, against plain PyTorch.
import { removeTempDir } from '../src/util/testing.js';
import { LlamaModel } from '../src/models/index.js';
import { applyLora, type LoraAdapters, type LoraConfig } from '../src/lora/index.js';
import { trainLora, type TrainExample } from '../src/train/index.js';
import { seededRandom } from '../src/util/random.js';
import { SMOLLM2_135M, prepareSmolLM2 } from './forward.js';
import { PY_LLAMA_COMMON, PY_LOAD_SAFETENSORS, runPython } from './pytorch.js';
import type { BenchResult } from './types.js';

const REPEATS = Number(process.env.ICLIT_BENCH_REPEATS ?? 30);
const TOKENS = 64;
const LORA: LoraConfig = { r: 8, alpha: 32, dropout: 0.05, targets: ['q_proj', 'v_proj'] };
const LR = 1e-4;

/** One ~64-token demonstration per repeat (random ids; content does not change the cost). */
function demonstrations(): number[][] {
  const rng = seededRandom(7);
  return Array.from({ length: REPEATS }, () => Array.from({ length: TOKENS }, () => 1 + Math.floor(rng() * (SMOLLM2_135M.vocabSize - 1))));
}

// The same step in plain PyTorch: LoRA (PEFT layout) on q/v, next-token cross-entropy, AdamW; sequential (one
// adapter per repeat, the usual PEFT loop) and batched (30 adapters through bmm, loss summed over repeats).
const PY_TRAIN = `
import json, math, time, torch
import torch.nn.functional as F
torch.set_num_threads(THREADS)
torch.manual_seed(0)
R, ALPHA, P = LORA_R, LORA_ALPHA, LORA_P
S = ALPHA / R
DEMOS = DEMOS_JSON
def lora(h, w, A, B):
    base = F.linear(h, w)
    x = F.dropout(h, P, True)
    if A.dim() == 2:
        return base + F.linear(F.linear(x, A), B) * S
    return base + torch.bmm(torch.bmm(x, A.transpose(1, 2)), B.transpose(1, 2)) * S
def loss_of(ids, ad):
    N, T = ids.shape
    inv = 1.0 / (C['rope_theta'] ** (torch.arange(0, D, 2).float() / D))
    f = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)
    x = W['model.embed_tokens.weight'][ids]
    for i in range(L):
        p = 'model.layers.%d.' % i
        h = rms(x, W[p + 'input_layernorm.weight'])
        q = lora(h, W[p + 'self_attn.q_proj.weight'], *ad[i][0]).view(N, T, H, D).transpose(1, 2)
        k = F.linear(h, W[p + 'self_attn.k_proj.weight']).view(N, T, KV, D).transpose(1, 2)
        v = lora(h, W[p + 'self_attn.v_proj.weight'], *ad[i][1]).view(N, T, KV, D).transpose(1, 2)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        a = torch.softmax((q @ k.transpose(2, 3)) / math.sqrt(D) + mask, -1)
        x = x + F.linear((a @ v).transpose(1, 2).reshape(N, T, H * D), W[p + 'self_attn.o_proj.weight'])
        h = rms(x, W[p + 'post_attention_layernorm.weight'])
        x = x + F.linear(F.silu(F.linear(h, W[p + 'mlp.gate_proj.weight'])) * F.linear(h, W[p + 'mlp.up_proj.weight']), W[p + 'mlp.down_proj.weight'])
    logits = F.linear(rms(x, W['model.norm.weight']), W['model.embed_tokens.weight'])
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction='none').view(N, T - 1)
    return ce.mean(1).sum()
def adapters(n):
    ad, params = [], []
    for i in range(L):
        pair = []
        for out in (H * D, KV * D):
            shape_a = (R, C['hidden_size']) if n == 0 else (n, R, C['hidden_size'])
            shape_b = (out, R) if n == 0 else (n, out, R)
            A = torch.empty(shape_a).uniform_(-1 / math.sqrt(C['hidden_size']), 1 / math.sqrt(C['hidden_size'])).requires_grad_()
            B = torch.zeros(shape_b).requires_grad_()
            pair.append((A, B))
            params += [A, B]
        ad.append(pair)
    return ad, params
def step(ids, n):
    ad, params = adapters(n)
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    loss = loss_of(ids, ad)
    loss.backward()
    opt.step()
    opt.zero_grad()
out = {}
ids = torch.tensor(DEMOS)
step(ids[:1], 0)
t0 = time.perf_counter()
for r in range(len(DEMOS)):
    step(ids[r:r + 1], 0)
out['sequential'] = time.perf_counter() - t0
step(ids[:2], 2)
t0 = time.perf_counter()
step(ids, len(DEMOS))
out['batched'] = time.perf_counter() - t0
print(json.dumps(out))
`;

export async function benchTrain(): Promise<BenchResult[]> {
  const { dir, threads } = prepareSmolLM2('train');
  const demos = demonstrations();
  const data: TrainExample[][] = demos.map((ids) => [{ ids }]);
  const opts = { epochs: 1, batchSize: 1, lr: LR, seed: 0 };
  const model = LlamaModel.load(dir);
  const tuneOnce = (lora: LoraAdapters, d: TrainExample[][]): void => {
    try {
      trainLora(model, lora, d, opts);
    } finally {
      lora.dispose();
    }
  };

  // Warm-up (allocator, thread pool) with one repeat.
  tuneOnce(applyLora(model, LORA, { seed: 0 }), [data[0]]);

  let t0 = performance.now();
  for (let r = 0; r < REPEATS; r++) {
    tuneOnce(applyLora(model, LORA, { seed: r }), [data[r]]);
  }
  const sequential = (performance.now() - t0) / 1000;
  process.stderr.write(`bench: LoRA tuning, ${REPEATS} repeats one after another: ${sequential.toFixed(2)} s\n`);

  // Warm-up of the batched path with two adapters (the allocator sees batched shapes once).
  tuneOnce(applyLora(model, LORA, { adapters: 2, seed: 0 }), data.slice(0, 2));
  t0 = performance.now();
  tuneOnce(applyLora(model, LORA, { adapters: REPEATS, seed: 0 }), data);
  const batched = (performance.now() - t0) / 1000;
  process.stderr.write(`bench: LoRA tuning, ${REPEATS} repeats batched: ${batched.toFixed(2)} s\n`);
  model.dispose();

  process.stderr.write('bench: the same LoRA steps in plain PyTorch…\n');
  const code =
    PY_LOAD_SAFETENSORS +
    PY_LLAMA_COMMON.replace(/DIR/g, JSON.stringify(dir)) +
    PY_TRAIN.replace('THREADS', String(threads))
      .replace('LORA_R', String(LORA.r))
      .replace('LORA_ALPHA', String(LORA.alpha))
      .replace('LORA_P', String(LORA.dropout))
      .replace(/\bLR\b/g, String(LR))
      .replace('DEMOS_JSON', JSON.stringify(demos));
  const py = runPython<{ sequential: number; batched: number }>(code);
  if (py) process.stderr.write(`bench: PyTorch ${py.sequential.toFixed(2)} s sequential, ${py.batched.toFixed(2)} s batched\n`);
  removeTempDir(dir);
  const name = `LoRA tune ${REPEATS} repeats × ${TOKENS} tok, 1 epoch (135M, fp32)`;
  return [
    { name: `${name}, sequential`, unit: 'repeats/s', iclit: REPEATS / sequential, pytorch: py ? REPEATS / py.sequential : undefined },
    { name: `${name}, batched`, unit: 'repeats/s', iclit: REPEATS / batched, pytorch: py ? REPEATS / py.batched : undefined },
  ];
}
