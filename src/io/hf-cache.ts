// Models named by Hugging Face hub id (`org/name[@revision]`), resolved offline from the local cache as huggingface_hub lays it out; never a download.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { checkInputDir } from '../util/fs.js';

/** Where a hub id resolved: the id, the revision asked for (default 'main') and the snapshot (commit hash) it names. */
export interface HubModel {
  id: string;
  revision: string;
  snapshot: string;
  /** The snapshot folder: `<cache>/models--org--name/snapshots/<hash>`. */
  dir: string;
}

/** `org/name` or `org/name@revision`, as huggingface_hub accepts repo ids (no leading '.', no '..'). */
const HUB_ID = /^([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?$/;

/** True when `ref` reads as a hub id (a relative path of two parts reads so too: a folder that exists wins). */
export function isHubId(ref: string): boolean {
  const m = HUB_ID.exec(ref);
  return m !== null && !ref.includes('..') && !m[2].endsWith('.') && !(m[3] ?? '').split('/').includes('..');
}

/** The hub cache folder: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (huggingface_hub's order). */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.HOME || homedir(), '.cache', 'huggingface', 'hub');
}

/**
 * Resolves `org/name[@revision]` in the local cache: `models--org--name/refs/<revision>` holds the commit hash
 * of `snapshots/<hash>/` (a revision that is itself a snapshot's hash needs no ref). A missing model or revision
 * is one IclitError saying where it looked and how to fetch it; nothing is downloaded.
 */
export function resolveHubModel(ref: string, what = 'model', env: NodeJS.ProcessEnv = process.env): HubModel {
  const m = HUB_ID.exec(ref);
  if (!m || !isHubId(ref)) throw new IclitError(`${what} ${ref} is neither a folder nor a hub id (org/name or org/name@revision)`);
  const [, org, name, rev] = m;
  const id = `${org}/${name}`;
  const revision = rev ?? 'main';
  const cache = hubCacheDir(env);
  const repo = join(cache, `models--${org}--${name}`);
  const fetch = `huggingface-cli download ${id}${rev ? ` --revision ${rev}` : ''}`;
  if (!existsSync(repo)) {
    throw new IclitError(`${what} ${ref} is not a local folder, and the Hugging Face cache has no ${id} (looked in ${repo}); fetch it with \`${fetch}\` (iclit never downloads)`);
  }
  let snapshot: string;
  const refFile = join(repo, 'refs', revision);
  if (/^[0-9a-f]{40}$/.test(revision) && existsSync(join(repo, 'snapshots', revision))) snapshot = revision;
  else if (existsSync(refFile) && statSync(refFile).isFile()) snapshot = readFileSync(refFile, 'utf8').trim();
  else {
    let refs: string[] = [];
    try {
      refs = readdirSync(join(repo, 'refs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(join(repo, 'refs').length + 1));
    } catch {
      // no refs folder: none to list
    }
    throw new IclitError(`${what} ${ref}: the Hugging Face cache has no revision '${revision}' of ${id} (looked for ${refFile}; revisions there: ${refs.length ? refs.join(', ') : 'none'}); fetch it with \`${fetch}\``);
  }
  if (!/^[0-9a-f]{7,64}$/.test(snapshot)) throw new IclitError(`${refFile} should hold a commit hash, got ${JSON.stringify(snapshot.slice(0, 80))}`);
  const dir = join(repo, 'snapshots', snapshot);
  if (!existsSync(dir)) throw new IclitError(`${what} ${ref}: ${refFile} names snapshot ${snapshot}, but ${dir} is missing (an interrupted download?); fetch it again with \`${fetch}\``);
  checkInputDir(dir, `${what} folder`);
  return { id, revision, snapshot, dir };
}

/**
 * A model (or encoder, adapter) folder given as a path or a hub id: a path that exists always wins; else a hub id
 * resolves from the local cache; else the usual "does not exist" of checkInputDir. `what`: 'model folder', ….
 */
export function resolveModelFolder(ref: string, what: string, env: NodeJS.ProcessEnv = process.env): { dir: string; hub?: HubModel } {
  if (existsSync(ref) || !isHubId(ref)) {
    checkInputDir(ref, what);
    return { dir: ref };
  }
  const hub = resolveHubModel(ref, what.replace(/ folder$/, ''), env);
  return { dir: hub.dir, hub };
}

/** `ref` unchanged when it exists or is no hub id; else its snapshot folder in the local cache (or the one-line error). */
export function localOrHub(ref: string, what = 'model', env: NodeJS.ProcessEnv = process.env): string {
  return existsSync(ref) || !isHubId(ref) ? ref : resolveHubModel(ref, what, env).dir;
}
