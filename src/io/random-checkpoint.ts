// Writes seeded random LLaMA-family checkpoints in Hugging Face layout (tests, benchmarks, pretraining starts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tensor, tidy, type DType } from '../torch/index.js';
import { parseDecoderConfig, toHfConfig, type DecoderConfig } from './hf-config.js';
import { writeSafetensorsStreaming } from './safetensors.js';
import { decoderWeightShapes } from './weight-names.js';

// splitmix32: a tiny seeded generator so checkpoints are identical on every machine.
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

function normals(n: number, std: number, mean: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = mean + r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export interface RandomCheckpointOptions {
  seed?: number;
  dtype?: Extract<DType, 'float32' | 'float16' | 'bfloat16'>;
  /** Split the weights over this many shard files with a model.safetensors.index.json. */
  shards?: number;
  /** Standard deviation of matrix entries (HF initializer_range). */
  std?: number;
}

/** A small config with overrides, for tests. */
export function tinyConfig(over: Partial<DecoderConfig> = {}): DecoderConfig {
  return parseDecoderConfig(toHfConfig({
    modelType: 'llama', vocabSize: 96, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8,
    ropeTheta: 10000, ropeScaling: null, rmsNormEps: 1e-5, maxPositionEmbeddings: 256, tieWordEmbeddings: false, qkvBias: false,
    oBias: false, mlpBias: false, slidingWindow: null, bosTokenId: 1, eosTokenId: 2, initializerRange: 0.02, ...over,
  }));
}

/** Writes config.json and random weights for `config` into `dir`; returns `dir`. */
export function writeRandomCheckpoint(dir: string, config: DecoderConfig, opts: RandomCheckpointOptions = {}): string {
  const { seed = 0, dtype = 'float32', shards = 1, std = 0.02 } = opts;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(config, { torch_dtype: dtype }), null, 2));
  const next = generator(seed);
  const shapes = decoderWeightShapes(config);
  const draw = (name: string): ArrayBufferView => {
    const shape = shapes.get(name)!;
    const n = shape.reduce((a, b) => a * b, 1);
    // Norm weights near 1 (not exactly 1) so that tests notice a missing or misplaced norm.
    const values = name.endsWith('norm.weight') ? normals(n, 0.1, 1, next) : normals(n, name.endsWith('.bias') ? 0.1 : std, 0, next);
    return dtype === 'float32' ? values : tidy(() => tensor(values, shape).to(dtype).toBuffer());
  };
  const names = [...shapes.keys()];
  const per = Math.ceil(names.length / Math.max(1, shards));
  const files = shards <= 1 ? [names] : Array.from({ length: shards }, (_, s) => names.slice(s * per, (s + 1) * per));
  const weightMap: Record<string, string> = {};
  files.forEach((part, s) => {
    const file = shards <= 1 ? 'model.safetensors' : `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    // Written in HF order, each tensor drawn just before it is written: the values never depend on the sharding.
    writeSafetensorsStreaming(join(dir, file), part.map((name) => ({ name, dtype, shape: shapes.get(name)! })), draw, { format: 'pt' }, true);
    for (const n of part) weightMap[n] = file;
  });
  if (shards > 1) writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  return dir;
}
