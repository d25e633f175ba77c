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
  /** Most positional arguments the command takes (0: none); unchecked here when absent (the command checks). */
  maxPositionals?: number;
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

/** A negative number (`-1`, `-0.5`, `-1e-3`): node's parseArgs would read it as an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * Joins a string flag and a following negative number into `--flag=-1`, so `--layers -1` and `--repeats -1`
 * reach the flag's own validation instead of parseArgs' "argument is ambiguous". Everything after `--` is kept.
 */
export function joinNegativeValues(cmd: Command, argv: string[]): string[] {
  const longOf = new Map(Object.entries(cmd.flags).filter(([, f]) => f.short).map(([name, f]) => [`-${f.short}`, name]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : longOf.get(a);
    const next = argv[i + 1];
    if (name !== undefined && cmd.flags[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** parseArgs' message as one line naming the flag (its own text spans three lines for a missing value). */
function parseArgsMessage(e: Error): string {
  const m = e.message;
  const flag = /^Option '(?:-\w, )?(-[^' ]+)/.exec(m)?.[1]; // also "Option '-o, --out <value>' argument missing"
  if (flag && /argument is ambiguous|argument missing/.test(m)) return `${flag} needs a value (for a value that starts with '-', write ${flag}=VALUE)`;
  return m.split('\n')[0].replace(/\. To specify a positional.*$/s, '');
}

/** A single-value flag given twice (`--data a --data b`) is a usage error: parseArgs would silently keep the last. */
function checkRepeated(cmd: Command, tokens: readonly { kind: string; name?: string }[]): void {
  const seen = new Map<string, number>();
  for (const t of tokens) if (t.kind === 'option' && t.name !== undefined) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  for (const [name, n] of seen) {
    const f = cmd.flags[name];
    if (n > 1 && f?.type === 'string' && !f.multiple) throw new UsageError(`--${name} is given ${n} times; it takes one value (see iclit ${cmd.name} --help)`);
  }
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
    parsed = parseArgs({ args: joinNegativeValues(cmd, argv), options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError(`${parseArgsMessage(e as Error)} (see iclit ${cmd.name} --help)`);
  }
  checkRepeated(cmd, parsed.tokens);
  const flags = { ...parsed.values } as Record<string, string | boolean | string[] | undefined>;
  for (const [name, f] of Object.entries(cmd.flags)) if (flags[name] === undefined && f.default !== undefined) flags[name] = f.default;
  const help = Boolean(flags.help);
  const max = cmd.maxPositionals;
  if (!help && max !== undefined && parsed.positionals.length > max) {
    const extra = parsed.positionals.slice(max).map((p) => `'${p}'`).join(', ');
    throw new UsageError(`unexpected argument${parsed.positionals.length - max > 1 ? 's' : ''} ${extra} (see iclit ${cmd.name} --help)`);
  }
  return { flags, positionals: parsed.positionals, help };
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

/** A number flag; `positive` refuses 0 and below ("must be a positive number"). */
export function num(flags: Record<string, unknown>, name: string, opts: { integer?: boolean; positive?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = str(flags, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  // decimal only: Number('0x10') is 16, never what a user typing a count meant
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v.trim()) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a (decimal) number, got '${v}'`);
  if (opts.integer && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  if (opts.positive && !(n > 0)) throw new UsageError(`--${name} must be a positive number, got ${v}`);
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
