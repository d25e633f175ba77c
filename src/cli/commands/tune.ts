// `iclit tune`: LoRA fine-tuning of a model on a JSONL file (PEFT + torch.optim.AdamW conventions), saved as a PEFT folder.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readTextFile } from '../../data/index.js';
import { readDecoderConfig } from '../../io/index.js';
import { LlamaModel } from '../../models/index.js';
import { applyLora, checkLoraRank, KNOWN_TARGETS, LORA_DEFAULTS, loadAdapter, saveAdapter } from '../../lora/index.js';
import { trainLora, type TrainExample } from '../../train/index.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { IclitError, UsageError } from '../../util/errors.js';
import { checkOutputApart, checkOutputDir } from '../../util/fs.js';
import { list, num, oneOf, required, type Command } from '../args.js';
import { applyThreads, deviceFlags, deviceOf, computeDtype, folderFlag, modelFlags, progress } from '../common.js';

/** What a training line must fit: ids below `vocabSize`, at most `maxPositions` tokens (the model's config). */
export interface TrainingLimits {
  vocabSize: number;
  maxPositions: number;
}

/**
 * Reads JSONL training lines: `text` or `input_ids`, optional `loss_mask` (0/1 per token, same length). With
 * `limits`, a token id outside the vocabulary or a line longer than the model's positions is refused naming
 * the line, before any training starts.
 */
export async function readTrainingJsonl(path: string, tokenizerDir: string, limits?: TrainingLimits): Promise<TrainExample[]> {
  const lines = readTextFile(path, 'data file').replace(/^\uFEFF/, '').split(/\r?\n/);
  let tokenizer: Tokenizer | undefined;
  const out: TrainExample[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${path}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new IclitError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new IclitError(`${where}: each line must be a JSON object with "text" or "input_ids"`);
    const r = row as { text?: unknown; input_ids?: unknown; loss_mask?: unknown };
    let ids: number[];
    if (r.input_ids !== undefined) {
      if (!Array.isArray(r.input_ids) || !r.input_ids.every((x) => Number.isInteger(x) && x >= 0)) throw new IclitError(`${where}: "input_ids" must be a list of non-negative integers`);
      ids = r.input_ids as number[];
    } else if (typeof r.text === 'string') {
      if (!tokenizer) {
        if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) throw new IclitError(`${where}: "text" needs a tokenizer, but ${tokenizerDir} has no tokenizer.json (give "input_ids" instead)`);
        tokenizer = await Tokenizer.load(tokenizerDir);
      }
      ids = tokenizer.encode(r.text);
    } else {
      throw new IclitError(`${where}: needs "text" (a string) or "input_ids" (a list of token ids)`);
    }
    if (ids.length < 2) throw new IclitError(`${where}: needs at least 2 tokens to have a next-token target (got ${ids.length})`);
    if (limits) {
      const t = ids.findIndex((id) => id >= limits.vocabSize);
      if (t >= 0) throw new IclitError(`${where}: token id ${ids[t]} (token ${t + 1}) is outside the model's vocabulary (0..${limits.vocabSize - 1})`);
      if (ids.length > limits.maxPositions) throw new IclitError(`${where}: ${ids.length} tokens, longer than the model's max_position_embeddings ${limits.maxPositions}`);
    }
    const ex: TrainExample = { ids };
    if (r.loss_mask !== undefined) {
      const m = r.loss_mask;
      if (!Array.isArray(m) || !m.every((x) => x === 0 || x === 1 || x === true || x === false)) throw new IclitError(`${where}: "loss_mask" must be a list of 0/1`);
      if (m.length !== ids.length) throw new IclitError(`${where}: "loss_mask" has ${m.length} entries but the line has ${ids.length} tokens`);
      if (!m.slice(1).some(Boolean)) throw new IclitError(`${where}: "loss_mask" selects no target token (entries after the first must include a 1)`);
      ex.lossMask = m.map((x) => (x ? 1 : 0));
    }
    out.push(ex);
  }
  if (out.length === 0) throw new IclitError(`${path} has no training lines`);
  return out;
}

