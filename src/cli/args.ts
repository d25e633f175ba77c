// Command-line parsing shared by every command: typed flags, --help text, clear usage errors.
import { parseArgs } from 'node:util';
import { UsageError } from '../util/errors.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Shown in --help, e.g. 'DIR' */
  value?: string;
  description: string;
  default?: string | boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Receives the parsed flags and positionals; returns the process exit code. */
  run(flags: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>;
}

export function helpText(cmd: Command): string {
  const lines = [`Usage: iclit ${cmd.usage}`, '', cmd.summary, '', 'Options:'];
  const entries = Object.entries(cmd.flags);
  entries.push(['help', { type: 'boolean', short: 'h', description: 'show this help' }]);
  for (const [name, f] of entries) {
    const left = `  ${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${String(f.default)})` : '';
    lines.push(`${left.padEnd(34)} ${f.description}${def}`);
  }
  return lines.join('\n');
}

export function parseCommand(cmd: Command, argv: string[]): { flags: Record<string, string | boolean | string[] | undefined>; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(cmd.flags)) {
    options[name] = { type: f.type };
    if (f.multiple) options[name].multiple = true;
    if (f.short) options[name].short = f.short;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, '')} (see iclit ${cmd.name} --help)`);
  }
  const flags = { ...parsed.values } as Record<string, string | boolean | string[] | undefined>;
  for (const [name, f] of Object.entries(cmd.flags)) if (flags[name] === undefined && f.default !== undefined) flags[name] = f.default;
  return { flags, positionals: parsed.positionals, help: Boolean(flags.help) };
}

// ---------- typed flag readers (validation with messages naming the flag) ----------

export function str(flags: Record<string, unknown>, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(flags: Record<string, unknown>, name: string): string {
  const v = str(flags, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function num(flags: Record<string, unknown>, name: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  if (opts.integer && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${name} must be at least ${opts.min}, got ${v}`);
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`--${name} must be at most ${opts.max}, got ${v}`);
  return n;
}

export function oneOf<T extends string>(flags: Record<string, unknown>, name: string, allowed: readonly T[]): T | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export function list(flags: Record<string, unknown>, name: string): string[] | undefined {
  const v = str(flags, name);
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
}
