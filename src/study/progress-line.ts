// The progress line's text, importing nothing: the ticker's worker thread composes it too (without loading libtorch).

/** 1h05m / 4m05s / 12s; '--' when unknown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** `<head>  elapsed <elapsed>  ETA <eta>`: the head says where the run is (model, bar, repeats, share of the work). */
export function composeLine(head: string, elapsedMs: number, etaMs: number): string {
  return `${head}  elapsed ${formatDuration(elapsedMs)}  ETA ${formatDuration(etaMs)}`;
}
