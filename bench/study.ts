// The convergence study (1 demonstration, 10 epochs, 135M shape): iclit batched vs PyTorch one repeat after another, with matmul peaks.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STUDY_DEFAULTS } from '../src/experiments/index.js';
import { randn, threadSetup, tidy, type DType } from '../src/torch/index.js';
import { SMOLLM2_135M, prepareSmolLM2 } from './forward.js';
import { PY_LLAMA_COMMON, PY_LOAD_SAFETENSORS, runPython } from './pytorch.js';
import { STUDY_EPOCHS, STUDY_LORA, STUDY_LR } from './study-loop.js';
import { convergenceWorkload, meanLengths, workloadFile, type Workload } from './workload.js';
import type { BenchResult } from './types.js';
import { passFlops, type ComputeDType } from '../src/models/index.js';
import { estimateLoop, loopPasses } from './estimate.js';

const REPEATS = Number(process.env.ICLIT_BENCH_STUDY_REPEATS ?? 30);
/** The study's own default, as `iclit run` uses it on the CPU. */
const BATCH = Number(process.env.ICLIT_BENCH_STUDY_BATCH ?? STUDY_DEFAULTS.batch);
/** The memory bar compares 16 repeats with 4 at a fixed batch of 4: 4 repeats are then exactly one chunk. */
const MEMORY_BATCH = 4;
/** PyTorch's bfloat16 GEMM is a scalar loop on CPUs without native bf16 (minutes per repeat): few repeats, scaled. */
const PY_REPEATS: Record<string, number> = {
  float32: Number(process.env.ICLIT_BENCH_PY_FP32_REPEATS ?? 10),
  bfloat16: Number(process.env.ICLIT_BENCH_PY_BF16_REPEATS ?? 1),
};

// The paper's way: per repeat, one sequence at a time — anchor forward, ICL forward, a fresh LoRA (q/v, r 8, alpha
// 32, dropout 0.05, float32 as PEFT keeps adapters) tuned with AdamW (lr 1e-4) for 10 epochs of one step on the
// tuning text, then the anchor under the tuned adapter. Hidden states at every layer, last token, as HF returns them.
export const PY_STUDY = `
import json, math, resource, time, torch
import torch.nn.functional as F
torch.set_num_threads(THREADS)
torch.manual_seed(0)
dt = {'float32': torch.float32, 'bfloat16': torch.bfloat16}[DTYPE]
W = {k: v.to(dt) for k, v in W.items()}
R, ALPHA, P, LR, EPOCHS = LORA_R, LORA_ALPHA, LORA_P, STUDY_LR, STUDY_EPOCHS
S = ALPHA / R
work = json.load(open(WORKLOAD))['repeats'][:NREPEATS]
def lora(h, w, ad, train):
    base = F.linear(h, w)
    if ad is None:
        return base
    A, B = ad
    x = F.dropout(h.float(), P, train)
    return (base.float() + F.linear(F.linear(x, A), B) * S).to(h.dtype)
def run(ids, ad=None, train=False, logits=False):
    T = len(ids)
    inv = 1.0 / (C['rope_theta'] ** (torch.arange(0, D, 2).float() / D))
    f = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat([f, f], -1)
    cos, sin = emb.cos().to(dt), emb.sin().to(dt)
    mask = torch.full((T, T), torch.finfo(dt).min, dtype=dt).triu(1)
    x = W['model.embed_tokens.weight'][torch.tensor([ids])]
    hidden = [x[0, -1].float()]
    for i in range(L):
        p = 'model.layers.%d.' % i
        h = rms(x, W[p + 'input_layernorm.weight'])
        q = lora(h, W[p + 'self_attn.q_proj.weight'], ad and ad[i][0], train).view(1, T, H, D).transpose(1, 2)
        k = F.linear(h, W[p + 'self_attn.k_proj.weight']).view(1, T, KV, D).transpose(1, 2)
        v = lora(h, W[p + 'self_attn.v_proj.weight'], ad and ad[i][1], train).view(1, T, KV, D).transpose(1, 2)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        a = torch.softmax(((q @ k.transpose(2, 3)) / math.sqrt(D) + mask).float(), -1).to(dt)
        x = x + F.linear((a @ v).transpose(1, 2).reshape(1, T, H * D), W[p + 'self_attn.o_proj.weight'])
        h = rms(x, W[p + 'post_attention_layernorm.weight'])
        x = x + F.linear(F.silu(F.linear(h, W[p + 'mlp.gate_proj.weight'])) * F.linear(h, W[p + 'mlp.up_proj.weight']), W[p + 'mlp.down_proj.weight'])
        if i + 1 < L:
            hidden.append(x[0, -1].float())
    x = rms(x, W['model.norm.weight'])
    if logits:
        return F.linear(x[0, :-1], W['model.embed_tokens.weight']).float()
    hidden.append(x[0, -1].float())
    return hidden
def adapters():
    ad, params = [], []
    for i in range(L):
        pair = []
        for out in (H * D, KV * D):
            A = torch.empty(R, C['hidden_size']).uniform_(-1 / math.sqrt(C['hidden_size']), 1 / math.sqrt(C['hidden_size'])).requires_grad_()
            B = torch.zeros(out, R).requires_grad_()
            pair.append((A, B))
            params += [A, B]
        ad.append(pair)
    return ad, params
t0 = time.perf_counter()
sims = []
for rep in work:
    with torch.no_grad():
        run(rep['anchor'])
        icl = run(rep['icl'])
    ad, params = adapters()
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    target = torch.tensor(rep['tuning'][1:])
    for epoch in range(EPOCHS):
        loss = F.cross_entropy(run(rep['tuning'], ad, True, True), target)
        loss.backward()
        opt.step()
        opt.zero_grad()
    with torch.no_grad():
        it = run(rep['anchor'], ad)
    sims.append(F.cosine_similarity(icl[-1], it[-1], 0).item())
seconds = time.perf_counter() - t0
def peak_rss_kb():  # VmHWM: exec resets it; ru_maxrss keeps the spawning process's high-water mark
    try:
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({'seconds': seconds, 'maxRssKb': peak_rss_kb(), 'simIclIt': sims}))
`;

