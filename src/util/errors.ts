// User-facing errors: one clear line, an exit code, never a stack trace at the CLI.

/** An error whose message is meant for the user as is (bad input, missing file, unsupported setting). */
export class IclitError extends Error {
  constructor(
    message: string,
    /** Process exit code the CLI uses: 2 for usage errors, 1 for everything else. */
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'IclitError';
  }
}

/** A command-line usage error (unknown flag, missing argument): exit code 2. */
export class UsageError extends IclitError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** Throws an IclitError with `message` when `cond` is false. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new IclitError(typeof message === 'function' ? message() : message);
}
