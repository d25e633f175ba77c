// The results database of one run folder (RESULTS_DIR/results.sqlite, WAL): records keyed by unit, the manifest, resume.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordSink, UnitKey, UnitResult } from '../experiments/index.js';
import type { RepeatRecord } from '../experiments/record.js';
import { IclitError } from '../util/errors.js';
import { checkOutputDir } from '../util/fs.js';
import { ADAPTERS_DIR, STATES_DIR, artifactPath, artifactProblem, writeAdapter, writeStates } from './artifacts.js';
import { decodeRecord, describeUnit, encodeRecord } from './codec.js';
import { ResultsLock } from './lock.js';
import { acceptedHashes, checkManifest, checkManifestShape, type ConfigExtension, type Manifest, type ManifestAction } from './manifest.js';

export const DB_FILE = 'results.sqlite';
export const MANIFEST_FILE = 'manifest.json';
/** Where --force moves the files of an earlier setup: `superseded/<time>/`. */
export const SUPERSEDED_DIR = 'superseded';
/** SQLite `application_id` marking an iclit results database ('iclr'). */
const APPLICATION_ID = 0x69636c72;
/** 2: records carry simUpdate, accuracy fractions, configHash and their states/adapter paths. */
const SCHEMA_VERSION = 2;

export type { UnitKey };

/** The string form of a unit key (JSON of [experiment, condition, repeat, model]: unambiguous). */
export function unitKey(k: UnitKey): string {
  return JSON.stringify([k.experiment, k.condition, k.repeat, k.model]);
}

/** A stored row that does not decode into a valid record. */
export interface DamagedRecord {
  rowid: number;
  unit: string;
  problem: string;
}

export interface SinkOptions {
  /** Put the model label into artifact paths (folders of several models). */
  withModel: boolean;
  /** Recorded in saved adapter folders as base_model_name_or_path. */
  baseModel?: (model: string) => string | null;
  /** Told about rows that are damaged (they count as not done, so the run recomputes them). */
  onDamaged?: (d: DamagedRecord) => void;
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
  accuracy_zero_shot REAL,
  accuracy_icl REAL,
  accuracy_it REAL,
  created_at TEXT NOT NULL,
  config_hash TEXT NOT NULL,
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

/** Opens (or creates) the SQLite file of a results folder and checks that it is an iclit database of this schema. */
function openDatabase(dir: string, readonly: boolean, fresh: boolean): Database.Database {
  const dbPath = join(dir, DB_FILE);
  let db: Database.Database;
  try {
    db = new Database(dbPath, { readonly, fileMustExist: !fresh });
  } catch (e) {
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
      if (v < SCHEMA_VERSION) throw new IclitError(`${dbPath} was written by an older iclit (schema ${v}, records without update similarities or config hashes); run the study into a new folder`);
      if (!readonly) db.pragma('journal_mode = WAL');
      db.prepare('SELECT 1 FROM records LIMIT 1').get(); // a damaged file fails here, named, rather than later
    }
    // Each saved group costs minutes of compute: make commits durable, and wait for a concurrent writer briefly.
    if (!readonly) db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    db.close();
    if (e instanceof IclitError) throw e;
    throw new IclitError(`cannot read ${dbPath}: ${(e as Error).message}`);
  }
  return db;
}

export class ResultsStore {
  #db: Database.Database;

  private constructor(
    /** The results folder. */
    readonly dir: string,
    db: Database.Database,
    readonly readonly: boolean,
    /** The folder's write lock (writers only), released by close() or by the end of the process. */
    private readonly lock?: ResultsLock,
  ) {
    this.#db = db;
  }

