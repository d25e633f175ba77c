// runPlan: computes every unfinished repeat of a plan through a StudyBackend and saves each repeat's units through a sink.
/*
 * A plan is computed in chunks of `batch` repeats (the repeats of one condition tune together as one batch of
 * adapters). One chunk, in order:
 *
 *   1. draw       each repeat's units: instruction, inference example B, demonstrations A, prompts   (units.ts)
 *   2. tokenize   every prompt once
 *   3. anchor     the base model reads X + B — once per repeat, the same for every condition
 *   then for each condition, all repeats of the chunk together:
 *   4. ICL        the base model reads X + A + label(A) + B
 *   5. IT         one LoRA adapter per repeat is tuned on X + A + label(A); X + B is read through it
 *   6. measures   the three cosines and the update cosine per layer; accuracy over the evaluation set and the
 *                 per-token loss decrease where the condition asks                                    (measures.ts);
 *                 next-token and last-token attention agreement, from the same three reads          (agreement.ts);
 *                 the anchor run patched at every layer with the ICL / IT states (patching preset)   (patching.ts)
 *   7. save       each repeat's units — records, hidden states, adapters — in one sink call
 *   8. release    cached tensor memory goes back, so a long study's memory stays flat
 */
import { deriveSeed } from '../data/index.js';
import { resolveHiddenStates, type HiddenStateSpec } from '../models/index.js';
import { IclitError } from '../util/errors.js';
import { AGREEMENT_READ, agreementOf } from './agreement.js';
import type { PromptRead, RecordSink, StudyBackend, TuneSettings, TuneText, UnitResult } from './backend.js';
import type { Condition } from './conditions.js';
import { itAdapters } from './controls.js';
import { checkStates } from './degenerate.js';
import { accuracyOf, answerStart, instructionTokens, lossDecreaseByPart, similarities } from './measures.js';
import type { Methods } from './methods.js';
import { patchingOf, type PatchingItem } from './patching.js';
import { checkLength, type PromptKind } from './preflight.js';
import type { RepeatRecord } from './record.js';
import { unitExtra } from './record.js';
import { candidatePool, drawRepeats, renderUnit, repeatUnits, taskMaterials, type CandidatePool, type DrawnRepeats, type StudyMaterials, type Unit } from './units.js';
import { chunked } from '../util/group.js';

/** Everything one model's run needs besides the backend. */
export interface StudyPlan {
  /** Preset name (the records' `experiment`). */
  experiment: string;
  conditions: Condition[];
  repeats: number;
  seed: number;
  /** HF hidden-state indices to measure (negatives count from the end), or 'all'. */
  layers: HiddenStateSpec;
  /** LoRA / optimiser settings (epochs come from each condition). */
  tune: Omit<TuneSettings, 'epochs'>;
  /** Repeats of one condition tuned together as one batch of adapters (the repeats still to do, taken in order); it changes records only in float rounding. */
  batch: number;
  materials: StudyMaterials;
  methods: Methods;
  /** Accuracy conditions: evaluation examples per repeat. */
  evalExamples: number;
  /** Stamped on every record: the manifest's config hash. */
  configHash: string;
  /** Hand the sink each unit's hidden states / adapter weights to store. */
  save: { states: boolean; adapters: boolean };
  /** The repeats already drawn (drawRepeats over these materials, conditions, seed and repeats); drawn here when absent. */
  drawn?: DrawnRepeats;
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
  /** The run of the untrained control's conditions on the model's untrained copy (a second run on the same model). */
  untrained?: true;
}

export interface RunOptions {
  onProgress?: (e: ProgressEvent) => void;
  /**
   * Only this worker's share of the repeats: repeat r belongs to worker r mod count (whatever each worker's
   * batch). Workers launched by a job engine (Slurm arrays, GNU parallel, …) write separate folders that
   * `iclit merge` combines; the records equal those of a single run.
   */
  shard?: { index: number; count: number };
}

export interface RunSummary {
  computed: number;
  skipped: number;
  records: number;
  /** The repeats this run computed (some of their conditions were missing), in order. */
  computedRepeats: number[];
}

/** A unit with its prompts tokenized. */
interface Tokenized {
  unit: Unit;
  anchor: number[];
  icl: number[];
  tuning: TuneText[];
}

/** Renders a unit for the backend's model and tokenizes it; refuses a prompt longer than the model's positions, naming the data rows it holds (file:line). */
function tokenize(plan: StudyPlan, backend: StudyBackend, drawnUnit: Unit): Tokenized {
  const unit = renderUnit(drawnUnit, backend.chat);
  const encode = (text: string, prompt: PromptKind): number[] => checkLength(plan.materials, backend, unit, prompt, backend.encode(text));
  const tuning = unit.tuning.map((p): TuneText => {
    const ids = encode(p.text, 'tuning');
    if (plan.methods.tuneLoss === 'all') return { ids };
    const from = answerStart(backend, p, ids);
    return { ids, lossMask: ids.map((_, t) => (t >= from ? 1 : 0)) };
  });
  return { unit, anchor: encode(unit.anchor.text, 'anchor'), icl: unit.empty ? [] : encode(unit.icl.text, 'ICL'), tuning };
}

