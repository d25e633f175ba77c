// Test helper for command modules: runs main(argv) in-process with stdout and stderr captured.
import { main } from './main.js';

type Write = typeof process.stdout.write;

/** Runs `iclit argv…` in this process; the write callbacks are honoured so streaming commands finish. */
export async function runCli(argv: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  const out: Buffer[] = [];
  const err: string[] = [];
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  const fake = (sink: (c: Buffer) => void): Write => ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
    sink(Buffer.from(chunk as string));
    const done = typeof enc === 'function' ? enc : cb;
    if (typeof done === 'function') done();
    return true;
  }) as Write;
  process.stdout.write = fake((c) => out.push(c));
  process.stderr.write = fake((c) => err.push(c.toString()));
  try {
    const code = await main(argv);
    return { code, out: Buffer.concat(out), err: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}
