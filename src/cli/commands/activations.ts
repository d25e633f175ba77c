// `iclit activations`: hidden states of every requested layer for one input, written as safetensors.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LlamaModel, parseHiddenStates, resolveHiddenStates } from '../../models/index.js';
import { loadAdapter } from '../../lora/index.js';
import { writeSafetensors, tensorBytes, type TensorBytes } from '../../io/index.js';
import { tidyNoGrad } from '../../torch/index.js';
import { checkOutputApart, checkOutputFile } from '../../util/fs.js';
import { oneOf, required, str, type Command } from '../args.js';
import { applyThreads, deviceFlags, deviceOf, computeDtype, folderFlag, modelFlags, readTokens, tokenFlags, tokenInput, usage } from '../common.js';

export const activations: Command = {
  name: 'activations',
  summary: 'capture hidden states (HF output_hidden_states convention) of a model for one input',
  usage: 'activations --model DIR (--text STR | --ids 1,2,3) [--layers all|0,3,-1] [--positions last|all] [--adapter DIR] [--dtype float32|bfloat16] [--device cpu|cuda|cuda:N|auto] --out FILE.safetensors',
  maxPositionals: 0,
  flags: {
    ...modelFlags,
    ...deviceFlags,
    ...tokenFlags,
    layers: { type: 'string', value: 'all|0,3,-1', description: 'hidden-state indices: 0 = embeddings, -1 = after the final norm', default: 'all' },
    positions: { type: 'string', value: 'last|all', description: 'last input token only, or every position', default: 'last' },
    adapter: { type: 'string', value: 'DIR', description: 'PEFT LoRA adapter folder applied to the model' },
    out: { type: 'string', value: 'FILE', description: 'output .safetensors: hidden.<layer> float32 [positions, hidden_size] and input_ids' },
  },
  async run(flags) {
    const out = required(flags, 'out');
    const positions = oneOf(flags, 'positions', ['last', 'all'] as const) ?? 'last';
    const dtype = computeDtype(flags);
    const layerSpec = usage(() => parseHiddenStates(str(flags, 'layers') ?? 'all', '--layers'));
    const input = tokenInput(flags);
    applyThreads(flags);
    const device = deviceOf(flags);
    const modelDir = folderFlag(flags, 'model', 'model folder');
    const adapter = folderFlag(flags, 'adapter', 'adapter folder', true);
    checkOutputFile(out, 'output file');
    checkOutputApart(out, 'output file', [{ path: modelDir, what: 'model folder' }, ...(adapter ? [{ path: adapter, what: 'adapter folder' }] : [])]);
    const { ids } = await readTokens(input, modelDir);
    const model = LlamaModel.load(modelDir, { dtype, device });
    const lora = adapter ? loadAdapter(adapter, model) : undefined;
    // the spec is checked before the model loads (a usage error); its range against the model is an input error
    const layers = resolveHiddenStates(layerSpec, model.numHiddenStates);
    const tensors = new Map<string, TensorBytes>();
    tidyNoGrad(() => {
        const forward = () => model.forward([ids], { hiddenStates: layers, positions });
        const { hidden } = lora ? lora.apply(forward) : forward();
        for (const i of layers) {
          const h = hidden.get(i)!.select(0, 0); // [T, C] or [C]
          tensors.set(`hidden.${i}`, tensorBytes(positions === 'all' ? h : h.unsqueeze(0))); // [positions, C]
        }
      });
    tensors.set('input_ids', { dtype: 'int64', shape: [ids.length], data: BigInt64Array.from(ids.map(BigInt)) });
    mkdirSync(dirname(out), { recursive: true }); // checked above: no file in the way, a real, writable disk
    writeSafetensors(out, tensors, { model: modelDir, ...(adapter ? { adapter } : {}), dtype, positions, layers: layers.join(',') });
    lora?.dispose();
    model.dispose();
    process.stderr.write(`wrote ${layers.length} hidden states of ${ids.length} tokens to ${out}\n`);
    return 0;
  },
};
