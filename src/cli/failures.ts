// How any failure reaches the user: one line and an exit code — usage 2, input 1 (bad files, paths, databases), internal 70 (a bug).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from '../results/index.js';
import { IclitError } from '../util/errors.js';

/** A failure as the CLI prints it (after `iclit: `) and the exit code. */
export interface Failure {
  message: string;
  exitCode: number;
}

/** Node system-error codes that mean something is wrong with a path the user gave or its disk. */
const FS_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EBUSY: 'busy (in use by the system or another process)',
};

/** SQLite result codes (the primary code, before an extended suffix) that mean the database file or its disk is at fault. */
const SQLITE_PROBLEMS: Record<string, string> = {
  SQLITE_CORRUPT: 'the database is damaged (SQLITE_CORRUPT); restore it from a copy or run into a new folder',
  SQLITE_NOTADB: 'not a SQLite database (SQLITE_NOTADB)',
  SQLITE_CANTOPEN: 'cannot open the database file (SQLITE_CANTOPEN)',
  SQLITE_READONLY: 'the database cannot be written (SQLITE_READONLY: no permission, or a read-only filesystem)',
  SQLITE_PERM: 'permission denied (SQLITE_PERM)',
  SQLITE_FULL: 'the disk is full (SQLITE_FULL)',
  SQLITE_IOERR: 'input/output error on the database file (SQLITE_IOERR)',
  SQLITE_BUSY: 'the database is locked by another process (SQLITE_BUSY)',
  SQLITE_LOCKED: 'the database is locked (SQLITE_LOCKED)',
};

type SystemError = Error & { code: string; syscall?: string; path?: string; dest?: string };

function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error && typeof (e as SystemError).code === 'string' && typeof (e as SystemError).syscall === 'string';
}

function isSqliteError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && e.name === 'SqliteError' && typeof (e as { code?: unknown }).code === 'string';
}

/** True when `file` opens as a SQLite database that passes quick_check. */
function healthy(file: string): boolean {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.pragma('quick_check', { simple: true }) === 'ok';
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

/**
 * The results database a SQLite error came from, among the folders (or .sqlite files) the command was given:
 * the only one there, else the ones that fail quick_check. Undefined when that cannot be told.
 */
export function databaseOf(paths: readonly string[], code: string): string | undefined {
  const files = [...new Set(paths.map((p) => (p.endsWith('.sqlite') ? p : join(p, DB_FILE))))].filter((f) => existsSync(f) && statSync(f).isFile());
  if (files.length <= 1) return files[0];
  if (!/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return undefined;
  const damaged = files.filter((f) => !healthy(f));
  return damaged.length > 0 ? damaged.join(', ') : undefined;
}

/**
 * What to print and return for error `e`. `paths` are the folders and files the command was given (its
 * positionals and --out), used to name the database a SQLite error came from.
 */
export function failureOf(e: unknown, paths: readonly string[] = []): Failure {
  if (e instanceof IclitError) return { message: e.message, exitCode: e.exitCode };
  if (isSystemError(e) && FS_PROBLEMS[e.code] !== undefined) {
    const what = FS_PROBLEMS[e.code];
    const where = e.path === undefined ? undefined : e.dest === undefined ? e.path : `${e.path} → ${e.dest}`;
    return { message: where === undefined ? `${what} (${e.syscall})` : `${where}: ${what}`, exitCode: 1 };
  }
  if (isSqliteError(e)) {
    const primary = /^SQLITE_[A-Z]+/.exec(e.code)?.[0] ?? e.code;
    const what = SQLITE_PROBLEMS[primary];
    if (what !== undefined) {
      const file = databaseOf(paths, e.code);
      return { message: `${file ?? 'a results database'}: ${what}`, exitCode: 1 };
    }
  }
  // A libtorch or runtime failure we did not anticipate: still one line, with a hint for a bug report.
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return { message: `internal error: ${msg} (set ICLIT_DEBUG=1 for the stack trace)`, exitCode: 70 };
}
