// The iclit command line: dispatches to one module per command; errors become one line and an exit code.
import { helpText, parseCommand, type Command } from './args.js';
import { IclitError } from '../util/errors.js';
import { commands } from './commands/index.js';

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
  try {
    const { flags, positionals, help } = parseCommand(cmd, rest);
    if (help) {
      process.stdout.write(helpText(cmd) + '\n');
      return 0;
    }
    return await cmd.run(flags, positionals);
  } catch (e) {
    if (e instanceof IclitError) {
      process.stderr.write(`iclit: ${e.message}\n`);
      return e.exitCode;
    }
    // A libtorch or runtime failure we did not anticipate: still one line, with a hint for a bug report.
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    process.stderr.write(`iclit: internal error: ${msg} (set ICLIT_DEBUG=1 for the stack trace)\n`);
    if (process.env.ICLIT_DEBUG === '1' && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 70;
  }
}