export const tune: Command = {
  name: 'tune',
  summary: 'LoRA-tune a model (PEFT conventions, AdamW) on a JSONL file; writes a PEFT adapter folder',
  usage:
    'tune --model DIR --data FILE.jsonl --out ADAPTER_DIR [--init-adapter DIR] [--targets q_proj,v_proj] [--r 8] [--alpha 32] [--dropout 0.05] [--lr 1e-4] [--lr-schedule constant|linear] [--warmup-steps 0] [--epochs 10] [--batch-size 1] [--weight-decay 0] [--dtype float32|bfloat16] [--device cpu|cuda|cuda:N|auto] [--seed N]',
  maxPositionals: 0,
  flags: {
    ...modelFlags,
    ...deviceFlags,
    data: { type: 'string', value: 'FILE', description: 'JSONL: one object per line with "text" or "input_ids", optional "loss_mask" (0/1 per token)' },
    out: { type: 'string', value: 'DIR', description: 'output PEFT adapter folder (adapter_config.json + adapter_model.safetensors)' },
    'init-adapter': { type: 'string', value: 'DIR', description: 'start from this PEFT LoRA folder (its r, alpha, dropout and targets are used)' },
    targets: { type: 'string', value: 'LIST', description: `modules to adapt, of ${KNOWN_TARGETS.join(',')} (default: ${LORA_DEFAULTS.targets.join(',')})` },
    r: { type: 'string', value: 'N', description: `LoRA rank (default: ${LORA_DEFAULTS.r})` },
    alpha: { type: 'string', value: 'X', description: `LoRA alpha; scaling = alpha / r (default: ${LORA_DEFAULTS.alpha})` },
    dropout: { type: 'string', value: 'P', description: `LoRA dropout on the adapter input while training (default: ${LORA_DEFAULTS.dropout})` },
    lr: { type: 'string', value: 'X', description: 'learning rate', default: '1e-4' },
    'lr-schedule': { type: 'string', value: 'constant|linear', description: 'learning-rate schedule (linear decays to 0, HF style)', default: 'constant' },
    'warmup-steps': { type: 'string', value: 'N', description: 'linear warm-up steps', default: '0' },
    epochs: { type: 'string', value: 'N', description: 'passes over the data', default: '10' },
    'batch-size': { type: 'string', value: 'N', description: 'sequences per optimiser step', default: '1' },
    'weight-decay': { type: 'string', value: 'X', description: 'AdamW decoupled weight decay', default: '0' },
    seed: { type: 'string', value: 'N', description: 'seed for the adapter initialisation, shuffling and dropout', default: '0' },
  },
  async run(flags) {
    const dataPath = required(flags, 'data');
    const out = required(flags, 'out');
    const lr = num(flags, 'lr', { positive: true })!;
    const schedule = oneOf(flags, 'lr-schedule', ['constant', 'linear'] as const) ?? 'constant';
    const warmupSteps = num(flags, 'warmup-steps', { integer: true, min: 0 })!;
    const epochs = num(flags, 'epochs', { integer: true, min: 1 })!;
    const batchSize = num(flags, 'batch-size', { integer: true, min: 1 })!;
    const weightDecay = num(flags, 'weight-decay', { min: 0 })!;
    const seed = num(flags, 'seed', { integer: true, min: 0 })!;
    const explicit = ['targets', 'r', 'alpha', 'dropout'].filter((k) => flags[k] !== undefined);
    if (flags['init-adapter'] !== undefined && explicit.length > 0) throw new UsageError(`--${explicit[0]} cannot be combined with --init-adapter (the adapter's own config is used)`);
    const targets = list(flags, 'targets') ?? [...LORA_DEFAULTS.targets];
    for (const t of targets) if (!KNOWN_TARGETS.includes(t)) throw new UsageError(`--targets: unknown module '${t}' (choose from ${KNOWN_TARGETS.join(', ')})`);
    const r = num(flags, 'r', { integer: true, min: 1 }) ?? LORA_DEFAULTS.r;
    const alpha = num(flags, 'alpha', { positive: true }) ?? LORA_DEFAULTS.alpha;
    const dropout = num(flags, 'dropout', { min: 0, max: 0.99 }) ?? LORA_DEFAULTS.dropout;
    const dtype = computeDtype(flags);
    applyThreads(flags);
    const device = deviceOf(flags);
    // every path and every training line is checked before the model loads and training starts
    const modelDir = folderFlag(flags, 'model', 'model folder');
    const init = folderFlag(flags, 'init-adapter', 'adapter folder', true);
    checkOutputDir(out, 'adapter folder');
    checkOutputApart(out, 'adapter folder', [{ path: modelDir, what: 'model folder' }, { path: dataPath, what: 'data file' }, ...(init ? [{ path: init, what: 'adapter folder' }] : [])]);
    const config = readDecoderConfig(modelDir);
    if (!init) checkLoraRank(config, r, targets, '--r');
    const data = await readTrainingJsonl(dataPath, modelDir, { vocabSize: config.vocabSize, maxPositions: config.maxPositionEmbeddings });
    const model = LlamaModel.load(modelDir, { dtype, device });
    const lora = init ? loadAdapter(init, model) : applyLora(model, { r, alpha, dropout, targets }, { seed });
    const targetTokens = data.reduce((s, e) => s + (e.lossMask ? e.lossMask.slice(1).reduce((a, b) => a + b, 0) : e.ids.length - 1), 0);
    process.stderr.write(`tuning ${lora.modules.length} modules (r ${lora.config.r}, alpha ${lora.config.alpha}) on ${data.length} sequences, ${targetTokens} target tokens, ${epochs} epochs\n`);
    const result = trainLora(model, lora, [data], {
      epochs, batchSize, lr, schedule, warmupSteps, weightDecay, seed,
      onStep: (p) => progress(`step ${p.step}/${p.totalSteps}  epoch ${p.epoch}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${Math.round(p.tokensPerSecond)} tok/s`),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    saveAdapter(out, lora, { baseModel: modelDir });
    model.dispose();
    const last = result.losses[result.losses.length - 1][0];
    process.stderr.write(`wrote ${out} after ${result.steps} steps (last loss ${last.toFixed(4)})\n`);
    return 0;
  },
};
