// User-given paths checked where they are taken: output folders and files (file in the way, dangling link, pseudo-filesystem, no write access, an input of the same command) and input folders and files (missing, the wrong kind).
import { accessSync, constants, lstatSync, readdirSync, realpathSync, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
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
  } catch (e) {
    const what = code(e) === 'ELOOP' ? 'a symbolic link loop (it resolves to itself)' : 'a symbolic link to a missing target';
    throw new IclitError(named ? `${subject} is ${what}` : `${subject}: ${path} is ${what}`);
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

/** One input of a command, as output checks see it: a file or a folder, and what to call it in messages. */
export interface InputPath {
  path: string;
  /** 'model folder', 'data file', … */
  what: string;
  /** The whole phrase instead of "the <what> <path>" (e.g. "the results.sqlite of results folder R"). */
  named?: string;
}

/** `path` made absolute through the real path of its nearest existing ancestor (symlinks resolved, the missing rest kept). */
function realish(path: string): string {
  let probe = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync(probe), ...rest);
    } catch {
      const up = dirname(probe);
      if (up === probe) return resolve(path);
      rest.unshift(probe.slice(up.length).replace(/^[/\\]/, ''));
      probe = up;
    }
  }
}

/**
 * Every absolute form a path takes: as written, through real paths, and for a folder the real paths of the links
 * directly in it and one level below (a Hugging Face snapshot's files are links to blobs elsewhere).
 */
function forms(path: string, withEntries: boolean): string[] {
  const out = new Set([resolve(path), realish(path)]);
  if (withEntries) {
    const walk = (dir: string, depth: number): void => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(dir, n);
        const st = entry(p, p);
        if (st?.isSymbolicLink()) out.add(realish(p));
        else if (st?.isDirectory() && depth > 0) walk(p, depth - 1);
      }
    };
    walk(resolve(path), 1);
  }
  return [...out];
}

function within(p: string, folder: string): boolean {
  return p === folder || p.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * Refuses, in one IclitError naming both, an output `out` (called `what`) that is an input of the same command or
 * lies inside one (a model, encoder or adapter folder, a data file, a results folder's own files), compared by
 * real path so a symlink or `..` does not hide it. Writes nothing.
 */
export function checkOutputApart(out: string, what: string, inputs: readonly InputPath[]): void {
  const outs = forms(out, false);
  for (const input of inputs) {
    let folder = false;
    try {
      folder = statSync(input.path).isDirectory();
    } catch {
      // a missing input: its own check names it
    }
    const ins = forms(input.path, folder);
    const hit = outs.some((o) => ins.some((i) => (folder ? within(o, i) : o === i)));
    if (!hit) continue;
    const same = outs.some((o) => ins.includes(o));
    const name = input.named ?? `the ${input.what} ${input.path}`;
    throw new IclitError(`${what} ${out} ${same ? 'is' : 'lies inside'} ${name}, an input of this command; write it elsewhere (inputs are never overwritten)`);
  }
}

/**
 * Runs `f` on the file `path`; a filesystem error Node reports without a path (a read or write on an open file
 * descriptor: "is a folder (read)", "no space left (write)") gets `path`, so its one line names the file.
 */
export function onPath<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const s = e as NodeJS.ErrnoException;
    if (s instanceof Error && typeof s.code === 'string' && typeof s.syscall === 'string' && s.path === undefined) s.path = path;
    throw e;
  }
}
