// Sentence-encoder throughput: SST-2 sentences through an all-MiniLM-L6-v2-shaped random encoder (real tokenizer), against plain PyTorch on the same ids.
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { miniLmConfig, writeRandomEncoderCheckpoint } from '../src/io/bert-config.js';
import { SentenceEncoder, writeSentenceModules } from '../src/models/index.js';
import { setNumThreads } from '../src/torch/index.js';
import { missingShared, sharedPath, makeTempDir, removeTempDir } from '../src/util/testing.js';
import { PY_LOAD_SAFETENSORS, runPython } from './pytorch.js';
import type { BenchResult } from './types.js';

const SST2 = 'data/sst2/train.tsv';
const TOKENIZER = 'data/tokenizers/all-MiniLM-L6-v2';
/** Sentences embedded at most (ICLIT_BENCH_ENCODER_N overrides). */
const COUNT = Number(process.env.ICLIT_BENCH_ENCODER_N ?? 10_000);
/**
 * Seconds iclit may spend on the timed run (ICLIT_BENCH_ENCODER_SECONDS overrides): a pilot run sets how many of
 * the COUNT sentences fit, so that the whole benchmark (PyTorch included) stays near three minutes on slow machines.
 */
const BUDGET_SECONDS = Number(process.env.ICLIT_BENCH_ENCODER_SECONDS ?? 60);
const BATCH = 32;
const PILOT = 320;

// The same encoder in plain PyTorch: length-sorted batches of BATCH, right-padded, HF's additive mask, mean pool, L2 normalise.
const PY_ENCODER = `
import json, math, time, torch
import torch.nn.functional as F
torch.set_num_threads(THREADS)
W = load_safetensors(DIR + '/model.safetensors')
C = json.load(open(DIR + '/config.json'))
H, L, E = C['num_attention_heads'], C['num_hidden_layers'], C['layer_norm_eps']
rows = json.load(open(DIR + '/ids.json'))
def ln(x, p):
    return F.layer_norm(x, (x.shape[-1],), W[p + '.weight'], W[p + '.bias'], E)
def lin(x, p):
    return F.linear(x, W[p + '.weight'], W[p + '.bias'])
def encode(ids, mask):
    B, T = ids.shape
    D = C['hidden_size'] // H
    x = W['embeddings.word_embeddings.weight'][ids] + W['embeddings.position_embeddings.weight'][:T] + W['embeddings.token_type_embeddings.weight'][0]
    x = ln(x, 'embeddings.LayerNorm')
    add = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
    for i in range(L):
        p = 'encoder.layer.%d.' % i
        q = lin(x, p + 'attention.self.query').view(B, T, H, D).transpose(1, 2)
        k = lin(x, p + 'attention.self.key').view(B, T, H, D).transpose(1, 2)
        v = lin(x, p + 'attention.self.value').view(B, T, H, D).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(D) + add, -1)
        o = (a @ v).transpose(1, 2).reshape(B, T, H * D)
        x = ln(lin(o, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
        h = F.gelu(lin(x, p + 'intermediate.dense'))
        x = ln(lin(h, p + 'output.dense') + x, p + 'output.LayerNorm')
    m = mask.unsqueeze(-1)
    pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return F.normalize(pooled, p=2, dim=1)
order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
out = torch.zeros(len(rows), C['hidden_size'])
def run_all():
    for s in range(0, len(order), BATCH):
        idx = order[s:s + BATCH]
        T = len(rows[idx[0]])
        ids = torch.zeros(len(idx), T, dtype=torch.long)
        mask = torch.zeros(len(idx), T)
        for b, i in enumerate(idx):
            ids[b, :len(rows[i])] = torch.tensor(rows[i])
            mask[b, :len(rows[i])] = 1
        out[idx] = encode(ids, mask)
with torch.inference_mode():
    encode(torch.tensor([rows[0]]), torch.ones(1, len(rows[0])))
    t0, c0 = time.perf_counter(), time.process_time()
    run_all()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
out.numpy().astype('float32').tofile(DIR + '/pytorch.f32')
print(json.dumps({'seconds': elapsed, 'cpu_seconds': cpu}))
`;

