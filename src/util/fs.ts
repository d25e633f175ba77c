// Output paths checked before anything is written: one clear line for a file in the way, a dangling link, a pseudo-filesystem, no write access.
import { accessSync, constants, lstatSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { IclitError } from './errors.js';

/** statfs f_type of filesystems that hold no user files (writing or creating folders there hangs or fails). */
const PSEUDO_FILESYSTEMS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x6165676c: 'pstore',
  0xcafe4a11: 'bpf',
};

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/**
 * Checks that `path` can be (or already is) a folder this process writes into, without creating anything:
 * a file or a dangling symlink at the path or in the way above it, a pseudo-filesystem (/proc, /sys, …) and a
 * missing write permission each give one IclitError naming the path. `what` names the folder in messages.
 */
export function checkOutputDir(path: string, what: string): void {
  const target = resolve(path);
  let probe = target;
  // Walk up to the nearest entry that exists; every entry on the way must be a folder (or a link to one).
  for (;;) {
    let st;
    try {
      st = lstatSync(probe);
    } catch (e) {
      if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') throw new IclitError(`${what} ${path}: cannot inspect ${probe} (${code(e) ?? (e as Error).message})`);
      const up = dirname(probe);
      if (up === probe) break;
      probe = up;
      continue;
    }
    if (st.isSymbolicLink()) {
      try {
        statSync(probe);
      } catch {
        throw new IclitError(`${what} ${path}: ${probe} is a symbolic link to a missing target`);
      }
    }
    if (!statSync(probe).isDirectory()) {
      throw new IclitError(probe === target ? `${what} ${path} is a file, not a folder` : `${what} ${path}: ${probe} is a file, not a folder`);
    }
    break;
  }
  const real = realpathSync(probe);
  const kind = PSEUDO_FILESYSTEMS[Number(statfsSync(real).type)];
  if (kind) throw new IclitError(`${what} ${path} is on the ${kind} pseudo-filesystem; choose a folder on a real disk`);
  try {
    accessSync(real, constants.W_OK);
  } catch {
    throw new IclitError(`${what} ${path}: no permission to write in ${real}`);
  }
}