  /**
   * Opens the results folder `dir`. `create` makes the folder (or uses an empty one) and the database when
   * missing; without it a folder lacking results.sqlite is an error. `readonly` opens for reading only (exports,
   * reports) and works while a run is writing (WAL lets readers and one writer proceed together). A writer holds
   * the folder's lock (lock.ts) until close(): a second writer is refused in one line naming the first.
   */
  static open(dir: string, opts: { create?: boolean; readonly?: boolean } = {}): ResultsStore {
    const create = Boolean(opts.create) && !opts.readonly;
    const dbPath = join(dir, DB_FILE);
    if (create) checkOutputDir(dir, 'results folder');
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
    try {
      return new ResultsStore(dir, openDatabase(dir, Boolean(opts.readonly), fresh), Boolean(opts.readonly), lock);
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
    this.lock?.release();
  }

  // ---------- records ----------

  /**
   * Writes a group of records (all conditions of one repeat) in ONE transaction: either every record is stored
   * or none is (an error, or the process being killed midway, leaves the database as it was). A record whose
   * unit is already stored replaces it, so saving is idempotent. Each record's configHash must be the manifest's.
   */
  saveRecords(records: RepeatRecord[]): void {
    this.#writable('save records');
    const want = this.manifest()?.configHash;
    const insert = this.#db.prepare(
      `INSERT OR REPLACE INTO records (experiment, condition, repeat, model, seed, millis, tune_loss,
         accuracy_zero_shot, accuracy_icl, accuracy_it, created_at, config_hash, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const group = this.#db.transaction((rs: RepeatRecord[]) => {
      const now = new Date().toISOString();
      const seen = new Set<string>();
      for (const r of rs) {
        const json = encodeRecord(r); // validates; a bad record midway rolls back the ones before it
        const key = unitKey(r);
        if (seen.has(key)) throw new IclitError(`record ${describeUnit(r)} appears twice in one group`);
        if (want !== undefined && r.configHash !== want) throw new IclitError(`record ${describeUnit(r)} was computed under config ${r.configHash.slice(0, 12)}, ${this.dir} holds ${want.slice(0, 12)}`);
        seen.add(key);
        insert.run(r.experiment, r.condition, r.repeat, r.model, r.seed, sqlNumber(r.millis), sqlNumber(r.tuneLoss),
          sqlNumber(r.accuracy?.zeroShot), sqlNumber(r.accuracy?.icl), sqlNumber(r.accuracy?.it), now, r.configHash, json);
      }
    });
    group(records);
  }

  /**
   * Stores one repeat's units: their hidden states and adapters are written first (each atomically, by rename),
   * then the records in one transaction. A run killed between the two leaves files no record points to; the
   * resumed run writes them again.
   */
  saveResults(results: UnitResult[], opts: Pick<SinkOptions, 'withModel' | 'baseModel'>): void {
    this.#writable('save records');
    const records = results.map(({ record, states, adapter }) => {
      const r: RepeatRecord = { ...record };
      if (states) {
        r.states = artifactPath(STATES_DIR, r, opts.withModel);
        writeStates(join(this.dir, r.states), states);
      }
      if (adapter) {
        r.adapter = artifactPath(ADAPTERS_DIR, r, opts.withModel);
        writeAdapter(join(this.dir, r.adapter), adapter, opts.baseModel?.(r.model) ?? null);
      }
      return r;
    });
    this.saveRecords(records);
  }

  /** Every stored row, decoded and validated; rows that fail are returned apart (with their rowid). */
  #scan(filter: RecordFilter = {}): { records: RepeatRecord[]; damaged: DamagedRecord[] } {
    const where: string[] = [];
    const args: string[] = [];
    for (const k of ['experiment', 'model', 'condition'] as const) {
      if (filter[k] !== undefined) {
        where.push(`${k} = ?`);
        args.push(filter[k]);
      }
    }
    const sql = `SELECT rowid, experiment, condition, repeat, model, record FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY experiment, model, condition, repeat`;
    let rows: { rowid: number; experiment: string; condition: string; repeat: number; model: string; record: string }[];
    try {
      rows = this.#db.prepare(sql).all(...args) as typeof rows;
    } catch (e) {
      throw new IclitError(`cannot read ${join(this.dir, DB_FILE)}: ${(e as Error).message}`);
    }
    const records: RepeatRecord[] = [];
    const damaged: DamagedRecord[] = [];
    for (const row of rows) {
      try {
        const r = decodeRecord(row.record);
        if (unitKey(r) !== unitKey(row)) throw new IclitError(`its JSON names ${describeUnit(r)}`);
        records.push(r);
      } catch (e) {
        damaged.push({ rowid: row.rowid, unit: describeUnit(row), problem: (e as Error).message });
      }
    }
    return { records, damaged };
  }

  /** Damaged rows (JSON that does not decode into a valid record), for `iclit run` to recompute. */
  damaged(): DamagedRecord[] {
    return this.#scan().damaged;
  }

  /** Keys (unitKey) of the stored, valid records. */
  doneKeys(): Set<string> {
    return new Set(this.#scan().records.map(unitKey));
  }

  /**
   * Stored records, ordered by experiment, model, condition, repeat (binary string order for names). A damaged
   * row, or a record computed under another setup than the manifest's, is an error naming it: a report or an
   * export never mixes setups or silently drops a repeat.
   */
  records(filter: RecordFilter = {}): RepeatRecord[] {
    const { records, damaged } = this.#scan(filter);
    const file = join(this.dir, DB_FILE);
    if (damaged.length > 0) {
      const d = damaged[0];
      throw new IclitError(`${file}: row ${d.rowid} (${d.unit}) is damaged (${d.problem})${damaged.length > 1 ? ` and ${damaged.length - 1} more` : ''}; run the same \`iclit run\` again to recompute it`);
    }
    const accepted = acceptedHashes(this.manifest());
    const foreign = accepted === undefined ? [] : records.filter((r) => !accepted.has(r.configHash));
    if (foreign.length > 0) {
      const names = foreign.slice(0, 5).map(describeUnit).join(', ');
      throw new IclitError(`${file}: ${foreign.length} record(s) were computed under another setup than its manifest (${names}${foreign.length > 5 ? ', …' : ''}); the folder mixes setups`);
    }
    return records;
  }

  /** Number of records per experiment / model / condition, in the same order as records(). */
  summary(): { experiment: string; model: string; condition: string; n: number }[] {
    return this.#db.prepare(
      `SELECT experiment, model, condition, COUNT(*) AS n FROM records
       GROUP BY experiment, model, condition ORDER BY experiment, model, condition`,
    ).all() as { experiment: string; model: string; condition: string; n: number }[];
  }

  /** Experiment names with at least one record, sorted. */
  experiments(): string[] {
    return (this.#db.prepare('SELECT DISTINCT experiment FROM records ORDER BY experiment').all() as { experiment: string }[]).map((r) => r.experiment);
  }

  /**
   * The sink the runner writes through. Done = stored, valid, and computed under the current manifest; damaged
   * rows are reported once through onDamaged and count as not done, so the run recomputes (and replaces) them.
   */
  sink(opts: SinkOptions): RecordSink {
    const accepted = acceptedHashes(this.manifest());
    const { records, damaged } = this.#scan();
    for (const d of damaged) opts.onDamaged?.(d);
    // a record whose stored states or adapter are missing or damaged is not done: the run recomputes it
    const whole = records.filter((r) => {
      const problem = artifactProblem(this.dir, r);
      if (problem) {
        const row = this.#db.prepare('SELECT rowid FROM records WHERE experiment = ? AND condition = ? AND repeat = ? AND model = ?').get(r.experiment, r.condition, r.repeat, r.model) as { rowid: number } | undefined;
        opts.onDamaged?.({ rowid: row?.rowid ?? 0, unit: describeUnit(r), problem });
      }
      return problem === undefined;
    });
    const done = new Set(whole.filter((r) => accepted === undefined || accepted.has(r.configHash)).map(unitKey));
    return {
      isDone: (key) => done.has(unitKey(key)),
      save: (results) => {
        this.saveResults(results, opts);
        for (const r of results) done.add(unitKey(r.record));
      },
    };
  }

  // ---------- manifest ----------

  /** The current manifest (the latest written), or undefined for a fresh folder. The table is authoritative. */
  manifest(): Manifest | undefined {
    const row = this.#db.prepare('SELECT manifest FROM manifests ORDER BY id DESC LIMIT 1').get() as { manifest: string } | undefined;
    return row ? checkManifestShape(JSON.parse(row.manifest), `${join(this.dir, DB_FILE)} (manifests table)`) : undefined;
  }

  /** Every manifest ever written to this folder's database, oldest first. */
  manifestHistory(): Manifest[] {
    return (this.#db.prepare('SELECT manifest FROM manifests ORDER BY id').all() as { manifest: string }[]).map((r) => JSON.parse(r.manifest) as Manifest);
  }

  /** Stores `m` as the current manifest, in the table and in manifest.json (a human-readable copy, written atomically). */
  writeManifest(m: Manifest): void {
    this.#writable('write the manifest');
    const text = JSON.stringify(m, null, 2);
    this.#db.prepare('INSERT INTO manifests (written_at, manifest) VALUES (?, ?)').run(new Date().toISOString(), text);
    const path = join(this.dir, MANIFEST_FILE);
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, text + '\n');
    renameSync(tmp, path);
  }

  /**
   * Starts (or resumes) a run with manifest `wanted` (see checkManifest). 'new' writes `wanted`; 'resume' keeps the
   * existing manifest (and its createdAt). 'replace' (--force on a changed setup) first moves everything of the
   * earlier setup — database, manifest, states, adapters — to `superseded/<time>/` inside the folder, so the folder
   * never holds records of two setups; `supersededTo` names that place.
   */
  beginRun(wanted: Manifest, opts: { force?: boolean; extension?: ConfigExtension } = {}): { action: ManifestAction; supersededTo?: string } {
    // A folder without a single record holds nothing to protect: a corrected rerun starts it anew without --force.
    const empty = this.#db.prepare('SELECT 1 FROM records LIMIT 1').get() === undefined;
    const existing = empty ? undefined : this.manifest();
    const action = checkManifest(existing, wanted, { force: opts.force, dir: this.dir, extension: opts.extension });
    let supersededTo: string | undefined;
    if (action === 'replace') supersededTo = this.#supersede();
    // 'extend' (a rerun adding conditions): the new setup, under which the earlier setup's records stay valid
    if (action === 'extend') this.writeManifest({ ...wanted, extends: [...(existing!.extends ?? []), existing!.configHash] });
    else if (action !== 'resume') this.writeManifest(wanted);
    return { action, supersededTo };
  }

  /** Moves the earlier setup's files aside and starts an empty database in their place. */
  #supersede(): string {
    this.#writable('replace the setup');
    this.#db.close();
    const dest = join(this.dir, SUPERSEDED_DIR, new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(dest, { recursive: true });
    for (const name of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, MANIFEST_FILE, STATES_DIR, ADAPTERS_DIR]) {
      const from = join(this.dir, name);
      if (existsSync(from)) renameSync(from, join(dest, name));
    }
    this.#db = openDatabase(this.dir, false, true);
    return dest;
  }

  /** Records that the run finished: sets finishedAt and wallSeconds on the current manifest. */
  markFinished(wallSeconds: number, finishedAt = new Date().toISOString()): void {
    const m = this.manifest();
    if (!m) throw new IclitError(`results folder ${this.dir} has no manifest to mark finished`);
    this.writeManifest({ ...m, finishedAt, wallSeconds });
  }

  #writable(what: string): void {
    if (this.readonly) throw new IclitError(`cannot ${what}: results folder ${this.dir} is open read-only`);
  }
}
