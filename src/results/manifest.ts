// The run manifest: what a results folder was made from (config, model and data fingerprints, seed) and the resume check.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { IclitError } from '../util/errors.js';
import { onPath } from '../util/fs.js';
import { version as iclitVersion } from '../util/version.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Where a model given by hub id came from: the id, the revision asked for and the snapshot (commit) it resolved to. */
export interface ManifestHub {
  id: string;
  revision: string;
  snapshot: string;
}

export interface ManifestModel {
  label: string;
  path: string;
  fingerprint: string;
  /** Present when the model was named by hub id (`--model org/name[@revision]`). */
  hub?: ManifestHub;
}

export interface ManifestData {
  /** What the file is for, e.g. 'train', 'eval', 'instructions'. */
  role: string;
  path: string;
  fingerprint: string;
  /** Present for an encoder named by hub id. */
  hub?: ManifestHub;
}

export interface Manifest {
  iclitVersion: string;
  /** ISO 8601 time the results folder was started. */
  createdAt: string;
  /** The resolved run configuration (any JSON). */
  config: JsonValue;
  /** sha256 (hex) of canonicalJson(config). */
  configHash: string;
  models: ManifestModel[];
  data: ManifestData[];
  seed: number;
  /** Where the run computes (device, libtorch, dtype in force); recorded, not part of the hashed setup. */
  compute?: JsonValue;
  /** ISO 8601 time the run finished every unit (absent while unfinished). */
  finishedAt?: string;
  /** Wall-clock seconds of the run that finished it. */
  wallSeconds?: number;
  /**
   * Config hashes of the earlier setups this one extends (a rerun that only adds conditions, such as controls): their
   * records stay valid in the folder, as they are what this setup computes for those conditions.
   */
  extends?: string[];
}

// ---------- hashing ----------

/** JSON with object keys sorted at every level, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 (hex) of the canonical JSON of `config`. */
export function configHash(config: unknown): string {
  return sha256Hex(canonicalJson(config));
}

const MiB = 1 << 20;
/** Weight files above this size are sampled; everything else (configs, tokenizers, data files) is hashed whole. */
const FULL_HASH_LIMIT = 64 * MiB;
const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|gguf|h5|msgpack)$/i;

/** Feeds bytes [start, end) of an open file into `hash`, 1 MiB at a time. */
function hashRange(hash: Hash, fd: number, start: number, end: number): void {
  const buf = Buffer.allocUnsafe(Math.min(MiB, Math.max(end - start, 1)));
  let pos = start;
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    pos += n;
  }
}

/** True when `path` is a weight file too large to hash whole (see hashFileInto). */
function sampled(path: string, size: number): boolean {
  return size > FULL_HASH_LIMIT && WEIGHT_FILE.test(path);
}

/**
 * Feeds one file into `hash`. Most files go in whole (bytes only, so a lone file's fingerprint equals
 * `sha256sum FILE`). Large weight files (several GB each) are *sampled* because hashing them in full would take
 * minutes per run: their size, their safetensors header (which names every tensor with dtype, shape and offsets)
 * and their first and last 1 MiB. That catches a different checkpoint, a truncated download or a changed shard
 * layout, but not an edit in the middle of a tensor that keeps the size.
 */
function hashFileInto(hash: Hash, path: string, st: Stats): void {
  onPath(path, () => hashFile(hash, path, st));
}

function hashFile(hash: Hash, path: string, st: Stats): void {
  const size = st.size;
  const fd = openSync(path, 'r');
  try {
    if (!sampled(path, size)) {
      hashRange(hash, fd, 0, size);
      return;
    }
    hash.update(`sampled size:${size}\n`);
    if (path.endsWith('.safetensors') && size >= 8) {
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > 0 && 8 + headerLen <= size) {
        hash.update('safetensors-header\n');
        hashRange(hash, fd, 8, 8 + headerLen);
      }
    }
    hash.update('head\n');
    hashRange(hash, fd, 0, MiB);
    hash.update('tail\n');
    hashRange(hash, fd, size - MiB, size);
  } finally {
    closeSync(fd);
  }
}

/**
 * The files a checkpoint folder is made of, as iclit reads them: configs and tokenizers (`*.json`, `*.txt` such as
 * vocab.txt and merges.txt, `*.model`, `*.jinja`), safetensors weights, and the same in sentence-transformers
 * module folders (1_Pooling/…). A README, a licence, other frameworks' weights or an unrelated large file do not
 * change what a study computes, so they are not hashed.
 */
