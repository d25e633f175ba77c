// Recipe of models/iclit-demo: generated corpus → byte-level BPE tokenizer → small LLaMA trained from scratch → held-out eval.
/*
 * Usage: node dist/scripts/pretrain.js [--out models/iclit-demo] [--seed 0] [--texts 12000] [--epochs 1] [--threads N]
 * Everything is deterministic from --seed (corpus, tokenizer, initial weights, batch order); libtorch with several
 * threads may still differ in the last float bits between machines. Prints its progress and the wall time it took,
 * and writes config.json, model.safetensors (float32), tokenizer files, eval.json and README.md into --out.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { answerSpans, generateCorpus, PSEUDO_WORDS, sentimentAccuracy, type SyntheticCorpus, type AccuracyResult } from '../src/data/synthetic/index.js';
import { deriveSeed } from '../src/data/sampling.js';
import { tinyConfig, writeRandomCheckpoint, type DecoderConfig } from '../src/io/index.js';
import { LlamaModel } from '../src/models/index.js';
import { saveTrainedBpe, trainByteLevelBpe, Tokenizer } from '../src/tokenizers/index.js';
import { setNumThreads } from '../src/torch/index.js';
import { paramCount, saveTrainedModel, train, trainableModel, type TrainExample } from '../src/train/index.js';
import { IclitError } from '../src/util/errors.js';
import { makeTempDir, removeTempDir } from '../src/util/testing.js';

export interface PretrainSettings {
  out: string;
  seed: number;
  /** Prompt-format training texts generated. */
  texts: number;
  /** Share of them that are sentiment texts (loss on the label words only); the rest are translation (loss on every token). */
  sentimentShare: number;
  /** Share of the sentiment texts whose label words are a pseudo-word pair drawn for the text (coded.ts): label spaces that only demonstrations give. */
  pseudoLabelShare: number;
  /** Loss on translation texts: the Czech answers only (the label tasks then get a fair share of the gradient), or every token. */
  translationLoss: 'answers' | 'all';
  epochs: number;
  vocabSize: number;
  /** Tokens per packed training window. */
  window: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  /** Standard deviation of the initial weight matrices (and embeddings). */
  initStd: number;
  threads: number;
  /** Held-out examples per accuracy figure. */
  evalExamples: number;
  model: { numLayers: number; hiddenSize: number; numHeads: number; numKvHeads: number; intermediateSize: number; maxPositionEmbeddings: number };
}

export const PRETRAIN_DEFAULTS: PretrainSettings = {
  out: 'models/iclit-demo',
  seed: 0,
  texts: 20000,
  sentimentShare: 0.9,
  pseudoLabelShare: 0.75,
  translationLoss: 'answers',
  epochs: 1,
  vocabSize: 1536,
  window: 256,
  batchSize: 4,
  lr: 3e-3,
  warmupSteps: 20,
  weightDecay: 0.01,
  initStd: 0.05,
  threads: 1,
  evalExamples: 400,
  model: { numLayers: 4, hiddenSize: 128, numHeads: 4, numKvHeads: 2, intermediateSize: 344, maxPositionEmbeddings: 1024 },
};

