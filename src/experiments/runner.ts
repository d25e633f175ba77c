// runStudy: computes every unfinished repeat of a plan through a StudyBackend and saves each repeat group through a sink.
import { deriveSeed } from '../data/sampling.js';
import { SENTIMENT_LABEL_WORDS, type Prompt } from '../data/prompts.js';
import { IclitError } from '../util/errors.js';
import { cosine, updateCosine } from '../stats/index.js';
import type { StudyBackend, TuneSettings } from './backend.js';
import type { Condition } from './conditions.js';
import type { RepeatRecord } from './record.js';
import { candidatePool, repeatUnits, type CandidatePool, type StudyMaterials, type Unit } from './units.js';

/** Everything one model's run needs besides the backend. */
export interface StudyPlan {
  /** Preset name (the records' `experiment`). */
  experiment: string;
  conditions: Condition[];
  repeats: number;
  seed: number;
  /** HF hidden-state indices to measure, or 'all'. */
  layers: number[] | 'all';
  /** LoRA / optimiser settings (epochs come from each condition). */
  tune: Omit<TuneSettings, 'epochs'>;
  /** Repeats of one condition tuned together as one batch of adapters (chunks are aligned to multiples of it). */
  batch: number;
  materials: StudyMaterials;
  /** The manifest's configHash, stamped on every record ('' when the caller keeps no manifest). */
  configHash?: string;
}

/** The unit of resume: one repeat of one condition on one model. */
export interface StudyUnitKey {
  experiment: string;
  condition: string;
  repeat: number;
  model: string;
}

/** Where finished records go (src/results' RunSink fits it; the runner does not import src/results). */
export interface StudySink {
  isDone(key: StudyUnitKey): boolean;
  /** All conditions of one repeat, stored atomically. */
  save(records: RepeatRecord[]): void;
}

export interface ProgressEvent {
  model: string;
  /** Repeat groups finished in this run / to do in this run (groups already done before are not counted). */
  done: number;
  total: number;
  /** Groups found already finished and skipped. */
  skipped: number;
  /** The repeat just saved (−1 for the start event). */
  repeat: number;
  elapsedMs: number;
  /** Estimated milliseconds left (NaN before the first group finishes). */
  etaMs: number;
}

export interface RunOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** Recompute units even when the sink has them (used with --force). */
  recompute?: boolean;
  /**
   * Only this worker's share of the repeats: chunk c (repeats c·batch … c·batch+batch−1) belongs to worker
   * c mod count. Workers launched by a job engine (Slurm arrays, GNU parallel, …) write separate folders that
   * `iclit merge` combines; the records equal those of a single run.
   */
  shard?: { index: number; count: number };
}

export interface RunSummary {
  computed: number;
  skipped: number;
  records: number;
}

/** Resolves 'all' and checks indices against the model. */
export function resolveLayers(layers: number[] | 'all', numHiddenStates: number): number[] {
  if (layers === 'all') return [...Array(numHiddenStates).keys()];
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= numHiddenStates) throw new IclitError(`layer ${l} is out of range for a model with ${numHiddenStates} hidden states (0..${numHiddenStates - 1})`);
  }
  return [...layers];
}

export { cosine };

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The first token the model would emit for `word` after `promptIds` (the answer follows a space): its id. */
function answerToken(backend: StudyBackend, promptText: string, promptIds: number[], word: string): number {
  const full = backend.encode(`${promptText} ${word}`);
  const at = commonPrefix(promptIds, full);
  if (at >= full.length) throw new IclitError(`cannot find the first token of label word '${word}' after the prompt`);
  return full[at];
}

/** Number of leading tokens of a tuning text that belong to its instruction part (0 without one). */
function instructionTokens(backend: StudyBackend, p: Prompt, ids: number[]): number {
  const part = p.parts.find((q) => q.kind === 'instruction');
  if (!part) return 0;
  return commonPrefix(backend.encode(p.text.slice(part.start, part.end)), ids);
}

/** Mean loss decrease (base − tuned) over the instruction tokens and over the rest, pooled over a unit's texts. */
function lossDecrease(base: number[][], tuned: number[][], instrCounts: number[]): { instruction: number; example: number } {
  let si = 0;
  let ni = 0;
  let se = 0;
  let ne = 0;
  base.forEach((b, j) => {
    // loss t predicts token t + 1: it belongs to the part of token t + 1
    for (let t = 0; t < b.length; t++) {
      const d = b[t] - tuned[j][t];
      if (t + 1 < instrCounts[j]) {
        si += d;
        ni++;
      } else {
        se += d;
        ne++;
      }
    }
  });
  return { instruction: ni ? si / ni : NaN, example: ne ? se / ne : NaN };
}