export async function benchEncoder(): Promise<BenchResult[]> {
  const sst2 = sharedPath(SST2);
  const tok = sharedPath(TOKENIZER);
  if (!sst2 || !tok) {
    process.stderr.write(`bench: encoder skipped: ${missingShared(!sst2 ? SST2 : TOKENIZER)}\n`);
    return [];
  }
  const all = readFileSync(sst2, 'utf8').split('\n').slice(1).map((l) => l.split('\t')[0]).filter((s) => s && s.trim() !== '').slice(0, COUNT);
  const threads = availableParallelism();
  setNumThreads(threads);
  const dir = makeTempDir('iclit-bench-enc-');
  try {
    process.stderr.write('bench: writing a random all-MiniLM-L6-v2-shaped encoder…\n');
    const config = miniLmConfig();
    writeSentenceModules(writeRandomEncoderCheckpoint(dir, config, { seed: 1 }), config.hiddenSize, { maxSeqLength: 256 });
    const encoder = await SentenceEncoder.load(dir, { tokenizerDir: tok, batchSize: BATCH });

    let t0 = performance.now();
    const allIds = encoder.tokenize(all);
    const tokenizeSeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`bench: tokenised ${all.length} SST-2 sentences in ${tokenizeSeconds.toFixed(2)} s\n`);

    encoder.embed({ inputIds: allIds.slice(0, BATCH) }); // warm-up: pages the weights in
    // Pilot: how many sentences fit the time budget.
    t0 = performance.now();
    encoder.embed({ inputIds: allIds.slice(0, PILOT) });
    const pilotRate = Math.min(PILOT, allIds.length) / ((performance.now() - t0) / 1000);
    const n = Math.min(allIds.length, Math.max(PILOT, Math.floor((pilotRate * BUDGET_SECONDS) / BATCH) * BATCH));
    const ids = allIds.slice(0, n);
    const tokens = ids.reduce((a, r) => a + r.length, 0);
    if (n < allIds.length) process.stderr.write(`bench: ${pilotRate.toFixed(0)} sentences/s in the pilot: timing the first ${n} of ${allIds.length} to stay within ${BUDGET_SECONDS} s\n`);
    process.stderr.write(`bench: ${n} sentences, ${tokens} tokens (${(tokens / n).toFixed(1)} per sentence with [CLS]/[SEP])\n`);
    // CPU seconds (all threads) as well as wall seconds: on a shared machine the CPU time is the steadier comparison.
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    const ours = encoder.embed({ inputIds: ids });
    const embedSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const embedCpuSeconds = (cpu.user + cpu.system) / 1e6;
    encoder.dispose();
    process.stderr.write(`bench: iclit embedded ${n} sentences in ${embedSeconds.toFixed(2)} s, ${embedCpuSeconds.toFixed(2)} CPU s (${threads} threads, batch ${BATCH})\n`);

    process.stderr.write('bench: the same encoder in plain PyTorch…\n');
    writeFileSync(join(dir, 'ids.json'), JSON.stringify(ids));
    const code = PY_LOAD_SAFETENSORS + PY_ENCODER.replace('THREADS', String(threads)).replace(/DIR/g, JSON.stringify(dir)).replace(/BATCH/g, String(BATCH));
    const py = runPython<{ seconds: number; cpu_seconds: number }>(code);
    if (py) {
      const theirs = new Float32Array(readFileSync(join(dir, 'pytorch.f32')).buffer.slice(0));
      let worst = 0;
      ours.forEach((v, i) => v.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - theirs[i * v.length + j])))));
      process.stderr.write(`bench: PyTorch embedded them in ${py.seconds.toFixed(2)} s, ${py.cpu_seconds.toFixed(2)} CPU s; largest |iclit − PyTorch| = ${worst.toExponential(2)}\n`);
      if (!(worst < 1e-4)) throw new Error(`bench: iclit and PyTorch embeddings differ by ${worst}`);
    }
    const label = `${n} SST-2 sentences, MiniLM-L6 shape, batch ${BATCH}`;
    return [
      { name: `encoder embed (${label})`, unit: 'sentences/s', iclit: n / embedSeconds, pytorch: py ? n / py.seconds : undefined },
      { name: `encoder embed per CPU-second (${label})`, unit: 'sentences/CPU-s', iclit: n / embedCpuSeconds, pytorch: py ? n / py.cpu_seconds : undefined },
      { name: `encoder tokenize (${all.length} SST-2 sentences, all-MiniLM tokenizer)`, unit: 'sentences/s', iclit: all.length / tokenizeSeconds },
    ];
  } finally {
    removeTempDir(dir);
  }
}
