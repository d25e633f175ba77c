// The results database of one run folder (RESULTS_DIR/results.sqlite, WAL): records keyed by unit, the manifest, resume.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RepeatRecord } from '../experiments/record.js';
import { IclitError } from '../util/errors.js';
import { decodeRecord, describeUnit, encodeRecord } from './codec.js';
import { ResultsLock } from './lock.js';
import { checkManifest, checkManifestShape, type Manifest, type ManifestAction } from './manifest.js';

export const DB_FILE = 'results.sqlite';
export const MANIFEST_FILE = 'manifest.json';
/** SQLite `application_id` marking an iclit results database ('iclr'). */
const APPLICATION_ID = 0x69636c72;
const SCHEMA_VERSION = 1;

/** What identifies one unit of work: one repeat of one condition of one experiment on one model. */
export interface UnitKey {
  experiment: string;
  condition: string;
  repeat: number;
  model: string;
}

/** The string form of a unit key used by doneKeys() (JSON of [experiment, condition, repeat, model]: unambiguous). */
export function unitKey(k: UnitKey): string {
  return JSON.stringify([k.experiment, k.condition, k.repeat, k.model]);
}

/** What the runner is given: skip finished units, save each finished repeat group atomically. */
export interface RunSink {
  /** `key` is a UnitKey or its unitKey() string. */
  isDone(key: UnitKey | string): boolean;
  /** All conditions of one repeat, written in one transaction. */
  save(records: RepeatRecord[]): void;
}

