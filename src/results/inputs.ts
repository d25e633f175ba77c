// What a results folder is to a command that reads it: its own files (database, manifest, states, adapters, superseded setups, lock, caches) and the model and data paths its manifest names — outputs must keep clear of all of them.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { InputPath } from '../util/fs.js';
import { ADAPTERS_DIR, STATES_DIR } from './artifacts.js';
import { HOLDER_FILE, LOCK_FILE } from './lock.js';
import { DB_FILE, MANIFEST_FILE, ResultsStore, SUPERSEDED_DIR } from './store.js';

/** The entries a results folder owns (an output may sit beside them in the folder, never on or in them). */
export const RESULTS_OWN_FILES: readonly string[] = [
  DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`, MANIFEST_FILE, STATES_DIR, ADAPTERS_DIR, SUPERSEDED_DIR, LOCK_FILE, HOLDER_FILE, '.iclit-cache',
];

/** The own files of the results folder `dir`, as inputs named for messages. */
export function resultsOwnInputs(dir: string): InputPath[] {
  return RESULTS_OWN_FILES.map((f) => ({ path: join(dir, f), what: f, named: `the ${f} of results folder ${dir}` }));
}

/**
 * The inputs a command reading the results folder `dir` must not write over: its own files, and the model
 * folders and data files its manifest names (a run's --data, --model, --encoder). Opens `dir` read-only, so a
 * missing or foreign folder is refused here with the usual message.
 */
export function resultsInputs(dir: string): InputPath[] {
  const store = ResultsStore.open(dir, { readonly: true });
  let named: InputPath[];
  try {
    const m = store.manifest();
    named = [
      ...(m?.models ?? []).map((x) => ({ path: x.path, what: `model folder (of ${dir})` })),
      ...(m?.data ?? []).map((x) => ({ path: x.path, what: `${x.role} ${existsSync(x.path) && statSync(x.path).isDirectory() ? 'folder' : 'file'} (of ${dir})` })),
    ];
  } finally {
    store.close();
  }
  return [...resultsOwnInputs(dir), ...named];
}