/** The paper's loop in PyTorch as one script: a weight loader (safetensors read or memory-mapped), the LLaMA code and PY_STUDY filled in. */
export function pyStudyScript(loader: string, dir: string, o: { threads: number; dtype: string; workload: string; repeats: number }): string {
  return (
    loader +
    PY_LLAMA_COMMON.replace(/DIR/g, JSON.stringify(dir)) +
    PY_STUDY.replace('THREADS', String(o.threads))
      .replace('DTYPE', JSON.stringify(o.dtype))
      .replace('LORA_R', String(STUDY_LORA.r))
      .replace('LORA_ALPHA', String(STUDY_LORA.alpha))
      .replace('LORA_P', String(STUDY_LORA.dropout))
      .replace('STUDY_LR', String(STUDY_LR))
      .replace('STUDY_EPOCHS', String(STUDY_EPOCHS))
      .replace('WORKLOAD', JSON.stringify(o.workload))
      .replace('NREPEATS', String(o.repeats))
  );
}

// GEMM throughput [M×K]·[K×N] of libtorch itself (the machine's practical rate), float32 and bfloat16: the median of
// ROUNDS rounds of ITERS products each (one 0.7-second sample of this 2-core machine ranged 111–158 GFLOP/s).
const GEMM_ROUNDS = 5;
const GEMM_ITERS = 20;
const PY_MATMUL = `
import json, time, statistics, torch
torch.set_num_threads(THREADS)
out = {}
for name, dt, warm, rounds, iters in [('float32', torch.float32, 5, ROUNDS, ITERS), ('bfloat16', torch.bfloat16, 1, 1, 1)]:
    a, b = torch.randn(1024, 1024).to(dt), torch.randn(1024, 1024).to(dt)
    for _ in range(warm):
        a @ b
    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(iters):
            a @ b
        rates.append(2 * 1024 ** 3 * iters / (time.perf_counter() - t) / 1e9)
    out[name] = statistics.median(rates)
print(json.dumps(out))
`;

