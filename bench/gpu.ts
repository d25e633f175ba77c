// The study on a GPU: a 7B-shaped random bf16 checkpoint (streaming writer) loaded straight to the device; forward and LoRA-step rates, the 30-repeat convergence study, peak device memory.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decoderWeightShapes, tinyConfig, toHfConfig, writeSafetensorsStreaming, type DecoderConfig } from '../src/io/index.js';
import { LlamaModel, defaultStudyBatch, studyMemory } from '../src/models/index.js';
import { applyLora } from '../src/lora/index.js';
import { trainLora } from '../src/train/index.js';
import { binding } from '../src/torch/native.js';
import { deviceInfo, manualSeed, randn, resolveDevice, synchronize, threadSetup, tidy, tidyNoGrad } from '../src/torch/index.js';
import { STUDY_LORA, runStudyLoop } from './study-loop.js';
import { convergenceWorkload, meanLengths } from './workload.js';

export const LLAMA2_7B: DecoderConfig = tinyConfig({
  vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, maxPositionEmbeddings: 4096,
});

/** Writes config.json and random bf16 weights (std 0.02, norms near 1) drawn on `device` through the streaming writer. */
export function writeDeviceRandomCheckpoint(dir: string, config: DecoderConfig, device: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(config, { torch_dtype: 'bfloat16' }), null, 2));
  const shapes = decoderWeightShapes(config);
  manualSeed(1);
  const draw = (name: string): ArrayBufferView =>
    tidy(() => {
      const x = randn(shapes.get(name)!, 'float32', device);
      return (name.endsWith('norm.weight') ? x.mul(0.1).add(1) : x.mul(0.02)).to('bfloat16').toBuffer();
    });
  writeSafetensorsStreaming(join(dir, 'model.safetensors'), [...shapes].map(([name, shape]) => ({ name, dtype: 'bfloat16' as const, shape })), draw, { format: 'pt' }, true);
}

/** Bytes in use on CUDA device `index` as the driver sees it (libtorch's cache included), or NaN. */
function deviceUsed(index: number): number {
  if (index < 0) return NaN;
  const info = binding().cudaDeviceInfo(index);
  return info?.free !== undefined ? info.totalMemory - info.free : NaN;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timed(fn: () => void, runs = 3): number {
  fn();
  synchronize();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    synchronize();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/**
 * Runs the GPU benchmark and writes gpu-bench.json into `outDir` after every stage. `spec` and `config` default to
 * CUDA and the 7B shape; ICLIT_BENCH_GPU_DEVICE=cpu with a small config rehearses the script on a CPU host.
 */
export async function benchGpu(outDir: string, checkpointDir: string, repeats = 30, spec = 'cuda', config: DecoderConfig = LLAMA2_7B): Promise<Record<string, unknown>> {
  const { device } = resolveDevice(spec);
  const index = device === 'cpu' ? -1 : Number(device.split(':')[1]);
  const info = deviceInfo(device);
  const report: Record<string, unknown> = { date: new Date().toISOString(), device: info, threads: threadSetup(), model: '7B-shaped LLaMA (LLaMA-2 7B config), random bf16' };
  const log = (k: string, v: unknown) => {
    report[k] = v;
    process.stderr.write(`gpu bench: ${k} = ${JSON.stringify(v)}\n`);
    writeFileSync(join(outDir, 'gpu-bench.json'), JSON.stringify(report, null, 2));
  };
  let t0 = performance.now();
  writeDeviceRandomCheckpoint(checkpointDir, config, device);
  log('writeSeconds', (performance.now() - t0) / 1000);
  const baseline = deviceUsed(index);
  t0 = performance.now();
  const model = LlamaModel.load(checkpointDir, { dtype: 'bfloat16', device });
  synchronize();
  log('loadSeconds', (performance.now() - t0) / 1000);
  log('hostPeakRssGbAfterLoad', process.resourceUsage().maxRSS / 2 ** 20);
  log('deviceGbAfterLoad', (deviceUsed(index) - baseline) / 2 ** 30);

  const w = await convergenceWorkload(repeats, config.vocabSize, 0, config.vocabSize === 32000 ? 'llama2' : 'smollm2-135m-instruct');
  const lens = meanLengths(w);
  log('workload', { source: w.source, meanTokens: lens });
  const layers = [...Array(model.numHiddenStates).keys()];
  const icl = w.repeats.map((r) => r.icl);
  const iclTokens = icl.reduce((s, p) => s + p.length, 0);
  const fwd = timed(() => tidyNoGrad(() => void model.forward(icl, { hiddenStates: layers })));
  log('forward', { sequences: icl.length, tokens: iclTokens, seconds: fwd, tokensPerSecond: iclTokens / fwd });

  const data = w.repeats.map((r) => [{ ids: r.tuning }]);
  const tuneTokens = data.reduce((s, d) => s + d[0].ids.length, 0);
  const lora = applyLora(model, STUDY_LORA, { adapters: data.length });
  const step = timed(() => void trainLora(model, lora, data, { epochs: 1, lr: 1e-4 }));
  lora.dispose();
  log('loraStep', { adapters: data.length, tokens: tuneTokens, seconds: step, tokensPerSecond: tuneTokens / step });

  const maxTokens = Math.max(...w.repeats.flatMap((r) => [r.icl.length, r.tuning.length]));
  // What the study may use: free memory now plus what the loaded weights already take (the estimate counts them).
  const free = index < 0 ? (info.totalMemory ?? 0) : (binding().cudaDeviceInfo(index)?.free ?? 0) + deviceUsed(index) - baseline;
  const batch = defaultStudyBatch(config, 'bfloat16', STUDY_LORA, maxTokens, free, repeats, device);
  log('studyBatch', { batch, estimateGb: studyMemory(config, 'bfloat16', STUDY_LORA, batch, maxTokens).total / 2 ** 30, maxTokens });
  const study = runStudyLoop(model, w.repeats, batch);
  synchronize();
  log('study', { repeats, batch, epochs: 10, seconds: study.seconds, secondsPerRepeat: study.seconds / repeats, meanSimIclIt: study.simIclIt.reduce((a, b) => a + b, 0) / repeats });
  log('devicePeakGb', (deviceUsed(index) - baseline) / 2 ** 30);
  log('hostPeakRssGb', process.resourceUsage().maxRSS / 2 ** 20);
  model.dispose();
  rmSync(checkpointDir, { recursive: true, force: true });
  return report;
}

if (process.argv[1]?.endsWith('gpu.js')) {
  const out = process.argv[2] ?? '.';
  const ckpt = process.argv[3] ?? '/tmp/iclit-7b';
  const small = process.env.ICLIT_BENCH_GPU_CONFIG === 'small';
  const config = small ? tinyConfig({ vocabSize: 32000, hiddenSize: 256, intermediateSize: 512, numLayers: 4, numHeads: 8, numKvHeads: 8, headDim: 32, maxPositionEmbeddings: 4096 }) : LLAMA2_7B;
  await benchGpu(out, ckpt, Number(process.env.ICLIT_BENCH_STUDY_REPEATS ?? 30), process.env.ICLIT_BENCH_GPU_DEVICE ?? 'cuda', config);
}
