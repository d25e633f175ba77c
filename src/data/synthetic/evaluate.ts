// Held-out label-word accuracy of a decoder: logits of the first token of " negative" vs " positive" after "Sentiment:".
import type { LlamaModel } from '../../models/index.js';
import type { Tokenizer } from '../../tokenizers/index.js';
import { noGrad, tidy } from '../../torch/index.js';
import { IclitError } from '../../util/errors.js';
import { SENTIMENT_INSTRUCTIONS } from '../instructions.js';
import { iclPrompt } from '../prompts.js';
import { DEMO_LABEL_WORDS as SENTIMENT_LABEL_WORDS, DEMO_SENTIMENT_SPEC } from './training.js';
import type { SentimentExample } from '../types.js';
import { makeDraw } from './random.js';

/** First token id of " negative" and of " positive" (what follows "Sentiment:" in a prompt). */
export function labelTokenIds(tokenizer: Tokenizer): [number, number] {
  const ids = SENTIMENT_LABEL_WORDS.map((w) => tokenizer.encode(` ${w}`, { addSpecialTokens: false })[0]);
  if (ids[0] === undefined || ids[1] === undefined || ids[0] === ids[1]) {
    throw new IclitError(`the tokenizer's first tokens of " negative" / " positive" must exist and differ, got ${JSON.stringify(ids)}`);
  }
  return [ids[0], ids[1]];
}

export interface AccuracyOptions {
  /** Demonstrations per prompt (0 = zero-shot). */
  shots: number;
  /** Where demonstrations are drawn from (required when shots > 0). */
  demoPool?: readonly SentimentExample[];
  /** Instruction pool (default: the project's 30 sentiment instructions); one is drawn per example. */
  instructions?: readonly string[];
  withInstruction?: boolean;
  seed?: number;
  /** Prompts per forward pass. */
  batchSize?: number;
}

export interface AccuracyResult {
  shots: number;
  n: number;
  correct: number;
  accuracy: number;
  /** Share of predictions that are "positive" (a constant guesser scores 0 or 1 here). */
  positiveRate: number;
  /**
   * Mean next-token probability of the two label words' first tokens together: how sure the model is that the
   * answer is " negative" or " positive" at all (low zero-shot for a model that learned label spaces from
   * demonstrations; see coded.ts).
   */
  labelMass: number;
}

/**
 * Accuracy on `examples`: for each, a prompt (instruction drawn from the pool, `shots` demonstrations drawn from the
 * demo pool with alternating labels from a drawn first one, then the example up to "Sentiment:"); prediction = the label word whose first
 * token has the larger logit at the last position. Deterministic from `seed`.
 */
export function sentimentAccuracy(model: LlamaModel, tokenizer: Tokenizer, examples: readonly SentimentExample[], opts: AccuracyOptions): AccuracyResult {
  const { shots } = opts;
  const pool = opts.demoPool ?? [];
  if (shots > 0 && pool.length < shots) throw new IclitError(`${shots}-shot accuracy needs at least ${shots} demonstrations in the pool, have ${pool.length}`);
  if (examples.length === 0) throw new IclitError('no examples to evaluate');
  const instructions = opts.instructions ?? SENTIMENT_INSTRUCTIONS;
  const d = makeDraw(opts.seed ?? 0);
  const byLabel = [pool.filter((e) => e.label === 0), pool.filter((e) => e.label === 1)];
  const [neg, pos] = labelTokenIds(tokenizer);
  const prompts = examples.map((ex) => {
    const demos: SentimentExample[] = [];
    // Labels alternate from a drawn first label: balanced for even k, and an odd k (one demonstration) is not always negative.
    const first = shots > 0 ? d.int(0, 1) : 0;
    for (let i = 0; i < shots; i++) {
      const side = byLabel[(i + first) % 2].length > 0 ? byLabel[(i + first) % 2] : pool;
      demos.push(d.pick(side));
    }
    for (let i = demos.length - 1; i > 0; i--) {
      const j = Math.floor(d.next() * (i + 1));
      [demos[i], demos[j]] = [demos[j], demos[i]];
    }
    const text = iclPrompt(DEMO_SENTIMENT_SPEC, d.pick(instructions), demos, ex, { withInstruction: opts.withInstruction ?? true }).text;
    return tokenizer.encode(text);
  });
  const bs = opts.batchSize ?? 16;
  let correct = 0;
  let positive = 0;
  let mass = 0;
  noGrad(() => {
    for (let s = 0; s < prompts.length; s += bs) {
      const rows = tidy(() => {
        const out = model.forward(prompts.slice(s, s + bs), { logits: true, positions: 'last' });
        return out.logits!.toFloat32Array(); // [B, V] flattened
      });
      const V = rows.length / Math.min(bs, prompts.length - s);
      for (let b = 0; b * V < rows.length; b++) {
        let max = -Infinity;
        for (let v = 0; v < V; v++) max = Math.max(max, rows[b * V + v]);
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(rows[b * V + v] - max);
        mass += (Math.exp(rows[b * V + pos] - max) + Math.exp(rows[b * V + neg] - max)) / z;
        const predicted = rows[b * V + pos] > rows[b * V + neg] ? 1 : 0;
        positive += predicted;
        if (predicted === examples[s + b].label) correct++;
      }
    }
  });
  return { shots, n: examples.length, correct, accuracy: correct / examples.length, positiveRate: positive / examples.length, labelMass: mass / examples.length };
}
