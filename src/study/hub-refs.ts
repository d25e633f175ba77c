// A study's models and encoder named by hub id (`org/name[@revision]`): resolved to their snapshot folders in the local Hugging Face cache before anything is read, and recorded in the manifest (id, revision, snapshot).
import { resolveModelFolder, type HubModel } from '../io/index.js';
import type { Manifest, ManifestHub } from '../results/index.js';
import type { RunSettings } from './settings.js';

/** The settings with every hub id replaced by its snapshot folder; `names` label the models (a hub id's name, else the path). */
export interface ResolvedRefs {
  settings: RunSettings;
  names: string[];
  models: (ManifestHub | undefined)[];
  encoder?: ManifestHub;
}

function record(h: HubModel | undefined): ManifestHub | undefined {
  return h && { id: h.id, revision: h.revision, snapshot: h.snapshot };
}

/** Resolves `s.models` and `s.encoder` (a folder that exists always wins; never a download). */
export function resolveStudyRefs(s: RunSettings): ResolvedRefs {
  const hubs = s.models.map((m) => resolveModelFolder(m, 'model folder').hub);
  const enc = s.encoder ? resolveModelFolder(s.encoder, 'encoder folder').hub : undefined;
  return {
    settings: { ...s, models: s.models.map((m, i) => hubs[i]?.dir ?? m), encoder: enc?.dir ?? s.encoder },
    names: s.models.map((m, i) => hubs[i]?.id ?? m),
    models: hubs.map(record),
    encoder: record(enc),
  };
}

/** Writes into `m` where each model (and the encoder) came from when it was named by hub id. */
export function recordHubs(m: Manifest, refs: ResolvedRefs): Manifest {
  m.models.forEach((x, i) => {
    if (refs.models[i]) x.hub = refs.models[i];
  });
  const enc = m.data.find((d) => d.role === 'encoder');
  if (enc && refs.encoder) enc.hub = refs.encoder;
  return m;
}