function parseArgs(argv: string[]): PretrainSettings {
  const s: PretrainSettings = { ...PRETRAIN_DEFAULTS, model: { ...PRETRAIN_DEFAULTS.model } };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new IclitError(`${flag} needs a number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--out': if (!v) throw new IclitError('--out needs a folder'); s.out = v; i++; break;
      case '--seed': s.seed = num(a, v); i++; break;
      case '--texts': s.texts = num(a, v); i++; break;
      case '--sentiment-share': s.sentimentShare = num(a, v); i++; break;
      case '--pseudo-label-share': s.pseudoLabelShare = num(a, v); i++; break;
      case '--translation-loss':
        if (v !== 'answers' && v !== 'all') throw new IclitError(`--translation-loss needs answers or all, got ${JSON.stringify(v)}`);
        s.translationLoss = v;
        i++;
        break;
      case '--epochs': s.epochs = num(a, v); i++; break;
      case '--threads': s.threads = num(a, v); i++; break;
      case '--lr': s.lr = num(a, v); i++; break;
      case '--batch': s.batchSize = num(a, v); i++; break;
      case '--init-std': s.initStd = num(a, v); i++; break;
      case '--window': s.window = num(a, v); i++; break;
      case '--eval-examples': s.evalExamples = num(a, v); i++; break;
      case '--layers': s.model.numLayers = num(a, v); i++; break;
      case '--hidden': s.model.hiddenSize = num(a, v); i++; break;
      default: throw new IclitError(`unknown option ${a} (options: --out --seed --texts --sentiment-share --pseudo-label-share --translation-loss --epochs --threads --lr --batch --window --init-std --eval-examples --layers --hidden)`);
    }
  }
  return s;
}

/**
 * Ids and loss mask of one training text: [BOS] text [EOS]. With `answersOnly`, only the answer tokens (label words,
 * Czech sentences) are targets — the completion-only loss of instruction tuning, which makes the label words' share of
 * the loss large enough for a small model to pick up the task quickly; otherwise every token is a target.
 */
export function encodeTrainingText(tokenizer: Tokenizer, text: string, answersOnly: boolean): { ids: number[]; mask: number[] } {
  const eos = tokenizer.eosId;
  if (eos === undefined) throw new IclitError('the tokenizer has no EOS token to separate packed documents');
  const ids = [...tokenizer.encode(text, { addBos: true })];
  const prefix = ids.length - tokenizer.encode(text, { addSpecialTokens: false }).length;
  const mask = new Array<number>(ids.length).fill(answersOnly ? 0 : 1);
  if (answersOnly) {
    // Segment ids: text before each answer, the answer; BPE pre-tokens never cross these boundaries (": " / "\n").
    let at = 0;
    let pos = prefix;
    for (const span of answerSpans(text)) {
      pos += tokenizer.encode(text.slice(at, span.start), { addSpecialTokens: false }).length;
      const n = tokenizer.encode(text.slice(span.start, span.end), { addSpecialTokens: false }).length;
      for (let i = pos; i < pos + n; i++) mask[i] = 1;
      pos += n;
      at = span.end;
    }
    pos += tokenizer.encode(text.slice(at), { addSpecialTokens: false }).length;
    if (pos !== ids.length) throw new IclitError(`answer spans of ${JSON.stringify(text.slice(0, 60))} split a token (${pos} vs ${ids.length} ids)`);
  }
  return { ids: [...ids, eos], mask: [...mask, answersOnly ? 0 : 1] };
}

/** Training texts → one stream of documents cut into windows of `window` tokens (standard LM packing), masks alongside. */
export function packWindows(tokenizer: Tokenizer, texts: readonly { text: string; answersOnly: boolean }[], window: number): TrainExample[] {
  const ids: number[] = [];
  const mask: number[] = [];
  for (const t of texts) {
    const e = encodeTrainingText(tokenizer, t.text, t.answersOnly);
    ids.push(...e.ids);
    mask.push(...e.mask);
  }
  const out: TrainExample[] = [];
  for (let s = 0; s + window <= ids.length; s += window) {
    const m = mask.slice(s, s + window);
    if (m.slice(1).some((x) => x === 1)) out.push({ ids: ids.slice(s, s + window), lossMask: m });
  }
  return out;
}

function modelConfig(s: PretrainSettings, tokenizer: Tokenizer): DecoderConfig {
  const m = s.model;
  return tinyConfig({
    vocabSize: tokenizer.vocabSize,
    hiddenSize: m.hiddenSize,
    intermediateSize: m.intermediateSize,
    numLayers: m.numLayers,
    numHeads: m.numHeads,
    numKvHeads: m.numKvHeads,
    headDim: m.hiddenSize / m.numHeads,
    maxPositionEmbeddings: m.maxPositionEmbeddings,
    tieWordEmbeddings: true,
    bosTokenId: tokenizer.bosId ?? null,
    eosTokenId: tokenizer.eosId ?? null,
  });
}

export interface DemoEval {
  heldOutExamples: number;
  zeroShot: AccuracyResult;
  oneShot: AccuracyResult;
  fewShot: AccuracyResult;
  zeroShotNoInstruction: AccuracyResult;
  untrainedZeroShot: AccuracyResult;
}

/** Held-out accuracy and label-word probability of `model` zero-, one- and 5-shot, and of its untrained start. */
export function evaluateDemo(model: LlamaModel, untrained: LlamaModel, tokenizer: Tokenizer, corpus: SyntheticCorpus, n: number, seed: number): DemoEval {
  const examples = corpus.heldOut.sentiment.slice(0, n);
  const demoPool = corpus.heldOut.sentiment.slice(n);
  const evalSeed = deriveSeed(seed, 'demo-eval');
  return {
    heldOutExamples: examples.length,
    zeroShot: sentimentAccuracy(model, tokenizer, examples, { shots: 0, seed: evalSeed }),
    oneShot: sentimentAccuracy(model, tokenizer, examples, { shots: 1, demoPool, seed: evalSeed }),
    fewShot: sentimentAccuracy(model, tokenizer, examples, { shots: 5, demoPool, seed: evalSeed }),
    zeroShotNoInstruction: sentimentAccuracy(model, tokenizer, examples, { shots: 0, withInstruction: false, seed: evalSeed }),
    untrainedZeroShot: sentimentAccuracy(untrained, tokenizer, examples, { shots: 0, seed: evalSeed }),
  };
}

const pct = (r: AccuracyResult): string => `${(100 * r.accuracy).toFixed(1)}% (${r.correct}/${r.n}; predicts positive ${(100 * r.positiveRate).toFixed(0)}%)`;
const mass = (r: AccuracyResult): string => `${(100 * r.labelMass).toFixed(1)}%`;

function lossNote(s: PretrainSettings): string {
  return s.translationLoss === 'answers'
    ? ' and the Czech sentences of\n  translation texts, so that the label tasks get a fair share of the gradient'
    : '; on translation texts every\n  token counts';
}

function readme(s: PretrainSettings, cfg: DecoderConfig, params: number, windows: number, steps: number, seconds: number, finalLoss: number, ev: DemoEval): string {
  return `# iclit-demo

A small LLaMA-architecture model that iclit makes itself, so that \`npm run demo\` runs the whole study offline.
It is **not** a language model of English or Czech: it was trained from scratch only on text generated by
\`src/data/synthetic\` (movie-review sentences with a sentiment label — mostly under label words that only the
demonstrations define —, toy English→Czech sentence pairs with real Czech words, all in the study's prompt formats
with instructions from iclit's own pools and 0–5 demonstrations).

Reproduce (same seed, same numbers up to float rounding across machines):

    npm run build && node dist/scripts/pretrain.js --out models/iclit-demo --seed ${s.seed}

## Why most label words are pseudo-words
A model trained only on "Sentiment: negative|positive" reads the answer off the review and has nothing to learn
from a demonstration, so ICL does not move its hidden state (the earlier demo model: s(anchor, ICL) ≈ 0.98 at every
layer). Real language models learn a task's label space and format from their demonstrations (Min et al., 2022).
So in ${(100 * s.pseudoLabelShare).toFixed(0)}% of the sentiment training texts the two label words are pseudo-words drawn for that text
("Sentiment: ${PSEUDO_WORDS[0]}" / "Sentiment: ${PSEUDO_WORDS[1]}", either way round; \`src/data/synthetic/coded.ts\`), while the instruction
still says "negative or positive". Zero-shot the label word is unknowable and the model hesitates between label
spaces; a demonstration shows the label word and which polarity it stands for. The study's data keeps "negative" /
"positive", so one demonstration moves the model from "some label word" to "negative or positive".

## How it was made
- Corpus: \`generateCorpus(${s.seed})\`; ${s.texts} prompt-format training texts: ${(100 * s.sentimentShare).toFixed(0)}% sentiment
  (of which ${(100 * s.pseudoLabelShare).toFixed(0)}% with a pseudo-word label pair of their own), the rest translation; 0–5 demonstrations;
  15% without the instruction line; 5% of the sentiment texts after translation demonstrations.
- Loss: only the answers count (completion-only loss, as in instruction tuning): the label words of sentiment
  texts${lossNote(s)}.
- Tokenizer: byte-level BPE trained on those texts by \`trainByteLevelBpe\` (vocabulary ${cfg.vocabSize}, \`<s>\` added as BOS).
- Model: LLaMA (\`model_type: llama\`), ${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numHeads} heads (${cfg.numKvHeads} KV heads,
  head dim ${cfg.headDim}), SwiGLU MLP ${cfg.intermediateSize}, RoPE θ ${cfg.ropeTheta}, tied embeddings,
  max positions ${cfg.maxPositionEmbeddings} (trained on ${s.window}-token windows); ${params.toLocaleString('en-US')} parameters, float32.
- Initial weights: \`writeRandomCheckpoint\` (seeded normal, std ${s.initStd}; norm weights near 1).
- Training: \`src/train\` full-parameter mode (\`trainableModel\` + \`train\`): AdamW lr ${s.lr}, weight decay ${s.weightDecay},
  linear schedule with ${s.warmupSteps} warmup steps, ${s.epochs} epoch(s) over ${windows} packed windows of ${s.window} tokens
  (batch ${s.batchSize}, ${steps} steps), seed ${s.seed}, ${s.threads} libtorch thread(s).
- Training time: ${(seconds / 60).toFixed(1)} minutes on this machine's CPU (2 cores, shared; one libtorch thread); final training loss ${finalLoss.toFixed(3)}.

## Held-out accuracy
${ev.heldOutExamples} held-out generated reviews; prediction = which of the first tokens of " negative" / " positive" has
the larger logit after \`Sentiment:\` (chance ≈ 50%: both labels in about equal numbers); label mass = the next-token
probability of those two tokens together (how sure the model is that the answer is negative-or-positive at all).
Demonstrations come from other held-out reviews, labels alternating from a drawn first one.

| setting | accuracy | label mass |
|---|---|---|
| zero-shot (instruction + review) | ${pct(ev.zeroShot)} | ${mass(ev.zeroShot)} |
| 1-shot | ${pct(ev.oneShot)} | ${mass(ev.oneShot)} |
| 5-shot | ${pct(ev.fewShot)} | ${mass(ev.fewShot)} |
| zero-shot, no instruction | ${pct(ev.zeroShotNoInstruction)} | ${mass(ev.zeroShotNoInstruction)} |
| the same architecture before training, zero-shot | ${pct(ev.untrainedZeroShot)} | ${mass(ev.untrainedZeroShot)} |

The same numbers are in \`eval.json\`.

## What it is for, and what not
- It lets \`npm run demo\` (scripts/demo.ts) run every preset of the study offline, on held-out data generated with
  the same seed (\`out/demo/data/\`), with numbers that mean something: the model classifies the reviews and reads
  the label space off its demonstrations.
- The tasks are toys: the numbers say that the model learned them, not anything about real reviews or real
  models. The Czech side of the translation pairs uses real Czech words with simplified grammar
  (see src/data/synthetic/translation.ts).
- The tokenizer knows only this corpus's characters well; other text falls back to byte tokens.
`;
}

export async function pretrain(s: PretrainSettings): Promise<DemoEval> {
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)}s`;
  setNumThreads(s.threads);
  const out = resolve(s.out);
  console.log(`[${elapsed()}] generating the corpus (seed ${s.seed}, ${s.texts} training texts)`);
  const corpus = generateCorpus(s.seed, { trainingTexts: s.texts }, { sentimentShare: s.sentimentShare, pseudoLabels: s.pseudoLabelShare });
  const texts = corpus.trainingTexts.map((t) => t.text);

  console.log(`[${elapsed()}] training a byte-level BPE tokenizer (vocabulary ${s.vocabSize})`);
  const bpe = trainByteLevelBpe(texts, { vocabSize: s.vocabSize, modelMaxLength: s.model.maxPositionEmbeddings });
  saveTrainedBpe(out, bpe);
  const tokenizer = await Tokenizer.load(out);

  const cfg = modelConfig(s, tokenizer);
  const start = makeTempDir('iclit-pretrain-');
  try {
    writeRandomCheckpoint(start, cfg, { seed: deriveSeed(s.seed, 'demo-init'), std: s.initStd });
    // The post-norm weights near 1 of a random test checkpoint are fine as a start for training.
    const { model, params } = trainableModel(start);
    const nParams = paramCount(params);
    const windows = packWindows(tokenizer, corpus.trainingTexts.map((t) => ({ text: t.text, answersOnly: t.task === 'sentiment' || s.translationLoss === 'answers' })), s.window);
    const stepsTotal = s.epochs * Math.ceil(windows.length / s.batchSize);
    console.log(`[${elapsed()}] model: ${nParams.toLocaleString('en-US')} parameters; ${windows.length} windows of ${s.window} tokens, ${stepsTotal} steps`);
    const trainStart = performance.now();
    let last = NaN;
    let smooth = NaN;
    const result = train(model, params, [windows], {
      epochs: s.epochs,
      batchSize: s.batchSize,
      lr: s.lr,
      schedule: 'linear',
      warmupSteps: s.warmupSteps,
      weightDecay: s.weightDecay,
      seed: deriveSeed(s.seed, 'demo-train'),
      onStep: (p) => {
        last = p.loss;
        smooth = Number.isNaN(smooth) ? p.loss : 0.9 * smooth + 0.1 * p.loss;
        if (p.step % 10 === 0 || p.step === p.totalSteps) {
          const sec = (performance.now() - trainStart) / 1000;
          const eta = (sec / p.step) * (p.totalSteps - p.step);
          console.log(`[${elapsed()}] step ${p.step}/${p.totalSteps} loss ${smooth.toFixed(3)} lr ${p.lr.toExponential(2)} ${p.tokensPerSecond.toFixed(0)} tok/s, eta ${eta.toFixed(0)}s`);
        }
      },
    });
    const trainSeconds = (performance.now() - trainStart) / 1000;
    saveTrainedModel(out, cfg, params);
    for (const p of params.values()) p.dispose();

    console.log(`[${elapsed()}] evaluating on held-out reviews`);
    const trained = LlamaModel.load(out);
    const untrained = LlamaModel.load(start);
    const ev = evaluateDemo(trained, untrained, tokenizer, corpus, s.evalExamples, s.seed);
    trained.dispose();
    untrained.dispose();
    const totalSeconds = (performance.now() - started) / 1000;
    const info = {
      model: 'iclit-demo',
      seed: s.seed,
      settings: s,
      parameters: nParams,
      steps: result.steps,
      finalLoss: last,
      trainingSeconds: Math.round(trainSeconds),
      totalSeconds: Math.round(totalSeconds),
      accuracy: ev,
    };
    writeFileSync(join(out, 'eval.json'), JSON.stringify(info, null, 2) + '\n');
    writeFileSync(join(out, 'README.md'), readme(s, cfg, nParams, windows.length, result.steps, trainSeconds, smooth, ev));
    console.log(`[${elapsed()}] held-out accuracy: zero-shot ${pct(ev.zeroShot)}, 1-shot ${pct(ev.oneShot)}, 5-shot ${pct(ev.fewShot)}, no instruction ${pct(ev.zeroShotNoInstruction)}, untrained ${pct(ev.untrainedZeroShot)}`);
    console.log(`[${elapsed()}] probability of " negative" or " positive" as the next token: zero-shot ${mass(ev.zeroShot)}, 1-shot ${mass(ev.oneShot)}, 5-shot ${mass(ev.fewShot)}`);
    console.log(`pretraining took ${(totalSeconds / 60).toFixed(1)} minutes (training ${(trainSeconds / 60).toFixed(1)}); model in ${out}`);
    return ev;
  } finally {
    removeTempDir(start);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${resolve(process.argv[1])}`).href;
if (isMain) {
  pretrain(parseArgs(process.argv.slice(2))).catch((e: unknown) => {
    console.error(`pretrain: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
