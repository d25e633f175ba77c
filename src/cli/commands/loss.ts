// `iclit loss`: per-token next-token cross-entropy of one input under a model and, with --adapter, under the tuned model.
import { LlamaModel } from '../../models/index.js';
import { loadAdapter } from '../../lora/index.js';
import { lossDecrease, meanLoss, perTokenLoss } from '../../train/index.js';
import { UsageError } from '../../util/errors.js';
import type { Command } from '../args.js';
import { applyThreads, deviceFlags, deviceOf, computeDtype, folderFlag, modelFlags, readTokens, tokenFlags, tokenInput } from '../common.js';

export const loss: Command = {
  name: 'loss',
  summary: 'per-token cross-entropy of an input under the base model and (with --adapter) a LoRA-tuned one',
  usage: 'loss --model DIR [--adapter DIR] (--text STR | --ids 1,2,3) [--dtype float32|bfloat16] [--device cpu|cuda|cuda:N|auto] [--json]',
  maxPositionals: 0,
  flags: {
    ...modelFlags,
    ...deviceFlags,
    ...tokenFlags,
    adapter: { type: 'string', value: 'DIR', description: 'PEFT LoRA folder: also report the tuned loss and tuned − base' },
    json: { type: 'boolean', description: 'print JSON instead of a table' },
  },
  async run(flags) {
    const dtype = computeDtype(flags);
    const input = tokenInput(flags);
    applyThreads(flags);
    const device = deviceOf(flags);
    const modelDir = folderFlag(flags, 'model', 'model folder');
    const adapter = folderFlag(flags, 'adapter', 'adapter folder', true);
    const { ids, tokenizer } = await readTokens(input, modelDir);
    if (ids.length < 2) throw new UsageError(`the input has ${ids.length} token; the loss needs at least 2`);
    const model = LlamaModel.load(modelDir, { dtype, device });
    const base = perTokenLoss(model, ids);
    let tuned: number[] | undefined;
    if (adapter) {
      const lora = loadAdapter(adapter, model);
      tuned = lora.apply(() => perTokenLoss(model, ids));
      lora.dispose();
    }
    model.dispose();
    const decrease = tuned ? lossDecrease(base, tuned) : undefined;
    const targets = ids.slice(1);
    if (flags.json) {
      const mean = { base: meanLoss(base), ...(tuned ? { tuned: meanLoss(tuned) } : {}) };
      process.stdout.write(JSON.stringify({ ids, targets, base, ...(tuned ? { tuned, decrease } : {}), mean }) + '\n');
      return 0;
    }
    const head = ['pos', 'target', ...(tokenizer ? ['token'] : []), 'base', ...(tuned ? ['tuned', 'decrease'] : [])];
    const rows = targets.map((id, t) => [
      String(t + 1),
      String(id),
      ...(tokenizer ? [JSON.stringify(tokenizer.idToToken(id) ?? '')] : []),
      base[t].toFixed(4),
      ...(tuned ? [tuned[t].toFixed(4), decrease![t].toFixed(4)] : []),
    ]);
    const mean = ['mean', '', ...(tokenizer ? [''] : []), meanLoss(base).toFixed(4), ...(tuned ? [meanLoss(tuned).toFixed(4), (meanLoss(base) - meanLoss(tuned)).toFixed(4)] : [])];
    const all = [head, ...rows, mean];
    const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
    for (const r of all) process.stdout.write(r.map((v, c) => v.padStart(widths[c])).join('  ') + '\n');
    return 0;
  },
};
