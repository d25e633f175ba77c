// Writes cross-check cases for scripts/hf_crosscheck.py: random checkpoints, iclit's hidden states, LoRA adapters.
// Run `node dist/scripts/hf-crosscheck.js OUT_DIR`, then, where transformers + peft are installed,
// `python3 scripts/hf_crosscheck.py OUT_DIR` compares iclit against Hugging Face transformers and PEFT.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyConfig, writeRandomCheckpoint, writeSafetensors, tensorBytes, type DecoderConfig, type TensorBytes } from '../src/io/index.js';
import { LlamaModel } from '../src/models/index.js';
import { tidyNoGrad } from '../src/torch/index.js';
import { repoRoot } from '../src/util/paths.js';

const CASES: [string, Partial<DecoderConfig>, string][] = [
  ['llama-gqa', { numKvHeads: 2 }, 'float32'],
  ['llama-tied-mha', { numKvHeads: 4, tieWordEmbeddings: true }, 'float32'],
  ['llama-biases-headdim', { qkvBias: true, oBias: true, mlpBias: true, headDim: 16 }, 'float32'],
  ['qwen2', { modelType: 'qwen2', qkvBias: true }, 'float32'],
  ['mistral', { modelType: 'mistral' }, 'float32'],
  ['llama-bf16', { numKvHeads: 2 }, 'bfloat16'],
];
const IDS = [1, 5, 9, 40, 3, 77, 12, 8, 95, 0, 33, 21];

function hiddenFile(model: LlamaModel, path: string): void {
  const n = model.config.numLayers;
  const tensors = new Map<string, TensorBytes>();
  tidyNoGrad(() => {
      const out = model.forward([IDS], { hiddenStates: [...Array(n + 1).keys()], positions: 'all', logits: true });
      for (const [i, h] of out.hidden) tensors.set(`hidden.${i}`, tensorBytes(h.select(0, 0)));
      tensors.set('logits', tensorBytes(out.logits!.select(0, 0)));
    });
  writeSafetensors(path, tensors);
}

const out = process.argv[2];
if (!out) {
  console.error('usage: node dist/scripts/hf-crosscheck.js OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const bin = join(repoRoot(), 'bin', 'iclit.js');
for (const [name, over, dtype] of CASES) {
  const dir = join(out, name);
  const modelDir = writeRandomCheckpoint(join(dir, 'model'), tinyConfig(over), { seed: 21, dtype: dtype as 'float32' | 'bfloat16' });
  const model = LlamaModel.load(modelDir, { dtype: dtype as 'float32' | 'bfloat16' });
  hiddenFile(model, join(dir, 'iclit.safetensors'));
  model.dispose();
  // A LoRA adapter trained by iclit (high lr so lora_B moves away from zero), then hidden states under it.
  writeFileSync(join(dir, 'train.jsonl'), JSON.stringify({ input_ids: IDS }) + '\n');
  const targets = name === 'qwen2' ? 'q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj' : 'q_proj,v_proj';
  const tune = spawnSync(process.execPath, [bin, 'tune', '--model', modelDir, '--data', join(dir, 'train.jsonl'), '--out', join(dir, 'adapter'), '--epochs', '3', '--lr', '0.05', '--r', '4', '--alpha', '8', '--dropout', '0', '--targets', targets, '--dtype', dtype], { encoding: 'utf8' });
  if (tune.status !== 0) throw new Error(`iclit tune failed for ${name}: ${tune.stderr}`);
  const act = spawnSync(process.execPath, [bin, 'activations', '--model', modelDir, '--adapter', join(dir, 'adapter'), '--ids', IDS.join(','), '--positions', 'all', '--dtype', dtype, '--out', join(dir, 'iclit-adapter.safetensors')], { encoding: 'utf8' });
  if (act.status !== 0) throw new Error(`iclit activations failed for ${name}: ${act.stderr}`);
  writeFileSync(join(dir, 'case.json'), JSON.stringify({ ids: IDS, dtype, config: over }));
  console.error(`wrote case ${name}`);
}