/** iclit's own GEMM rate (bfloat16 through the widened path where the CPU has no native bf16), GFLOP/s: the median of GEMM_ROUNDS rounds. */
function iclitMatmul(dtype: DType): number {
  return tidy(() => {
    const a = randn([1024, 1024]).to(dtype);
    const b = randn([1024, 1024]).to(dtype);
    for (let i = 0; i < 5; i++) tidy(() => void a.matmul(b));
    const rates: number[] = [];
    for (let r = 0; r < GEMM_ROUNDS; r++) {
      const t0 = performance.now();
      for (let i = 0; i < GEMM_ITERS; i++) tidy(() => void a.matmul(b));
      rates.push((2 * 1024 ** 3 * GEMM_ITERS) / ((performance.now() - t0) / 1000) / 1e9);
    }
    return rates.sort((x, y) => x - y)[Math.floor(GEMM_ROUNDS / 2)];
  });
}

/** Mean FLOPs of one repeat (src/models/flops.ts over the loop's passes: forwards of anchor, ICL and the tuned anchor, `epochs` training steps). */
export function repeatFlops(w: Workload, epochs: number): number {
  const passes = loopPasses(w, w.repeats.length, 1, SMOLLM2_135M, epochs);
  return passes.reduce((a, p) => a + passFlops(SMOLLM2_135M, p, STUDY_LORA), 0) / w.repeats.length;
}

