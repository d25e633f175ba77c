// `iclit run paper`: every experiment of the paper as one results tree (one folder per preset), built from the per-preset studies.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PAPER_CONTROLS, PAPER_ORDER, PRESETS, type Preset, type ProgressEvent, type WorkEvent } from '../experiments/index.js';

export { PAPER_ORDER };
import { UsageError } from '../util/errors.js';
import type { RunSettings } from './settings.js';
import { estimateStudy, type StudyEstimate } from './estimate.js';
import { formatDuration } from './progress-line.js';
import { openStudy, type OpenOptions, type Study, type StudySummary } from './study.js';

/** The name of the whole-paper target of `iclit run`. */
export const PAPER_TARGET = 'paper';


/** One preset of the paper: where its folder goes and the settings it runs with. */
export interface PaperPart {
  preset: Preset;
  /** The paper's figures and footnotes its records test. */
  figures: string[];
  dir: string;
  settings: RunSettings;
}

export interface PaperPlan {
  parts: PaperPart[];
  /** Presets left out, each with what it lacks (said before anything runs). */
  skipped: { preset: string; figures: string[]; missing: string }[];
}

const figuresOf = (preset: Preset): string[] => preset.figure.split(', ');

/**
 * The per-preset settings of the whole paper under `out`: sentiment presets read --data, translation reads
 * --translation-data, cross-task takes its demonstrations from --translation-data, demo-similarity needs --encoder.
 * --shots / --epochs reach only the presets that let them be set; --instructions (one pool) only the sentiment
 * presets; --controls only the presets of PAPER_CONTROLS (convergence). A preset whose input is missing is skipped,
 * and says what it lacks.
 */
export function paperPlan(s: RunSettings, out: string): PaperPlan {
  const parts: PaperPart[] = [];
  const skipped: PaperPlan['skipped'] = [];
  for (const name of PAPER_ORDER) {
    const preset = PRESETS.find((p) => p.name === name)!;
    const figures = figuresOf(preset);
    const data = preset.task === 'translation' ? s.translationData : s.data;
    const missing = [
      !data && (preset.task === 'translation' ? '--translation-data' : '--data'),
      preset.needs.includes('demoData') && !s.translationData && '--translation-data',
      preset.needs.includes('encoder') && !s.encoder && '--encoder',
    ].filter((x): x is string => typeof x === 'string');
    if (missing.length > 0) {
      skipped.push({ preset: name, figures, missing: [...new Set(missing)].join(' and ') });
      continue;
    }
    const settings: RunSettings = {
      ...s,
      preset: name,
      data,
      demoData: preset.needs.includes('demoData') ? s.translationData : undefined,
      encoder: preset.needs.includes('encoder') ? s.encoder : undefined,
      instructions: preset.task === 'sentiment' ? s.instructions : undefined,
      layers: preset.allLayers ? 'all' : s.layers,
      shots: preset.fixedShots ? undefined : s.shots,
      epochs: preset.fixedEpochs ? undefined : s.epochs,
      controls: PAPER_CONTROLS.includes(name) ? s.controls : [],
    };
    parts.push({ preset, figures, dir: join(out, name), settings });
  }
  if (parts.length === 0) throw new UsageError(`iclit run paper: nothing to run (${skipped.map((x) => `${x.preset} needs ${x.missing}`).join('; ')})`);
  return { parts, skipped };
}

export interface PaperStudy {
  plan: PaperPlan;
  studies: Study[];
  run(opts?: {
    shard?: { index: number; count: number };
    /** A preset's study is about to run (its index in `studies`). */
    onStart?: (preset: string, index: number) => void;
    onProgress?: (e: ProgressEvent, model: number, preset: string) => void;
    onWork?: (e: WorkEvent, model: number, preset: string) => void;
    onPreset?: (preset: string, s: StudySummary) => void;
  }): Promise<StudySummary>;
  close(): void;
}

/**
 * Opens every preset's study (each runs all its checks — data, models, templates — then opens its own folder), so a
 * bad input is refused before any computing starts; when a later preset is refused, the folders this call created
 * (new, nothing computed in them) are removed again, so a refused start leaves nothing behind. Then runs them one
 * after the other. Each folder resumes and shards like any `iclit run`.
 */
export async function openPaper(s: RunSettings, out: string, opts: OpenOptions = {}): Promise<PaperStudy> {
  const plan = paperPlan(s, out);
  const outExisted = existsSync(out);
  const studies: Study[] = [];
  // only folders this call creates may be removed again: one that existed may hold states or adapters of a killed run
  const created = new Set(plan.parts.filter((part) => !existsSync(part.dir)).map((part) => part.dir));
  try {
    for (const part of plan.parts) studies.push(await openStudy(part.settings, part.dir, opts));
  } catch (e) {
    for (const st of studies) {
      st.close();
      if (st.action === 'new' && created.has(st.dir)) rmSync(st.dir, { recursive: true, force: true });
    }
    if (!outExisted && existsSync(out) && readdirSync(out).length === 0) rmSync(out, { recursive: true, force: true });
    throw e;
  }
  return {
    plan,
    studies,
    async run(ro = {}) {
      let computed = 0;
      let skipped = 0;
      let wallSeconds = 0;
      for (const [index, st] of studies.entries()) {
        ro.onStart?.(st.preset.name, index);
        const name = st.preset.name;
        const r = await st.run({ shard: ro.shard, onProgress: (e, i) => ro.onProgress?.(e, i, name), onWork: ro.onWork && ((e, i) => ro.onWork!(e, i, name)) });
        ro.onPreset?.(st.preset.name, r);
        computed += r.computed;
        skipped += r.skipped;
        wallSeconds += r.wallSeconds;
      }
      return { computed, skipped, wallSeconds };
    },
    close() {
      for (const st of studies) st.close();
    },
  };
}

/**
 * The whole paper's estimate without writing anything (`iclit run paper --dry-run`): every preset's checks and
 * estimate (estimateStudy) in the paper's order, with the presets the inputs leave out.
 */
export async function estimatePaper(s: RunSettings, out: string, opts: { shard?: { index: number; count: number } } = {}): Promise<{ plan: PaperPlan; estimates: StudyEstimate[] }> {
  const plan = paperPlan(s, out);
  const estimates: StudyEstimate[] = [];
  for (const part of plan.parts) estimates.push(await estimateStudy(part.settings, opts));
  return { plan, estimates };
}

/** The one line before the whole paper runs: experiments, FLOPs, time on this device and the largest peak memory. */
export function paperEstimateLine(estimates: readonly StudyEstimate[]): string {
  const flops = estimates.reduce((a, e) => a + e.flops, 0);
  const seconds = estimates.reduce((a, e) => a + e.seconds, 0);
  const memory = Math.max(0, ...estimates.map((e) => e.memory));
  const e0 = estimates[0];
  return (
    `estimate: the paper, ${estimates.length} experiment(s) (${estimates.map((e) => `${e.preset} ≈ ${formatDuration(e.seconds * 1000)}`).join(', ')}): ` +
    `${(flops / 1e12).toFixed(2)} TFLOP, ≈ ${formatDuration(seconds * 1000)} on ${e0?.device ?? '-'} in ${e0?.dtype ?? '-'} (model loading not counted), ` +
    `peak memory ≈ ${(memory / 2 ** 30).toFixed(1)} GiB`
  );
}
