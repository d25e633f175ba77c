// Flags and steps several commands share: model loading options, threads, token input, progress on stderr.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { resolveDevice, setNumThreads } from '../torch/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { UsageError, IclitError } from '../util/errors.js';
import { resolveModelFolder } from '../io/index.js';
import { num, oneOf, required, str, type FlagSpec } from './args.js';

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

/**
 * A folder named by flag `name` (required unless `optional`), checked to exist and be a folder: every command
 * says "<what> PATH does not exist" and "PATH is a file, not a <what>" alike (what: 'model folder', …). A hub id
 * that is no local path resolves to its snapshot folder in the local Hugging Face cache (never a download).
 */
export function folderFlag(flags: Record<string, unknown>, name: string, what: string): string;
export function folderFlag(flags: Record<string, unknown>, name: string, what: string, optional: true): string | undefined;
export function folderFlag(flags: Record<string, unknown>, name: string, what: string, optional = false): string | undefined {
  const dir = optional ? str(flags, name) : required(flags, name);
  // a folder that exists wins; else `org/name[@revision]` resolves from the local Hugging Face cache
  return dir === undefined ? undefined : resolveModelFolder(dir, what).dir;
}

export function computeDtype(flags: Record<string, unknown>): 'float32' | 'bfloat16' {
  return oneOf(flags, 'dtype', ['float32', 'bfloat16'] as const) ?? 'float32';
}

/**
 * --threads N sets libtorch's intra-op threads; without it the binding's policy stands (all cores, or OMP_NUM_THREADS).
 * More threads than cores only slow libtorch down (30× at 1000 on 2 cores), so N is capped at the core count with a note.
 */
export function applyThreads(flags: Record<string, unknown>): void {
  const n = num(flags, 'threads', { integer: true, min: 1 });
  if (n === undefined) return;
  const cores = availableParallelism();
  if (n > cores) process.stderr.write(`iclit: --threads ${n} is more than this machine's ${cores} cores; using ${cores}\n`);
  setNumThreads(Math.min(n, cores), '--threads');
}

export const deviceFlags: Record<string, FlagSpec> = {
  device: { type: 'string', value: 'auto|cpu|cuda|cuda:N', description: 'where to compute (default auto: CUDA when this libtorch has it, else the CPU)' },
};

/** The device --device names ('cpu' or 'cuda:N'); default auto. Says on stderr what 'auto' chose when it was asked for. */
export function deviceOf(flags: Record<string, unknown>): string {
  const asked = str(flags, 'device');
  const { device, note } = resolveDevice(asked ?? 'auto');
  if (note && asked !== undefined) process.stderr.write(`iclit: ${note}\n`);
  return device;
}

/** The input of --text or --ids (exactly one of them), checked as a usage error before anything is loaded. */
export type TokenInput = { text: string } | { ids: number[] };

export function tokenInput(flags: Record<string, unknown>): TokenInput {
  const text = str(flags, 'text');
  const ids = str(flags, 'ids');
  if ((text === undefined) === (ids === undefined)) throw new UsageError('give exactly one of --text or --ids');
  if (text !== undefined) return { text };
  const parsed = ids!.split(',').map((s) => s.trim());
  if (parsed.some((s) => !/^\d+$/.test(s))) throw new UsageError(`--ids must be comma-separated non-negative integers, got '${ids}'`);
  return { ids: parsed.map(Number) };
}

/** Token ids of a TokenInput (text through the tokenizer in `tokenizerDir`, BOS as its config says). */
export async function readTokens(input: TokenInput, tokenizerDir: string): Promise<{ ids: number[]; tokenizer?: Tokenizer }> {
  if ('ids' in input) return { ids: input.ids };
  if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) throw new IclitError(`${tokenizerDir} has no tokenizer.json (use --ids to pass token ids directly)`);
  const tokenizer = await Tokenizer.load(tokenizerDir);
  return { ids: tokenizer.encode(input.text), tokenizer };
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