/** The batched study loop in its own process (bench/study-child.ts): its seconds and peak RSS. */
export function studyChild(dir: string, workload: string, dtype: string, repeats: number, batch = BATCH): { seconds: number; maxRssKb: number; simIclIt: number[]; threads: string } {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'study-child.js');
  const r = spawnSync(process.execPath, [script, dir, workload, dtype, String(batch), String(repeats)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`the iclit study child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Peak RSS of the batched study loop for 4 and for 16 repeats (separate processes, float32, real-length prompts). */
export async function studyMemoryRows(dir: string): Promise<BenchResult[]> {
  const file = workloadFile(await convergenceWorkload(16, SMOLLM2_135M.vocabSize, 2));
  let four, sixteen;
  try {
    four = studyChild(dir, file.path, 'float32', 4, MEMORY_BATCH);
    sixteen = studyChild(dir, file.path, 'float32', 16, MEMORY_BATCH);
  } finally {
    file.dispose();
  }
  process.stderr.write(`bench: study loop peak RSS: 4 repeats ${(four.maxRssKb / 1024).toFixed(0)} MB, 16 repeats ${(sixteen.maxRssKb / 1024).toFixed(0)} MB (ratio ${(sixteen.maxRssKb / four.maxRssKb).toFixed(2)}, bar ≤ 1.25)\n`);
  return [{ name: `study loop peak RSS, 16 repeats / 4 repeats (float32, batch ${MEMORY_BATCH}; bar ≤ 1.25)`, unit: 'ratio (lower is better)', iclit: sixteen.maxRssKb / four.maxRssKb }];
}

export async function benchStudy(): Promise<BenchResult[]> {
  const { dir, threads } = prepareSmolLM2('study');
  const w = await convergenceWorkload(REPEATS, SMOLLM2_135M.vocabSize, 0);
  const file = workloadFile(w);
  const workload = file.path;
  const lens = meanLengths(w);
  const rows: BenchResult[] = [];
  try {
    process.stderr.write(`bench: study workload ${w.source}; mean tokens anchor ${lens.anchor.toFixed(1)}, ICL ${lens.icl.toFixed(1)}, tuning ${lens.tuning.toFixed(1)}\n`);
    process.stderr.write(`bench: ${threadSetup()} (the PyTorch side inherits the same environment)\n`);
    const peaks = runPython<Record<string, number>>(PY_MATMUL.replace('THREADS', String(threads)).replace('ROUNDS', String(GEMM_ROUNDS)).replace('ITERS', String(GEMM_ITERS)), 1_800_000);
    const gflop = repeatFlops(w, STUDY_EPOCHS) / 1e9;
    const gemmRates: number[] = []; // every 1024³ median of the run so far
    for (const dtype of ['float32', 'bfloat16']) {
      const est = estimateLoop(w, REPEATS, BATCH, SMOLLM2_135M, dtype as ComputeDType);
      const ours = studyChild(dir, workload, dtype, REPEATS);
      rows.push({ name: `study estimate / measured wall, ${dtype} (bar 0.7–1.3; ${est.seconds.toFixed(0)} s vs ${ours.seconds.toFixed(0)} s)`, unit: 'ratio', iclit: est.seconds / ours.seconds });
      const perRepeat = ours.seconds / REPEATS;
      process.stderr.write(`bench: iclit study ${dtype}: ${REPEATS} repeats in ${ours.seconds.toFixed(1)} s (${perRepeat.toFixed(2)} s per repeat), peak RSS ${(ours.maxRssKb / 1024).toFixed(0)} MB\n`);
      const n = Math.min(PY_REPEATS[dtype], REPEATS);
      const code = pyStudyScript(PY_LOAD_SAFETENSORS, dir, { threads, dtype, workload, repeats: n });
      const py = n > 0 ? runPython<{ seconds: number; maxRssKb: number }>(code, 7_200_000) : undefined;
      // PyTorch ran the first n repeats only: its time per repeat is scaled to the whole workload's FLOPs per repeat
      // (prompt lengths differ between repeats), so both sides are compared on the same work.
      const pyFlopsScale = n > 0 ? gflop / (repeatFlops({ ...w, repeats: w.repeats.slice(0, n) }, STUDY_EPOCHS) / 1e9) : 1;
      const pyPerRepeat = py ? (py.seconds / n) * pyFlopsScale : undefined;
      if (py) process.stderr.write(`bench: PyTorch study ${dtype}: ${n} repeats in ${py.seconds.toFixed(1)} s (${(py.seconds / n).toFixed(2)} s per repeat; ${pyPerRepeat!.toFixed(2)} s scaled to the whole workload's mean FLOPs, ×${pyFlopsScale.toFixed(3)}), peak RSS ${(py.maxRssKb / 1024).toFixed(0)} MB\n`);
      const peak = dtype === 'float32' ? peaks?.float32 : peaks?.bfloat16;
      const note = `${REPEATS} repeats, batch ${BATCH}${n < REPEATS ? `; PyTorch ${n} repeat${n > 1 ? 's' : ''} measured, scaled by FLOPs` : ''}`;
      rows.push({ name: `convergence study ${dtype} (1 demo, 10 epochs, 135M; ${note}), time per repeat`, unit: 'repeats/s', iclit: 1 / perRepeat, pytorch: pyPerRepeat ? 1 / pyPerRepeat : undefined });
      rows.push({ name: `convergence study ${dtype}, peak RSS (lower is better)`, unit: 'MB', iclit: ours.maxRssKb / 1024, pytorch: py ? py.maxRssKb / 1024 : undefined });
      rows.push({ name: `convergence study ${dtype}, FLOP rate (${gflop.toFixed(0)} GFLOP per repeat; PyTorch's 1024³ GEMM ${peak?.toFixed(0) ?? '?'} GFLOP/s)`, unit: 'GFLOP/s', iclit: gflop / perRepeat, pytorch: pyPerRepeat ? gflop / pyPerRepeat : undefined });
      const ourPeak = iclitMatmul(dtype as DType);
      rows.push({ name: `GEMM 1024³ ${dtype}${dtype === 'bfloat16' ? ' (iclit: widened to float32 on this CPU)' : ''}, median of ${dtype === 'float32' ? GEMM_ROUNDS : `${GEMM_ROUNDS} (PyTorch: 1)`} rounds`, unit: 'GFLOP/s', iclit: ourPeak, pytorch: peak });
      // The share of the run's GEMM rate: the highest 1024³ median measured so far in the run. In bfloat16 that includes
      // the float32 ones: a widened bfloat16 GEMM is a float32 GEMM plus conversions, and one noisy bfloat16 median
      // (127 against 167 GFLOP/s in one run) must not flatter the share.
      gemmRates.push(ourPeak, peak ?? 0);
      const gemmRate = Math.max(...gemmRates);
      rows.push({ name: `convergence study ${dtype}, FLOP rate / the run's 1024³ GEMM rate (${gemmRate.toFixed(0)} GFLOP/s, the highest median${dtype === 'float32' ? '' : ', float32 included'}; bar ≥ 0.60)`, unit: 'ratio', iclit: gflop / perRepeat / gemmRate });
    }
    rows.push(...(await studyMemoryRows(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    file.dispose();
  }
  return rows;
}
