// What the output and attention agreement measures add to a convergence repeat: the study run itself (runPlan over LlamaStudyBackend, 135M shape) with and without them, rounds interleaved in one process.
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SENTIMENT_LABEL_WORDS, loadDataset, defaultInstructionPool } from '../src/data/index.js';
import { AGREEMENT_READ, DEFAULT_METHODS, STUDY_DEFAULTS, agreementOf, findPreset, resolveConditions, runPlan, type PromptRead, type ReadOptions, type RecordSink, type StudyBackend, type StudyPlan, type TuneRequest, type TunedAdapters } from '../src/experiments/index.js';
import { LlamaStudyBackend } from '../src/experiments/llama-backend.js';
import { sharedDir } from '../src/util/testing.js';
import { prepareSmolLM2 } from './forward.js';
import { STUDY_EPOCHS, STUDY_LR } from './study-loop.js';
import type { BenchResult } from './types.js';
import type { RepeatRecord } from '../src/experiments/record.js';

const REPEATS = Number(process.env.ICLIT_BENCH_AGREEMENT_REPEATS ?? STUDY_DEFAULTS.batch);
const ROUNDS = Number(process.env.ICLIT_BENCH_AGREEMENT_ROUNDS ?? 3);

/** Tuned adapters whose reads drop the request for logits and attention (hidden states only, as before the measures). */
class PlainAdapters implements TunedAdapters {
  constructor(readonly t: TunedAdapters) {}
  get count(): number {
    return this.t.count;
  }
  get tuneLoss(): number[] {
    return this.t.tuneLoss;
  }
  hidden(p: number[][], l: number[], of?: number[]): Float32Array[][] {
    return this.t.hidden(p, l, of);
  }
  read(p: number[][], l: number[], _opts?: ReadOptions, of?: number[]): PromptRead[] {
    return this.t.read(p, l, {}, of);
  }
  lastLogits(p: number[][], tokens: number[][], of?: number[]): number[][] {
    return this.t.lastLogits(p, tokens, of);
  }
  tokenLosses(texts: number[][], of?: number[]): number[][] {
    return this.t.tokenLosses(texts, of);
  }
  randomDirection(seeds: number[]): TunedAdapters {
    return new PlainAdapters(this.t.randomDirection(seeds));
  }
  weights(n: number) {
    return this.t.weights(n);
  }
  dispose(): void {
    this.t.dispose();
  }
}