const CHECKPOINT_FILE = /\.(json|txt|model|jinja|safetensors)$/i;

/**
 * Regular files under `dir`, as sorted '/'-joined relative paths; dot-entries (.git, .cache) are skipped, and so
 * are links to folders (a harmless `up -> ..` would loop). Links to files are followed (Hugging Face cache
 * snapshots are links to blobs). `checkpoint`: only a checkpoint's own files (CHECKPOINT_FILE).
 */
function listFiles(dir: string, checkpoint: boolean, prefix = ''): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    if (ent.name.startsWith('.')) continue;
    const rel = prefix === '' ? ent.name : `${prefix}/${ent.name}`;
    const full = join(dir, rel);
    let st: Stats;
    try {
      st = statSync(full);
    } catch {
      continue; // a dangling link is no file of the folder
    }
    if (st.isDirectory()) {
      if (!ent.isSymbolicLink()) out.push(...listFiles(dir, checkpoint, rel));
    } else if (st.isFile() && (!checkpoint || CHECKPOINT_FILE.test(ent.name))) out.push(rel);
  }
  return out.sort();
}

/**
 * A sha256 (hex) that identifies a model or data path. A file: the sha256 of its bytes (a weight file over 64 MiB
 * is sampled instead, see hashFileInto).
 * A folder: its sorted relative file names, sizes and each file hashed the same way — config and tokenizer files
 * whole, weights by size + safetensors header + first and last 1 MiB. The path itself is not hashed, so a moved
 * folder keeps its fingerprint. `checkpoint`: a model or encoder folder, of which only its own files count (see
 * CHECKPOINT_FILE); folder links are never walked.
 */
export function fingerprintPath(path: string, opts: { checkpoint?: boolean } = {}): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    throw new IclitError(`cannot fingerprint ${path}: no such file or folder`);
  }
  const hash = createHash('sha256');
  if (st.isDirectory()) {
    const files = listFiles(path, opts.checkpoint === true);
    if (files.length === 0) throw new IclitError(`cannot fingerprint ${path}: the folder is empty`);
    hash.update('iclit-folder-fingerprint-v1\n');
    for (const rel of files) {
      const full = join(path, rel);
      const fst = statSync(full);
      // Name and size first, then the file's own digest, so file boundaries cannot be confused.
      const fileHash = createHash('sha256');
      hashFileInto(fileHash, full, fst);
      hash.update(`${JSON.stringify(rel)} ${fst.size} ${fileHash.digest('hex')}\n`);
    }
  } else {
    hashFileInto(hash, path, st);
  }
  return hash.digest('hex');
}

// ---------- building and comparing ----------

export interface ManifestInput {
  config: JsonValue;
  models: { label: string; path: string; hub?: ManifestHub }[];
  data: { role: string; path: string; hub?: ManifestHub }[];
  seed: number;
  compute?: JsonValue;
  /** Defaults to now. */
  createdAt?: string;
}

/** A manifest for a new run: fingerprints every model and data path, hashes the config. */
export function buildManifest(input: ManifestInput): Manifest {
  const labels = new Set<string>();
  for (const m of input.models) {
    if (labels.has(m.label)) throw new IclitError(`model label '${m.label}' is used twice; give each model its own label`);
    labels.add(m.label);
  }
  return {
    iclitVersion: iclitVersion(),
    createdAt: input.createdAt ?? new Date().toISOString(),
    config: input.config,
    configHash: configHash(input.config),
    models: input.models.map((m) => ({ label: m.label, path: resolve(m.path), fingerprint: fingerprintPath(m.path, { checkpoint: true }), ...(m.hub ? { hub: m.hub } : {}) })),
    data: input.data.map((d) => ({ role: d.role, path: resolve(d.path), fingerprint: fingerprintPath(d.path, { checkpoint: d.role === 'encoder' }), ...(d.hub ? { hub: d.hub } : {}) })),
    seed: input.seed,
    ...(input.compute !== undefined ? { compute: input.compute } : {}),
  };
}

