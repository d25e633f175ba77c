// Merging results folders written by several workers (shards of one run) into one folder.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IclitError } from '../util/errors.js';
import { encodeRecord } from './codec.js';
import { manifestDifferences } from './manifest.js';
import { ResultsStore, unitKey } from './store.js';
import type { RepeatRecord } from '../experiments/record.js';

export interface MergeSummary {
  added: number;
  identical: number;
  sources: number;
}

/** Copies a record's states file or adapter folder into the merged folder. */
function copyArtifact(from: string, to: string): void {
  if (!existsSync(from)) throw new IclitError(`${from} is missing (a record points to it); copy the shard's folder whole, states/ and adapters/ included`);
  const tmp = `${to}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, tmp, { recursive: true });
  rmSync(to, { recursive: true, force: true });
  renameSync(tmp, to);
}

/**
 * Copies every record of `sources` (with their stored states and adapters) into `outDir` (created if needed). All folders must share one setup: the same
 * config hash, seed, and model/data fingerprints (paths may differ between machines). A unit present twice must
 * hold the same record, otherwise the merge stops and names it. Records of one repeat are written in one
 * transaction, as the runner writes them.
 */
export function mergeResults(outDir: string, sources: string[]): MergeSummary {
  if (sources.length === 0) throw new IclitError('nothing to merge: give at least one results folder');
  const opened = sources.map((dir) => ResultsStore.open(dir, { readonly: true }));
  try {
    const manifests = opened.map((s, i) => {
      const m = s.manifest();
      if (!m) throw new IclitError(`${sources[i]} has no manifest (not written by iclit run?)`);
      return m;
    });
    manifests.forEach((m, i) => {
      const diff = manifestDifferences(manifests[0], m);
      if (diff.length > 0) throw new IclitError(`${sources[i]} was run with a different setup than ${sources[0]}: ${diff.join('; ')}`);
    });
    const out = ResultsStore.open(outDir, { create: true });
    try {
      out.beginRun(manifests[0]);
      const existing = new Map(out.records().map((r) => [unitKey(r), encodeRecord(r)]));
      let added = 0;
      let identical = 0;
      for (const [i, src] of opened.entries()) {
        const groups = new Map<string, RepeatRecord[]>();
        for (const r of src.records()) {
          const key = unitKey(r);
          const have = existing.get(key);
          if (have !== undefined) {
            if (have !== encodeRecord(r)) throw new IclitError(`${sources[i]}: ${r.experiment}/${r.model}/${r.condition}/repeat ${r.repeat} differs from the copy already merged`);
            identical++;
            continue;
          }
          existing.set(key, encodeRecord(r));
          const g = `${r.experiment}\u0000${r.model}\u0000${r.repeat}`;
          groups.set(g, [...(groups.get(g) ?? []), r]);
        }
        for (const group of groups.values()) {
          // the records' files first (each copied under a temporary name, then renamed), then the records
          for (const r of group) for (const rel of [r.states, r.adapter]) if (rel) copyArtifact(join(sources[i], rel), join(outDir, rel));
          out.saveRecords(group);
          added += group.length;
        }
      }
      const wall = manifests.reduce((a, m) => a + (m.wallSeconds ?? 0), 0);
      out.markFinished(wall);
      return { added, identical, sources: sources.length };
    } finally {
      out.close();
    }
  } finally {
    for (const s of opened) s.close();
  }
}
