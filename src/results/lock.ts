// One writer per results folder: an OS-level lock (SQLite's fcntl lock on a lock database) that dies with its process.
import Database from 'better-sqlite3';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';

/** The lock database beside results.sqlite; its RESERVED lock is the folder's write lock. */
export const LOCK_FILE = '.iclit-lock.sqlite';
/** Who holds the lock (written by the holder after it has the lock; informative only, never trusted for locking). */
export const HOLDER_FILE = '.iclit-lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
}

// Every lock held by this process. A better-sqlite3 connection that is garbage-collected closes, and closing it
// drops the lock: so a lock stays referenced here until release(), even when its store is no longer referenced.
const HELD = new Set<ResultsLock>();

/**
 * The write lock of a results folder, held from `acquire` until `release` or the end of the process.
 *
 * Why SQLite: Node has no flock, and a lock file made with O_EXCL outlives a SIGKILLed holder (stale-lock guessing
 * by pid is wrong across hosts and after pid reuse). SQLite takes POSIX fcntl locks, which the kernel drops when
 * the process dies however it dies. Holding an open `BEGIN IMMEDIATE` transaction on a lock database keeps its
 * RESERVED lock: a second writer — another process, or another connection of this one — gets SQLITE_BUSY at once,
 * while readers (the holder file, exports, reports) are not blocked.
 */
export class ResultsLock {
  private constructor(
    readonly dir: string,
    private db: Database.Database | undefined,
    readonly holder: LockHolder,
  ) {}

  /** Takes the write lock of `dir` (an existing folder) or throws one line naming the process that holds it. */
  static acquire(dir: string): ResultsLock {
    const path = join(dir, LOCK_FILE);
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (e) {
      throw new IclitError(`cannot open the lock ${path}: ${(e as Error).message}`);
    }
    try {
      db.pragma('busy_timeout = 0');
      // Rollback-journal mode: a RESERVED lock excludes other writers and lets readers in.
      db.pragma('journal_mode = DELETE');
      db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new IclitError(heldMessage(dir, readHolder(dir)));
      throw new IclitError(`cannot take the lock ${path}: ${(e as Error).message}`);
    }
    const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const file = join(dir, HOLDER_FILE);
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(holder) + '\n');
    renameSync(tmp, file);
    const lock = new ResultsLock(dir, db, holder);
    HELD.add(lock);
    return lock;
  }

  get held(): boolean {
    return this.db !== undefined;
  }

  /** Releases the lock (idempotent). The holder file goes too, unless another process has already replaced it. */
  release(): void {
    if (!this.db) return;
    const mine = readHolder(this.dir);
    if (mine && mine.pid === this.holder.pid && mine.host === this.holder.host && mine.since === this.holder.since) {
      rmSync(join(this.dir, HOLDER_FILE), { force: true });
    }
    this.db.exec('ROLLBACK');
    this.db.close();
    this.db = undefined;
    HELD.delete(this);
  }
}

/** The holder file of `dir`, or undefined when absent or unreadable (a holder that has not written it yet). */
export function readHolder(dir: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string' ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function heldMessage(dir: string, h: LockHolder | undefined): string {
  const who = h ? `process ${h.pid} on ${h.host}${h.pid === process.pid && h.host === hostname() ? ' (this process)' : ''}, since ${h.since}` : 'another process';
  return `results folder ${dir} is being written by ${who}; wait for that run to finish or choose another --out`;
}
