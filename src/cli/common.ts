// Flags and steps several commands share: model loading options, threads, token input, progress on stderr.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDevice, setNumThreads } from '../torch/index.js';
import { Tokenizer } from '../tokenizers/index.js';
import { UsageError, IclitError } from '../util/errors.js';
import { num, oneOf, str, type FlagSpec } from './args.js';

export const modelFlags: Record<string, FlagSpec> = {
  model: { type: 'string', value: 'DIR', description: 'Hugging Face model folder (config.json + *.safetensors)' },
  dtype: { type: 'string', value: 'float32|bfloat16', description: 'compute dtype', default: 'float32' },
  threads: { type: 'string', value: 'N', description: 'CPU threads for libtorch (default: all cores)' },
};

export const tokenFlags: Record<string, FlagSpec> = {
  text: { type: 'string', value: 'STR', description: 'input text (tokenised with the model folder\'s tokenizer, BOS as its config says)' },
  ids: { type: 'string', value: '1,2,3', description: 'input token ids (no tokenizer needed)' },
};

export function computeDtype(flags: Record<string, unknown>): 'float32' | 'bfloat16' {
  return oneOf(flags, 'dtype', ['float32', 'bfloat16'] as const) ?? 'float32';
}

/** --threads N sets libtorch's intra-op threads; without it the binding's policy stands (all cores, or OMP_NUM_THREADS). */
export function applyThreads(flags: Record<string, unknown>): void {
  const n = num(flags, 'threads', { integer: true, min: 1 });
  if (n !== undefined) setNumThreads(n, '--threads');
}

export const deviceFlags: Record<string, FlagSpec> = {
  device: { type: 'string', value: 'cpu|cuda|cuda:N|auto', description: 'where to compute (auto: CUDA when this libtorch has it)', default: 'cpu' },
};

/** The device --device names ('cpu' or 'cuda:N'); says on stderr when 'auto' chose for the user. */
export function deviceOf(flags: Record<string, unknown>): string {
  const { device, note } = resolveDevice(str(flags, 'device') ?? 'cpu');
  if (note) process.stderr.write(`${note}\n`);
  return device;
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

/** Parses --layers: 'all' or a comma list of indices (negatives count from the end). */
export function parseLayers(spec: string | undefined, numHiddenStates: number): number[] {
  if (spec === undefined || spec === 'all') return [...Array(numHiddenStates).keys()];
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const s = part.trim();
    if (!/^-?\d+$/.test(s)) throw new UsageError(`--layers must be 'all' or comma-separated integers, got '${spec}'`);
    const i = Number(s);
    const r = i < 0 ? numHiddenStates + i : i;
    if (r < 0 || r >= numHiddenStates) throw new UsageError(`--layers: ${i} is out of range for a model with ${numHiddenStates} hidden states (0..${numHiddenStates - 1})`);
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

/** A progress line on stderr (rewritten in place on a terminal, one line per update otherwise). */
export function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${message}`);
  else process.stderr.write(`${message}\n`);
}