interface Tokenized {
  unit: Unit;
  anchor: number[];
  icl: number[];
  tuning: number[][];
}

/** Computes every unit of one condition for a chunk of repeats (one batch of adapters); returns records by repeat. */
function runCondition(plan: StudyPlan, backend: StudyBackend, layers: number[], items: Tokenized[], anchorHidden: Map<number, Float32Array[]>, anchorLogits: Map<number, number[]>): RepeatRecord[] {
  const t0 = performance.now();
  const c = items[0].unit.condition;
  const live = items.filter((x) => !x.unit.empty);
  const out: RepeatRecord[] = [];
  const nan = layers.map(() => NaN);
  const recordOf = (x: Tokenized, over: Partial<RepeatRecord>): RepeatRecord => ({
    experiment: plan.experiment,
    condition: c.name,
    repeat: x.unit.repeat,
    seed: x.unit.seed,
    model: backend.label,
    layers,
    simAnchorIcl: nan,
    simAnchorIt: nan,
    simIclIt: nan,
    simUpdate: nan,
    prompts: { anchor: x.unit.anchor.text, icl: x.unit.icl.text, tuning: x.unit.tuning.map((p) => p.text) },
    tokenCounts: { anchor: x.anchor.length, icl: x.icl.length, tuning: x.tuning.map((t) => t.length) },
    millis: 0,
    extra: x.unit.extra,
    configHash: plan.configHash ?? '',
    ...over,
  });
  for (const x of items.filter((y) => y.unit.empty)) out.push(recordOf(x, {}));
  if (live.length > 0) {
    const iclHidden = backend.hidden(live.map((x) => x.icl), layers);
    const accuracy = c.measures.accuracy && c.inferenceTask === 'sentiment';
    let labelTokens: { anchor: number[]; icl: number[] }[] = [];
    let iclLogits: number[][] = [];
    if (accuracy) {
      labelTokens = live.map((x) => ({
        anchor: SENTIMENT_LABEL_WORDS.map((w) => answerToken(backend, x.unit.anchor.text, x.anchor, w)),
        icl: SENTIMENT_LABEL_WORDS.map((w) => answerToken(backend, x.unit.icl.text, x.icl, w)),
      }));
      iclLogits = backend.lastLogits(live.map((x) => x.icl), labelTokens.map((l) => l.icl));
    }
    const baseLosses = c.measures.tokenLoss ? live.map((x) => backend.tokenLosses(x.tuning)) : [];
    const tuned = backend.tune({
      texts: live.map((x) => x.tuning),
      seeds: live.map((x) => deriveSeed(x.unit.seed, 'lora')),
      // Not tied to the chunk: with dropout 0 a repeat's result does not depend on which repeats share its batch.
      seed: deriveSeed(plan.seed, 'tune', c.name),
      settings: { ...plan.tune, epochs: c.epochs },
      hiddenPrompts: live.map((x) => x.anchor),
      layers,
      logitPrompts: accuracy ? live.map((x) => x.anchor) : undefined,
      logitTokens: accuracy ? labelTokens.map((l) => l.anchor) : undefined,
      lossTexts: c.measures.tokenLoss ? live.map((x) => x.tuning) : undefined,
    });
    live.forEach((x, n) => {
      const a = anchorHidden.get(x.unit.repeat)!;
      const i = iclHidden[n];
      const t = tuned.hidden![n];
      const rec = recordOf(x, {
        simAnchorIcl: layers.map((_, l) => cosine(a[l], i[l])),
        simAnchorIt: layers.map((_, l) => cosine(a[l], t[l])),
        simIclIt: layers.map((_, l) => cosine(i[l], t[l])),
        simUpdate: layers.map((_, l) => updateCosine(a[l], i[l], t[l])),
        tuneLoss: tuned.tuneLoss[n],
      });
      if (accuracy) {
        const gold = x.unit.goldLabel!;
        const right = (logits: number[]): number => (logits[gold] > logits[1 - gold] ? 1 : 0);
        // zero-shot logits at the anchor prompt are condition-independent: computed once per repeat
        let zs = anchorLogits.get(x.unit.repeat);
        if (!zs) {
          zs = backend.lastLogits([x.anchor], [labelTokens[n].anchor])[0];
          anchorLogits.set(x.unit.repeat, zs);
        }
        // One evaluation example (the inference example B) per repeat until the evaluation set lands (issue 12.4).
        rec.accuracy = { zeroShot: right(zs), icl: right(iclLogits[n]), it: right(tuned.logits![n]), n: 1 };
        rec.extra = { ...rec.extra, labelTokens: labelTokens[n].anchor.join(',') };
      }
      if (c.measures.tokenLoss) {
        const counts = x.unit.tuning.map((p, j) => instructionTokens(backend, p, x.tuning[j]));
        rec.lossDecrease = lossDecrease(baseLosses[n], tuned.losses![n], counts);
      }
      out.push(rec);
    });
  }
  const each = (performance.now() - t0) / items.length;
  for (const r of out) r.millis = each;
  return out;
}