function short(v: unknown): string {
  const s = v === undefined ? '(absent)' : canonicalJson(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Dotted paths where two JSON values differ, e.g. `config.train.lr (0.001 → 0.01)`. */
function jsonDifferences(a: unknown, b: unknown, path: string, out: string[]): void {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) jsonDifferences(a[k], b[k], `${path}.${k}`, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) jsonDifferences(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (canonicalJson(a) !== canonicalJson(b)) out.push(`${path} (${short(a)} → ${short(b)})`);
}

function entryDifferences<T extends { path: string; fingerprint: string }>(kind: string, key: (e: T) => string, a: T[], b: T[], out: string[]): void {
  const am = new Map(a.map((e) => [key(e), e]));
  const bm = new Map(b.map((e) => [key(e), e]));
  for (const [k, e] of am) {
    const f = bm.get(k);
    if (!f) out.push(`${kind} '${k}' (was ${e.path}, not in this run)`);
    else if (e.fingerprint !== f.fingerprint) out.push(`${kind} '${k}' fingerprint (${e.path} → ${f.path})`);
  }
  for (const [k, f] of bm) if (!am.has(k)) out.push(`${kind} '${k}' (new: ${f.path})`);
}

/**
 * What makes two manifests incompatible, one entry per difference: config keys (when the config hashes differ),
 * models by label, data by role, and the seed. Versions, times and paths alone do not count.
 */
export function manifestDifferences(existing: Manifest, wanted: Manifest): string[] {
  const out: string[] = [];
  if (existing.configHash !== wanted.configHash) {
    const before = out.length;
    jsonDifferences(existing.config, wanted.config, 'config', out);
    if (out.length === before) out.push(`configHash (${existing.configHash.slice(0, 12)} → ${wanted.configHash.slice(0, 12)})`);
  }
  entryDifferences('model', (m: ManifestModel) => m.label, existing.models, wanted.models, out);
  entryDifferences('data', (d: ManifestData) => d.role, existing.data, wanted.data, out);
  if (existing.seed !== wanted.seed) out.push(`seed (${existing.seed} → ${wanted.seed})`);
  return out;
}

export type ManifestAction = 'new' | 'resume' | 'replace' | 'extend';

/** Whether config `wanted` only adds to config `existing`: every record computed under `existing` is one `wanted` computes too. */
export type ConfigExtension = (existing: JsonValue, wanted: JsonValue) => boolean;

/** The config hashes whose records a folder under manifest `m` holds as its own: its own and those it extends. */
export function acceptedHashes(m: Manifest | undefined): Set<string> | undefined {
  return m && new Set([m.configHash, ...(m.extends ?? [])]);
}

/**
 * Decides how a run may use a results folder. No manifest yet → 'new'. Same config hash, model and data
 * fingerprints and seed → 'resume' (finished units are skipped). Anything different → an IclitError listing
 * every difference, unless `force`: then 'replace' — the caller writes the new manifest over the old one and
 * the records already in the folder STAY (they were made with the old setup; export them with care).
 */
export function checkManifest(existing: Manifest | undefined, wanted: Manifest, opts: { force?: boolean; dir?: string; extension?: ConfigExtension } = {}): ManifestAction {
  if (!existing) return 'new';
  const diffs = manifestDifferences(existing, wanted);
  if (diffs.length === 0) return 'resume';
  if (opts.force) return 'replace';
  // only the config differs, and only by what `extension` allows (added controls): the earlier records stay
  const sameInputs = manifestDifferences({ ...existing, config: wanted.config, configHash: wanted.configHash }, wanted).length === 0;
  if (sameInputs && opts.extension?.(existing.config, wanted.config)) return 'extend';
  const shown = diffs.length > 8 ? [...diffs.slice(0, 8), `and ${diffs.length - 8} more`] : diffs;
  const where = opts.dir ? `results folder ${opts.dir}` : 'the results folder';
  throw new IclitError(
    `${where} was made with a different setup: ${shown.join('; ')}. ` +
      'Use a new results folder, or pass --force to start it anew (the earlier records, states and adapters are moved to superseded/ inside it)',
  );
}

/** Throws an IclitError naming the key when `m` (read from disk) is not a manifest. */
export function checkManifestShape(m: unknown, source: string): Manifest {
  const fail = (msg: string): never => {
    throw new IclitError(`${source}: ${msg}`);
  };
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('is not a JSON object');
  const o = m as Record<string, unknown>;
  for (const k of ['iclitVersion', 'createdAt', 'configHash']) if (typeof o[k] !== 'string') fail(`key '${k}' must be a string`);
  if (!('config' in o)) fail(`key 'config' is missing`);
  if (typeof o.seed !== 'number') fail(`key 'seed' must be a number`);
  if (!Array.isArray(o.models)) fail(`key 'models' must be an array`);
  if (!Array.isArray(o.data)) fail(`key 'data' must be an array`);
  if (o.extends !== undefined && !(Array.isArray(o.extends) && o.extends.every((h) => typeof h === 'string'))) fail(`key 'extends' must be a list of config hashes`);
  return o as unknown as Manifest;
}