/** The same backend with every read reduced to hidden states: the runner then records no outputs and no attention. */
function withoutAgreement(b: LlamaStudyBackend): StudyBackend {
  return {
    label: b.label,
    numHiddenStates: b.numHiddenStates,
    maxPositions: b.maxPositions,
    chat: b.chat,
    encode: (text) => b.encode(text),
    hidden: (p, l) => b.hidden(p, l),
    read: (p, l) => b.read(p, l),
    lastLogits: (p, t) => b.lastLogits(p, t),
    patchedLastLogits: (p, i, s) => b.patchedLastLogits(p, i, s),
    tokenLosses: (t) => b.tokenLosses(t),
    tune: (req: TuneRequest) => new PlainAdapters(b.tune(req)),
    releaseMemory: () => b.releaseMemory(),
    dispose: () => undefined,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The added work measured alone, less exposed to a loaded machine than two whole runs: one chunk's anchor and ICL
 * reads with and without logits + attention (back to back, `rounds` times, medians), and the measures computed from
 * them. The IT read adds what the anchor read adds (the same prompts, through the adapters). Seconds per chunk.
 */
function addedPerChunk(backend: LlamaStudyBackend, records: RepeatRecord[], rounds: number): { reads: number; measures: number } {
  const ids = records.map((r) => ({ anchor: backend.encode(r.prompts.anchor), icl: backend.encode(r.prompts.icl) }));
  const layers = [...Array(backend.numHiddenStates).keys()];
  const timed = <T>(f: () => T): [T, number] => {
    const t0 = performance.now();
    const v = f();
    return [v, (performance.now() - t0) / 1000];
  };
  const extra = { anchor: [] as number[], icl: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    for (const k of ['anchor', 'icl'] as const) {
      const prompts = ids.map((x) => x[k]);
      const [, plain] = timed(() => backend.read(prompts, layers));
      const [, full] = timed(() => backend.read(prompts, layers, AGREEMENT_READ));
      extra[k].push(full - plain);
    }
  }
  const anchor = backend.read(ids.map((x) => x.anchor), layers, AGREEMENT_READ);
  const icl = backend.read(ids.map((x) => x.icl), layers, AGREEMENT_READ);
  const labelWords = { words: SENTIMENT_LABEL_WORDS, answerSeparator: ' ' };
  const [, measures] = timed(() => records.forEach((rec, i) => agreementOf(backend, { anchor: { text: rec.prompts.anchor, parts: [] }, icl: { text: rec.prompts.icl, parts: [] }, labelWords }, ids[i], { anchor: anchor[i], icl: icl[i], it: anchor[i] })));
  return { reads: 2 * median(extra.anchor) + median(extra.icl), measures };
}

export async function benchAgreement(): Promise<BenchResult[]> {
  const shared = sharedDir();
  const tokenizer = join(shared, 'data/tokenizers/smollm2-135m-instruct/tokenizer.json');
  const dev = join(shared, 'data/sst2/dev.tsv');
  if (!existsSync(tokenizer) || !existsSync(dev)) {
    process.stderr.write('bench: agreement skipped (needs ../shared: the SmolLM2 tokenizer and SST-2 dev)\n');
    return [];
  }
  const { dir } = prepareSmolLM2('agreement');
  copyFileSync(tokenizer, join(dir, 'tokenizer.json'));
  const backend = await LlamaStudyBackend.load(dir);
  const plain = withoutAgreement(backend);
  const p = findPreset('convergence');
  const plan: StudyPlan = {
    experiment: p.name,
    conditions: resolveConditions(p, { shots: 1, epochs: STUDY_EPOCHS }),
    repeats: REPEATS,
    seed: 0,
    layers: 'all',
    tune: { lr: STUDY_LR, lrSchedule: STUDY_DEFAULTS.lrSchedule, weightDecay: 0, lora: { ...STUDY_DEFAULTS.lora, targets: [...STUDY_DEFAULTS.lora.targets] } },
    batch: STUDY_DEFAULTS.batch,
    materials: { data: await loadDataset(dev, 'sentiment'), instructions: defaultInstructionPool('sentiment') },
    methods: DEFAULT_METHODS,
    evalExamples: STUDY_DEFAULTS.evalExamples,
    configHash: '0'.repeat(64),
    save: { states: false, adapters: false },
  };
  const records: RepeatRecord[] = [];
  const time = (b: StudyBackend): { seconds: number; withOutputs: boolean } => {
    let withOutputs = false;
    records.length = 0;
    const sink: RecordSink = { isDone: () => false, save: (rs) => void (records.push(...rs.map((r) => r.record)), (withOutputs ||= rs.every((r) => r.record.outputs !== undefined && r.record.attention !== undefined))) };
    const t0 = performance.now();
    runPlan(plan, b, sink);
    return { seconds: (performance.now() - t0) / 1000, withOutputs };
  };
  const on: number[] = [];
  const off: number[] = [];
  let added = { reads: NaN, measures: NaN };
  try {
    time(backend); // untimed: first touches of the mapped weights and of the allocator's buffers
    for (let r = 0; r < ROUNDS; r++) {
      // alternate which goes first, so a drift in the machine's load falls on both
      for (const measured of r % 2 === 0 ? [true, false] : [false, true]) {
        const t = time(measured ? backend : plain);
        if (t.withOutputs !== measured) throw new Error('bench: the run without the measures recorded them, or the other way round');
        (measured ? on : off).push(t.seconds);
        process.stderr.write(`bench: convergence ${REPEATS} repeats ${measured ? 'with' : 'without'} outputs + attention: ${t.seconds.toFixed(1)} s\n`);
      }
    }
    added = addedPerChunk(backend, records.slice(0, STUDY_DEFAULTS.batch), 5);
  } finally {
    backend.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = median(on) / median(off);
  process.stderr.write(`bench: agreement measures: median ${median(on).toFixed(1)} s with / ${median(off).toFixed(1)} s without = ${ratio.toFixed(3)}\n`);
  const chunks = Math.ceil(REPEATS / STUDY_DEFAULTS.batch);
  const share = (chunks * (added.reads + added.measures)) / median(off);
  process.stderr.write(`bench: agreement measured alone per chunk: reads +${added.reads.toFixed(2)} s, measures ${added.measures.toFixed(2)} s = ${(100 * share).toFixed(1)}% of a run without them\n`);
  return [
    { name: `output + attention agreement measured alone: the reads' added time + the measures, per chunk, / a chunk without them (135M float32, batch ${STUDY_DEFAULTS.batch}; bar ≤ 0.10)`, unit: 'fraction (lower is better)', iclit: share },
    { name: `convergence repeat with / without output + attention agreement (135M float32, 1 demo, 10 epochs, ${REPEATS} repeats at batch ${STUDY_DEFAULTS.batch}, median of ${ROUNDS} interleaved rounds; bar ≤ 1.10)`, unit: 'ratio (lower is better)', iclit: ratio },
  ];
}