/**
 * Runs `plan` on `backend`: every repeat whose conditions are not all in `sink` is computed (only its missing
 * conditions), in chunks of `plan.batch` repeats aligned to multiples of it, each condition of a chunk as one batch
 * of adapters; each finished repeat's records go to `sink.save` in one call.
 */
export function runStudy(plan: StudyPlan, backend: StudyBackend, sink: StudySink, opts: RunOptions = {}): RunSummary {
  if (!Number.isInteger(plan.repeats) || plan.repeats < 1) throw new IclitError(`repeats must be a positive integer, got ${plan.repeats}`);
  if (!Number.isInteger(plan.batch) || plan.batch < 1) throw new IclitError(`batch must be a positive integer, got ${plan.batch}`);
  const layers = resolveLayers(plan.layers, backend.numHiddenStates);
  const model = backend.label;
  const todo = new Map<number, Condition[]>();
  let skipped = 0;
  const shard = opts.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new IclitError(`shard ${shard.index}/${shard.count} is invalid (want 0 ≤ index < count)`);
  }
  for (let r = 0; r < plan.repeats; r++) {
    if (shard && Math.floor(r / plan.batch) % shard.count !== shard.index) continue;
    const missing = plan.conditions.filter((c) => opts.recompute || !sink.isDone({ experiment: plan.experiment, condition: c.name, repeat: r, model }));
    if (missing.length > 0) todo.set(r, missing);
    else skipped++;
  }
  const total = todo.size;
  const start = performance.now();
  let done = 0;
  let records = 0;
  const emit = (repeat: number): void => {
    const elapsedMs = performance.now() - start;
    opts.onProgress?.({ model, done, total, skipped, repeat, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (total - done) : NaN });
  };
  emit(-1);
  if (total === 0) return { computed: 0, skipped, records: 0 };
  let pool: CandidatePool | undefined;
  if (plan.conditions.some((c) => c.bin !== undefined)) pool = candidatePool(plan.materials, plan.seed);

  const chunks = new Map<number, number[]>();
  for (const r of todo.keys()) {
    const k = Math.floor(r / plan.batch);
    chunks.set(k, [...(chunks.get(k) ?? []), r]);
  }
  for (const repeats of chunks.values()) {
    const byRepeat = new Map<number, RepeatRecord[]>(repeats.map((r) => [r, []]));
    const items = new Map<string, Tokenized[]>();
    const anchorIds = new Map<number, number[]>();
    for (const r of repeats) {
      for (const unit of repeatUnits(todo.get(r)!, plan.materials, plan.seed, r, pool, plan.conditions)) {
        const tok: Tokenized = { unit, anchor: backend.encode(unit.anchor.text), icl: unit.empty ? [] : backend.encode(unit.icl.text), tuning: unit.tuning.map((p) => backend.encode(p.text)) };
        anchorIds.set(r, tok.anchor);
        const list = items.get(unit.condition.name) ?? [];
        list.push(tok);
        items.set(unit.condition.name, list);
      }
    }
    // The anchor X + B is the same for every condition of a repeat: read it once per repeat.
    const anchorVecs = backend.hidden(repeats.map((r) => anchorIds.get(r)!), layers);
    const anchorHidden = new Map(repeats.map((r, i) => [r, anchorVecs[i]]));
    const anchorLogits = new Map<number, number[]>();
    for (const c of plan.conditions) {
      const list = items.get(c.name);
      if (!list) continue;
      for (const rec of runCondition(plan, backend, layers, list, anchorHidden, anchorLogits)) byRepeat.get(rec.repeat)!.push(rec);
    }
    for (const r of repeats) {
      const group = byRepeat.get(r)!;
      sink.save(group);
      records += group.length;
      done++;
      emit(r);
    }
  }
  return { computed: done, skipped, records };
}
