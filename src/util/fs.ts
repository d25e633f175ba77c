// User-given paths checked where they are taken: output folders and files (file in the way, dangling link, pseudo-filesystem, no write access) and input folders and files (missing, the wrong kind).
import { accessSync, constants, lstatSync, realpathSync, statfsSync, statSync, type Stats } from 'node:fs';
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

/** lstat, or undefined when nothing is there (also when a file stands where a folder of the path should be). */
function entry(path: string, subject: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return undefined;
    throw new IclitError(`${subject}: cannot inspect ${path} (${code(e) ?? (e as Error).message})`);
  }
}

/** Refuses a symbolic link whose target is missing; `named`: the link is the path the subject names. */
function checkLink(st: Stats, path: string, subject: string, named: boolean): void {
  if (!st.isSymbolicLink()) return;
  try {
    statSync(path);
  } catch {
    throw new IclitError(named ? `${subject} is a symbolic link to a missing target` : `${subject}: ${path} is a symbolic link to a missing target`);
  }
}

/** 'a model folder', 'an adapter folder'. */
function a(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * `folder` can be (or already is) a folder this process writes into: every entry from it up to the nearest one
 * that exists is a folder (or a link to one), the filesystem is a real one and writable. `subject` starts
 * every message; `isTarget` says the folder itself is what the user named (else it holds the named file).
 */
function checkWritableFolder(folder: string, subject: string, isTarget: boolean): void {
  const target = resolve(folder);
  let probe = target;
  for (;;) {
    const st = entry(probe, subject);
    if (st === undefined) {
      const up = dirname(probe);
      if (up === probe) break;
      probe = up;
      continue;
    }
    checkLink(st, probe, subject, isTarget && probe === target);
    if (!statSync(probe).isDirectory()) {
      throw new IclitError(isTarget && probe === target ? `${subject} is a file, not a folder` : `${subject}: ${probe} is a file, not a folder`);
    }
    break;
  }
  const real = realpathSync(probe);
  const kind = PSEUDO_FILESYSTEMS[Number(statfsSync(real).type)];
  if (kind) throw new IclitError(`${subject} is on the ${kind} pseudo-filesystem; choose a folder on a real disk`);
  try {
    accessSync(real, constants.W_OK);
  } catch (e) {
    throw new IclitError(code(e) === 'EROFS' ? `${subject}: ${real} is on a read-only filesystem` : `${subject}: no permission to write in ${real}`);
  }
}

/**
 * Checks that `path` can be (or already is) a folder this process writes into, without creating anything:
 * a file or a dangling symlink at the path or in the way above it, a pseudo-filesystem (/proc, /sys, …) and a
 * missing write permission each give one IclitError naming the path. `what` names the folder in messages.
 */
export function checkOutputDir(path: string, what: string): void {
  checkWritableFolder(path, `${what} ${path}`, true);
}

/**
 * Checks that `path` can be written as a file, without creating anything: not a folder, not a dangling link,
 * writable if it exists, and its folder can be made (see checkOutputDir). `what` names the file in messages.
 */
export function checkOutputFile(path: string, what: string): void {
  const subject = `${what} ${path}`;
  const st = entry(path, subject);
  if (st !== undefined) {
    checkLink(st, path, subject, true);
    if (statSync(path).isDirectory()) throw new IclitError(`${subject} is a folder; give a file name`);
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw new IclitError(code(e) === 'EROFS' ? `${subject} is on a read-only filesystem` : `${subject}: no permission to write it`);
    }
  }
  checkWritableFolder(dirname(resolve(path)), subject, false);
}

/** The entry at an input path, or an IclitError saying it is missing (or a link to nothing). */
function inputEntry(path: string, what: string): Stats {
  const st = entry(path, `${what} ${path}`);
  if (st === undefined) throw new IclitError(`${what} ${path} does not exist`);
  checkLink(st, path, `${what} ${path}`, true);
  return statSync(path);
}

/** An existing folder to read: "<what> PATH does not exist", "PATH is a file, not a <what>" (what: 'model folder', …). */
export function checkInputDir(path: string, what: string): void {
  if (!inputEntry(path, what).isDirectory()) throw new IclitError(`${path} is a file, not ${a(what)}`);
}

/** An existing readable file: "<what> PATH does not exist", "PATH is a folder, not a <what>" (what: 'data file', …). */
export function checkInputFile(path: string, what: string): void {
  if (inputEntry(path, what).isDirectory()) throw new IclitError(`${path} is a folder, not ${a(what)}`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new IclitError(`${what} ${path}: no permission to read it`);
  }
}
