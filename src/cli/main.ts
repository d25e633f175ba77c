// The iclit command line: dispatches to one module per command; errors become one line and an exit code.
import { helpText, parseCommand, type Command } from './args.js';
import { IclitError } from '../util/errors.js';
import { commands } from './commands/index.js';
import { failureOf } from './failures.js';

function topHelp(): string {
  const lines = ['Usage: iclit <command> [options]', '', 'Measure how in-context learning and instruction tuning move hidden states.', '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(14)} ${c.summary}`);
  lines.push('', 'Run `iclit <command> --help` for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    const { version } = await import('../util/version.js');
    process.stdout.write(version() + '\n');
    return 0;
  }
  const cmd: Command | undefined = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`iclit: unknown command '${name}' (see iclit --help)\n`);
    return 2;
  }
  // the folders and files the command was given: a SQLite error is named by the database among them
  let paths: string[] = [];
  try {
    const { flags, positionals, help } = parseCommand(cmd, rest);
    if (help) {
      process.stdout.write(helpText(cmd) + '\n');
      return 0;
    }
    paths = [...positionals, ...[flags.out ?? []].flat()].filter((p): p is string => typeof p === 'string');
    return await cmd.run(flags, positionals);
  } catch (e) {
    const f = failureOf(e, paths);
    // always one line: a JSON parser quoting the file's text, or a library message, may hold line breaks
    process.stderr.write(`iclit: ${f.message.replace(/\s*[\r\n]+\s*/g, ' ').trim()}\n`);
    if (process.env.ICLIT_DEBUG === '1' && e instanceof Error && !(e instanceof IclitError)) process.stderr.write(`${e.stack}\n`);
    return f.exitCode;
  }
}
