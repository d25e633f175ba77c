// planWork against the real thing: the passes it counts are the blocks and training steps LlamaStudyBackend reports running, for every preset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultInstructionPool, loadDataset, type Dataset } from '../data/index.js';
import { blockFlops, headFlops, passFlops, type Pass } from '../models/index.js';
import { tinyConfig } from '../io/index.js';
import { tempDir } from '../util/testing.js';
import type { RecordSink, WorkEvent } from './backend.js';
import { PRESETS, resolveConditions, type Preset } from './conditions.js';
import { LORA_DEFAULTS } from '../lora/index.js';
import { LlamaStudyBackend } from './llama-backend.js';
import { DEFAULT_METHODS } from './methods.js';
import { runPlan, type StudyPlan } from './runner.js';
import { letterEmbedder, writeTinyStudy } from './testing.js';
import { planWork } from './work.js';

const root = tempDir(test, 'iclit-work-');
const tiny = writeTinyStudy(root);
let backend: LlamaStudyBackend;
let sst2: Dataset;
let wmt: Dataset;

test.before(async () => {
  backend = await LlamaStudyBackend.load(tiny.model);
  sst2 = await loadDataset(tiny.sst2, 'sentiment');
  wmt = await loadDataset(tiny.wmt, 'translation');
});
test.after(() => backend.dispose());

function planFor(p: Preset): StudyPlan {
  return {
    experiment: p.name,
    conditions: resolveConditions(p, p.fixedShots ? {} : { shots: 2, epochs: 2 }),
    repeats: 3,
    seed: 5,
    layers: p.allLayers ? 'all' : [-1],
    tune: { lr: 1e-3, lrSchedule: 'constant', weightDecay: 0, lora: { ...LORA_DEFAULTS, r: 4, alpha: 16 } },
    batch: 2,
    materials: { data: p.task === 'sentiment' ? sst2 : wmt, demoData: wmt, instructions: defaultInstructionPool(p.task), embedder: letterEmbedder(), similarityCandidates: 30 },
    methods: DEFAULT_METHODS,
    evalExamples: 4,
    configHash: 'cd'.repeat(32),
    save: { states: false, adapters: false },
  };
}

const nullSink: RecordSink = { isDone: () => false, save: () => undefined };

/** The events the passes would produce: each block's forward, then a step event after a step's blocks. */
function expectedEvents(passes: Pass[], layers: number): string[] {
  return passes.flatMap((p) => {
    const blocks = new Array<string>(p.kind === 'read' ? p.blocks : layers).fill(`block ${p.lengths.join(',')}`);
    return p.kind === 'step' ? [...blocks, `step ${p.lengths.join(',')}`] : blocks;
  });
}

test('for every preset, the counted passes are exactly the blocks and steps the backend runs (the order of a chunk\'s training texts aside: the loop shuffles them)', () => {
  for (const p of PRESETS) {
    const plan = planFor(p);
    const seen: string[] = [];
    backend.onWork = (e: WorkEvent) => seen.push(`${e.kind} ${e.lengths.join(',')}`);
    try {
      runPlan(plan, backend, nullSink);
    } finally {
      backend.onWork = undefined;
    }
    const passes = planWork(plan, { encode: (t) => backend.encode(t), numLayers: backend.numHiddenStates - 1, maxPositions: backend.maxPositions, vocabSize: backend.model.config.vocabSize });
    assert.ok(passes.some((x) => x.kind === 'step'), p.name);
    assert.deepEqual(expectedEvents(passes, backend.numHiddenStates - 1).sort(), seen.sort(), p.name);
  }
});

test('a finished unit costs no passes, as on resume', () => {
  const plan = planFor(PRESETS.find((p) => p.name === 'convergence')!);
  const all = planWork(plan, { encode: (t) => backend.encode(t), numLayers: 2, maxPositions: 1024, vocabSize: backend.model.config.vocabSize });
  const rest = planWork(plan, { encode: (t) => backend.encode(t), numLayers: 2, maxPositions: 1024, vocabSize: backend.model.config.vocabSize }, { isDone: (k) => k.repeat < 2 });
  // 3 repeats at batch 2: chunks {0,1} and {2}; with 0 and 1 done only the chunk of repeat 2 is left
  assert.equal(rest.length, all.length / 2);
  assert.ok(rest.every((x) => x.lengths.length === 1));
});

test('FLOPs of a pass by hand on a small config: projections, full L×L attention, adapters, LM head, backward as the parts need it', () => {
  const c = tinyConfig({ hiddenSize: 32, intermediateSize: 64, numHeads: 4, numKvHeads: 2, headDim: 8, numLayers: 2, vocabSize: 96 });
  const lengths = [3, 5];
  const N = 8;
  const linear = 2 * N * (32 * 32 + 2 * 32 * 16 + 32 * 32 + 3 * 32 * 64); // q, k+v (2 KV heads × 8), o, gate+up+down
  const attention = 4 * 4 * 8 * (9 + 25);
  const lora = 2 * N * 8 * (32 + 32) + 2 * N * 8 * (32 + 16); // q_proj (32→32), v_proj (32→16), r 8
  assert.deepEqual(blockFlops(c, lengths, { r: 8, targets: ['q_proj', 'v_proj'] }), { linear, attention, lora });
  assert.equal(headFlops(c, 6), 2 * 6 * 32 * 96);
  const L = { r: 8, targets: ['q_proj', 'v_proj'] };
  assert.equal(passFlops(c, { kind: 'read', lengths, blocks: 1, logitRows: 2, lora: false }, L), linear + attention + headFlops(c, 2));
  const fwd = 2 * (linear + attention + lora) + headFlops(c, 6);
  const bwd = 2 * (linear + 2 * attention + 2 * lora) + headFlops(c, 6);
  assert.equal(passFlops(c, { kind: 'step', lengths, logitRows: 6 }, L), fwd + bwd);
});