export interface RecordFilter {
  experiment?: string;
  model?: string;
  condition?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  experiment TEXT NOT NULL,
  condition TEXT NOT NULL,
  repeat INTEGER NOT NULL,
  model TEXT NOT NULL,
  seed INTEGER NOT NULL,
  millis REAL,
  tune_loss REAL,
  correct_zero_shot REAL,
  correct_icl REAL,
  correct_it REAL,
  created_at TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (experiment, condition, repeat, model)
);
CREATE TABLE IF NOT EXISTS manifests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  written_at TEXT NOT NULL,
  manifest TEXT NOT NULL
);
`;

/** A finite number for a flattened SQL column; NaN/±Infinity and absent values become NULL (the JSON keeps them). */
function sqlNumber(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

export class ResultsStore {
  private constructor(
    /** The results folder. */
    readonly dir: string,
    private readonly db: Database.Database,
    readonly readonly: boolean,
    /** The folder's write lock (writers only), released by close() or by the end of the process. */
    private readonly lock?: ResultsLock,
  ) {}

  /**
   * Opens the results folder `dir`. `create` makes the folder (or uses an empty one) and the database when
   * missing; without it a folder lacking results.sqlite is an error. `readonly` opens for reading only (exports,
   * reports) and works while a run is writing (WAL lets readers and one writer proceed together). A writer holds
   * the folder's lock (lock.ts) until close(): a second writer is refused in one line naming the first.
   */
  static open(dir: string, opts: { create?: boolean; readonly?: boolean } = {}): ResultsStore {
    const create = Boolean(opts.create) && !opts.readonly;
    const dbPath = join(dir, DB_FILE);
    if (!existsSync(dir)) {
      if (!create) throw new IclitError(`results folder ${dir} does not exist`);
      mkdirSync(dir, { recursive: true });
    } else if (!statSync(dir).isDirectory()) {
      throw new IclitError(`${dir} is a file, not a results folder`);
    }
    const fresh = !existsSync(dbPath);
    if (fresh) {
      if (!create) throw new IclitError(`${dir} is not an iclit results folder (no ${DB_FILE} in it)`);
      const others = readdirSync(dir).filter((n) => !n.startsWith('.'));
      if (others.length > 0) {
        throw new IclitError(`${dir} is not empty and not an iclit results folder (no ${DB_FILE}); choose a new or empty folder`);
      }
    }
    const lock = opts.readonly ? undefined : ResultsLock.acquire(dir);
    let db: Database.Database;
    try {
      db = new Database(dbPath, { readonly: Boolean(opts.readonly), fileMustExist: !fresh });
    } catch (e) {
      lock?.release();
      throw new IclitError(`cannot open ${dbPath}: ${(e as Error).message}`);
    }
    try {
      if (fresh) {
        db.pragma('journal_mode = WAL');
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
        db.exec(SCHEMA);
      } else {
        const appId = db.pragma('application_id', { simple: true }) as number;
        if (appId !== APPLICATION_ID) throw new IclitError(`${dbPath} is not an iclit results database (application_id ${appId})`);
        const v = db.pragma('user_version', { simple: true }) as number;
        if (v > SCHEMA_VERSION) throw new IclitError(`${dbPath} has schema version ${v}; this iclit reads up to ${SCHEMA_VERSION} (upgrade iclit)`);
        if (!opts.readonly) db.pragma('journal_mode = WAL');
      }
      // Each saved group costs minutes of compute: make commits durable, and wait for a concurrent writer briefly.
      if (!opts.readonly) db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
    } catch (e) {
      db.close();
      lock?.release();
      if (e instanceof IclitError) throw e;
      throw new IclitError(`cannot open ${dbPath}: ${(e as Error).message}`);
    }
    return new ResultsStore(dir, db, Boolean(opts.readonly), lock);
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  // ---------- records ----------

  /**
   * Writes a group of records (all conditions of one repeat) in ONE transaction: either every record is stored
   * or none is (an error, or the process being killed midway, leaves the database as it was). A record whose
   * unit is already stored replaces it, so saving is idempotent.
   */
  saveRecords(records: RepeatRecord[]): void {
    this.writable('save records');
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO records (experiment, condition, repeat, model, seed, millis, tune_loss,
         correct_zero_shot, correct_icl, correct_it, created_at, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const group = this.db.transaction((rs: RepeatRecord[]) => {
      const now = new Date().toISOString();
      const seen = new Set<string>();
      for (const r of rs) {
        const json = encodeRecord(r); // validates; a bad record midway rolls back the ones before it
        const key = unitKey(r);
        if (seen.has(key)) throw new IclitError(`record ${describeUnit(r)} appears twice in one group`);
        seen.add(key);
        insert.run(r.experiment, r.condition, r.repeat, r.model, r.seed, sqlNumber(r.millis), sqlNumber(r.tuneLoss),
          sqlNumber(r.correct?.zeroShot), sqlNumber(r.correct?.icl), sqlNumber(r.correct?.it), now, json);
      }
    });
    group(records);
  }

  /** unitKey() of every stored record. */
  doneKeys(): Set<string> {
    const rows = this.db.prepare('SELECT experiment, condition, repeat, model FROM records').all() as UnitKey[];
    return new Set(rows.map(unitKey));
  }

  isDone(experiment: string, condition: string, repeat: number, model: string): boolean {
    return this.db.prepare('SELECT 1 FROM records WHERE experiment = ? AND condition = ? AND repeat = ? AND model = ?')
      .get(experiment, condition, repeat, model) !== undefined;
  }

  /** Stored records, ordered by experiment, model, condition, repeat (binary string order for names). */
  records(filter: RecordFilter = {}): RepeatRecord[] {
    const where: string[] = [];
    const args: string[] = [];
    for (const k of ['experiment', 'model', 'condition'] as const) {
      if (filter[k] !== undefined) {
        where.push(`${k} = ?`);
        args.push(filter[k]);
      }
    }
    const sql = `SELECT record FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY experiment, model, condition, repeat`;
    return (this.db.prepare(sql).all(...args) as { record: string }[]).map((row) => decodeRecord(row.record));
  }

  /** Number of records per experiment / model / condition, in the same order as records(). */
  summary(): { experiment: string; model: string; condition: string; n: number }[] {
    return this.db.prepare(
      `SELECT experiment, model, condition, COUNT(*) AS n FROM records
       GROUP BY experiment, model, condition ORDER BY experiment, model, condition`,
    ).all() as { experiment: string; model: string; condition: string; n: number }[];
  }

  /** Experiment names with at least one record, sorted. */
  experiments(): string[] {
    return (this.db.prepare('SELECT DISTINCT experiment FROM records ORDER BY experiment').all() as { experiment: string }[]).map((r) => r.experiment);
  }

  /** The adapter the runner is given. */
  sink(): RunSink {
    return {
      isDone: (key) => {
        const k: UnitKey = typeof key === 'string' ? parseUnitKey(key) : key;
        return this.isDone(k.experiment, k.condition, k.repeat, k.model);
      },
      save: (records) => this.saveRecords(records),
    };
  }

  // ---------- manifest ----------

  /** The current manifest (the latest written), or undefined for a fresh folder. The table is authoritative. */
  manifest(): Manifest | undefined {
    const row = this.db.prepare('SELECT manifest FROM manifests ORDER BY id DESC LIMIT 1').get() as { manifest: string } | undefined;
    return row ? checkManifestShape(JSON.parse(row.manifest), `${join(this.dir, DB_FILE)} (manifests table)`) : undefined;
  }

  /** Every manifest ever written to this folder, oldest first (a --force run adds one). */
  manifestHistory(): Manifest[] {
    return (this.db.prepare('SELECT manifest FROM manifests ORDER BY id').all() as { manifest: string }[]).map((r) => JSON.parse(r.manifest) as Manifest);
  }

  /** Stores `m` as the current manifest, in the table and in manifest.json (a human-readable copy, written atomically). */
  writeManifest(m: Manifest): void {
    this.writable('write the manifest');
    const text = JSON.stringify(m, null, 2);
    this.db.prepare('INSERT INTO manifests (written_at, manifest) VALUES (?, ?)').run(new Date().toISOString(), text);
    const path = join(this.dir, MANIFEST_FILE);
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, text + '\n');
    renameSync(tmp, path);
  }

  /**
   * Starts (or resumes) a run with manifest `wanted`: see checkManifest. 'new' and 'replace' write `wanted`;
   * 'resume' keeps the existing manifest (and its createdAt). With 'replace' the earlier records stay.
   */
  beginRun(wanted: Manifest, opts: { force?: boolean } = {}): ManifestAction {
    const existing = this.manifest();
    const action = checkManifest(existing, wanted, { force: opts.force, dir: this.dir });
    if (action !== 'resume') this.writeManifest(wanted);
    return action;
  }

  /** Records that the run finished: sets finishedAt and wallSeconds on the current manifest. */
  markFinished(wallSeconds: number, finishedAt = new Date().toISOString()): void {
    const m = this.manifest();
    if (!m) throw new IclitError(`results folder ${this.dir} has no manifest to mark finished`);
    this.writeManifest({ ...m, finishedAt, wallSeconds });
  }

  private writable(what: string): void {
    if (this.readonly) throw new IclitError(`cannot ${what}: results folder ${this.dir} is open read-only`);
  }
}

function parseUnitKey(key: string): UnitKey {
  let v: unknown;
  try {
    v = JSON.parse(key);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length !== 4 || typeof v[2] !== 'number') throw new IclitError(`not a unit key: ${key} (expected unitKey() output)`);
  const [experiment, condition, repeat, model] = v as [string, string, number, string];
  return { experiment, condition, repeat, model };
}