/** A repeat as patchingOf reads it: its prompts, states and the three reads' last-token logits (AGREEMENT_READ asks for them). */
function patchingItem(x: Tokenized, layers: number[], anchor: PromptRead, icl: PromptRead, it: PromptRead): PatchingItem {
  if (!anchor.logits || !icl.logits || !it.logits) throw new Error('patching: a read without its logits'); // a bug, not bad input
  return { anchor: x.anchor, icl: x.icl, states: { layers, anchor: anchor.hidden, icl: icl.hidden, it: it.hidden }, outputs: { anchor: anchor.logits, icl: icl.logits, it: it.logits } };
}

/** Steps 4–6 for one condition over a chunk of repeats: ICL, IT and the measures; one result per unit. */
function runCondition(plan: StudyPlan, backend: StudyBackend, layers: number[], items: Tokenized[], anchorReads: Map<number, PromptRead>): UnitResult[] {
  const t0 = performance.now();
  const c = items[0].unit.condition;
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
    tokenCounts: { anchor: x.anchor.length, icl: x.icl.length, tuning: x.tuning.map((t) => t.ids.length) },
    millis: 0,
    extra: unitExtra(x.unit),
    configHash: plan.configHash,
    ...over,
  });
  const out: UnitResult[] = items.filter((x) => x.unit.empty).map((x) => ({ record: recordOf(x, {}) }));
  const computed = items.filter((x) => !x.unit.empty); // units with demonstrations (an empty bin has none)
  if (computed.length > 0) {
    // 4. ICL: the base model reads X + A + label(A) + B.
    const icl = backend.read(computed.map((x) => x.icl), layers, AGREEMENT_READ);
    // 5. IT: one adapter per repeat tuned on its tuning texts, then X + B read through it.
    //    (the random-adapter control reads through the tuned adapters turned to random directions: controls.ts)
    const tuned = itAdapters(backend.tune({
      texts: computed.map((x) => x.tuning),
      seeds: computed.map((x) => deriveSeed(x.unit.seed, 'lora')),
      shuffleSeed: deriveSeed(plan.seed, 'tune-shuffle'),
      settings: { ...plan.tune, epochs: c.epochs },
    }), c, computed.map((x) => deriveSeed(x.unit.seed, 'random-adapter')));
    try {
      const it = tuned.read(computed.map((x) => x.anchor), layers, AGREEMENT_READ);
      // 6. measures (patching: every repeat's patched reads batched together)
      const patching = c.measures.patching ? patchingOf(backend, computed.map((x, n) => patchingItem(x, layers, anchorReads.get(x.unit.repeat)!, icl[n], it[n]))) : undefined;
      computed.forEach((x, n) => {
        const reads = { anchor: anchorReads.get(x.unit.repeat)!, icl: icl[n], it: it[n] };
        const states = { layers, anchor: reads.anchor.hidden, icl: reads.icl.hidden, it: reads.it.hidden };
        checkStates(states, { model: backend.label, layers, condition: c.name, repeat: x.unit.repeat });
        const record = recordOf(x, { ...similarities(states), ...agreementOf(backend, x.unit, x, reads), tuneLoss: tuned.tuneLoss[n] });
        if (patching) record.patching = patching[n];
        if (x.unit.evaluation) record.accuracy = accuracyOf(backend, tuned, n, x.unit.evaluation);
        if (c.measures.tokenLoss) {
          const texts = x.tuning.map((t) => t.ids);
          const tunedLosses = tuned.tokenLosses(texts, texts.map(() => n));
          const counts = x.unit.tuning.map((p, j) => instructionTokens(backend, p, texts[j]));
          record.lossDecrease = lossDecreaseByPart(backend.tokenLosses(texts), tunedLosses, counts);
        }
        out.push({ record, states: plan.save.states ? states : undefined, adapter: plan.save.adapters ? tuned.weights(n) : undefined });
      });
    } finally {
      tuned.dispose();
    }
  }
  const each = (performance.now() - t0) / items.length;
  for (const r of out) r.record.millis = each;
  return out;
}

/**
 * The repeats this run computes (missing conditions per repeat) and how many are already done: only the conditions
 * of the backend's weights (the untrained control's conditions run on the untrained backend, the others on the model).
 */
function todoOf(plan: StudyPlan, backend: StudyBackend, sink: RecordSink, shard?: RunOptions['shard']): { todo: Map<number, Condition[]>; skipped: number } {
  const todo = new Map<number, Condition[]>();
  const model = backend.label;
  const mine = plan.conditions.filter((c) => (c.weights ?? 'trained') === (backend.weights ?? 'trained'));
  let skipped = 0;
  // by repeat, so shards never depend on --batch; only the shard's repeats are visited (a huge --repeats with a small shard starts at once)
  for (let r = shard?.index ?? 0; r < plan.repeats; r += shard?.count ?? 1) {
    const missing = mine.filter((c) => !sink.isDone({ experiment: plan.experiment, condition: c.name, repeat: r, model }));
    if (missing.length > 0) todo.set(r, missing);
    else skipped++;
  }
  return { todo, skipped };
}

