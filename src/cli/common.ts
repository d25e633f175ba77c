// Flags and steps several commands share: model loading options, threads, token input, progress on stderr.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setNumThreads } from '../torch/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { UsageError, IclitError } from '../util/errors.js';
import { num, oneOf, str, type FlagSpec } from './args.js';

export const threadFlags: Record<string, FlagSpec> = {
  threads: { type: 'string', value: 'N', description: 'CPU threads for libtorch (default: all cores)' },
};

export const modelFlags: Record<string, FlagSpec> = {
  model: { type: 'string', value: 'DIR', description: 'Hugging Face model folder (config.json + *.safetensors)' },
  dtype: { type: 'string', value: 'float32|bfloat16', description: 'compute dtype', default: 'float32' },
  ...threadFlags,
};

export const tokenFlags: Record<string, FlagSpec> = {
  text: { type: 'string', value: 'STR', description: 'input text (tokenised with the model folder\'s tokenizer, BOS as its config says)' },
  ids: { type: 'string', value: '1,2,3', description: 'input token ids (no tokenizer needed)' },
};

export function computeDtype(flags: Record<string, unknown>): 'float32' | 'bfloat16' {
  return oneOf(flags, 'dtype', ['float32', 'bfloat16'] as const) ?? 'float32';
}

export function applyThreads(flags: Record<string, unknown>): void {
  const n = num(flags, 'threads', { integer: true, min: 1 });
  setNumThreads(n ?? availableParallelism());
}

/** Token ids from --ids or --text (exactly one of them). */
export async function readTokens(flags: Record<string, unknown>, tokenizerDir: string): Promise<{ ids: number[]; tokenizer?: Tokenizer }> {
  const text = str(flags, 'text');
  const ids = str(flags, 'ids');
  if ((text === undefined) === (ids === undefined)) throw new UsageError('give exactly one of --text or --ids');
  if (ids !== undefined) {
    const parsed = ids.split(',').map((s) => s.trim());
    if (parsed.some((s) => !/^\d+$/.test(s))) throw new UsageError(`--ids must be comma-separated non-negative integers, got '${ids}'`);
    return { ids: parsed.map(Number) };
  }
  if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) throw new IclitError(`${tokenizerDir} has no tokenizer.json (use --ids to pass token ids directly)`);
  const tokenizer = await Tokenizer.load(tokenizerDir);
  return { ids: tokenizer.encode(text!), tokenizer };
}

/** Runs a parse of a flag's value; an input error there is the user's usage error (exit 2). */
export function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw e instanceof IclitError && !(e instanceof UsageError) ? new UsageError(e.message) : e;
  }
}

/** A progress line on stderr (rewritten in place on a terminal, one line per update otherwise). */
export function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${message}`);
  else process.stderr.write(`${message}\n`);
}