/** Steps 1–7 for one chunk of repeats; calls `saved` after each repeat's units are stored. */
function runChunk(plan: StudyPlan, drawn: DrawnRepeats, backend: StudyBackend, layers: number[], repeats: number[], todo: Map<number, Condition[]>, pool: CandidatePool | undefined, sink: RecordSink, saved: (repeat: number, records: number) => void): void {
  // 1–2. the repeat's units (drawn before the run; the similarity bins drawn now, with the encoder) and their tokens
  const byCondition = new Map<string, Tokenized[]>();
  const anchorIds = new Map<number, number[]>();
  for (const r of repeats) {
    const wanted = todo.get(r)!;
    const bins = wanted.filter((c) => c.bin !== undefined);
    const units = [
      // a repeat outside the shard the study was opened for is drawn now (the same draw: by seed and repeat)
      ...(drawn.units[r] ??= repeatUnits(plan.conditions.filter((c) => c.bin === undefined), drawn.tasks, plan.seed, r, { all: plan.conditions, evalExamples: plan.evalExamples, repeats: plan.repeats })).filter((u) => wanted.some((c) => c.name === u.condition.name)),
      ...(bins.length > 0 ? repeatUnits(bins, drawn.tasks, plan.seed, r, { pool, all: plan.conditions, evalExamples: plan.evalExamples, repeats: plan.repeats }) : []),
    ];
    for (const unit of units) {
      const tok = tokenize(plan, backend, unit);
      anchorIds.set(r, tok.anchor);
      byCondition.set(unit.condition.name, [...(byCondition.get(unit.condition.name) ?? []), tok]);
    }
  }
  // 3. anchor: X + B is the same for every condition of a repeat
  const anchorRead = backend.read(repeats.map((r) => anchorIds.get(r)!), layers, AGREEMENT_READ);
  const anchorReads = new Map(repeats.map((r, i) => [r, anchorRead[i]]));
  // 4–6 per condition
  const byRepeat = new Map<number, UnitResult[]>(repeats.map((r) => [r, []]));
  for (const c of plan.conditions) {
    const items = byCondition.get(c.name);
    if (items) for (const res of runCondition(plan, backend, layers, items, anchorReads)) byRepeat.get(res.record.repeat)!.push(res);
  }
  // 7. save
  for (const r of repeats) {
    const group = byRepeat.get(r)!;
    sink.save(group);
    saved(r, group.length);
  }
}

/**
 * Runs `plan` on `backend`: every repeat whose conditions are not all in `sink` is computed (only its missing
 * conditions), in chunks of `plan.batch` of the repeats still to do, in order; each finished repeat's units go to
 * `sink.save` in one call.
 */
export function runPlan(plan: StudyPlan, backend: StudyBackend, sink: RecordSink, opts: RunOptions = {}): RunSummary {
  if (!Number.isInteger(plan.repeats) || plan.repeats < 1) throw new IclitError(`repeats must be a positive integer, got ${plan.repeats}`);
  if (!Number.isInteger(plan.batch) || plan.batch < 1) throw new IclitError(`batch must be a positive integer, got ${plan.batch}`);
  const shard = opts.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new IclitError(`shard ${shard.index}/${shard.count} is invalid (want 0 ≤ index < count)`);
  }
  const layers = resolveHiddenStates(plan.layers, backend.numHiddenStates);
  const model = backend.label;
  const { todo, skipped } = todoOf(plan, backend, sink, shard);
  const total = todo.size;
  const start = performance.now();
  let done = 0;
  let records = 0;
  const emit = (repeat: number): void => {
    const elapsedMs = performance.now() - start;
    opts.onProgress?.({ model, done, total, skipped, repeat, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (total - done) : NaN, ...(backend.weights === 'untrained' ? { untrained: true as const } : {}) });
  };
  emit(-1);
  if (total === 0) return { computed: 0, skipped, records: 0, computedRepeats: [] };
  const given = plan.drawn ?? drawRepeats(plan.conditions, taskMaterials(plan.materials, plan.methods), plan.seed, plan.repeats, plan.evalExamples, shard);
  // The sentence encoder is loaded after the draw (study.run); the bins draw through the plan's.
  const drawn: DrawnRepeats = { ...given, tasks: { ...given.tasks, embedder: plan.materials.embedder ?? given.tasks.embedder } };
  if (drawn.units.length !== plan.repeats) throw new IclitError(`the drawn plan holds ${drawn.units.length} repeats, the run ${plan.repeats}`);
  const pool = drawn.binned ? candidatePool(drawn.tasks, plan.seed) : undefined;
  // chunks of the repeats still to do, in order: a resumed run or a shard packs full chunks too
  const order = [...todo.keys()];
  for (const repeats of chunked(order, plan.batch)) {
    runChunk(plan, drawn, backend, layers, repeats, todo, pool, sink, (r, n) => {
      records += n;
      done++;
      emit(r);
    });
    // 8. release cached tensor memory between chunks
    backend.releaseMemory();
  }
  return { computed: done, skipped, records, computedRepeats: order };
}
