// The demo corpus as one deterministic bundle: train / held-out splits of both tasks and the prompt-format training text.
import { generateSentimentExamples } from './sentiment.js';
import { generateTranslationExamples } from './translation.js';
import { generateTrainingTexts, type TrainingText, type TrainingTextOptions } from './training.js';
import type { SentimentExample, TranslationExample } from '../types.js';
import { deriveSeed } from '../sampling.js';

export interface CorpusSizes {
  /** Examples the training text is built from. */
  trainSentiment: number;
  trainTranslation: number;
  /** Held-out examples (never in the training split): the study's --data and the accuracy evaluation. */
  heldOutSentiment: number;
  heldOutTranslation: number;
  /** Prompt-format training texts. */
  trainingTexts: number;
}

export const DEFAULT_CORPUS_SIZES: CorpusSizes = {
  trainSentiment: 4000,
  trainTranslation: 4000,
  heldOutSentiment: 1000,
  heldOutTranslation: 500,
  trainingTexts: 6000,
};

export interface SyntheticCorpus {
  seed: number;
  train: { sentiment: SentimentExample[]; translation: TranslationExample[] };
  heldOut: { sentiment: SentimentExample[]; translation: TranslationExample[] };
  trainingTexts: TrainingText[];
}

/** The whole corpus from `seed`; held-out texts are disjoint from the training split's. */
export function generateCorpus(seed: number, sizes: Partial<CorpusSizes> = {}, textOptions: TrainingTextOptions = {}): SyntheticCorpus {
  const s = { ...DEFAULT_CORPUS_SIZES, ...sizes };
  const sentiment = generateSentimentExamples(s.trainSentiment, deriveSeed(seed, 'synthetic-sentiment-train'));
  const translation = generateTranslationExamples(s.trainTranslation, deriveSeed(seed, 'synthetic-translation-train'));
  const heldSentiment = generateSentimentExamples(s.heldOutSentiment, deriveSeed(seed, 'synthetic-sentiment-heldout'), {
    exclude: new Set(sentiment.map((e) => e.text)),
  });
  const heldTranslation = generateTranslationExamples(s.heldOutTranslation, deriveSeed(seed, 'synthetic-translation-heldout'), {
    exclude: new Set(translation.map((e) => e.source)),
  });
  const trainingTexts = generateTrainingTexts(s.trainingTexts, deriveSeed(seed, 'synthetic-training-texts'), sentiment, translation, textOptions);
  return { seed, train: { sentiment, translation }, heldOut: { sentiment: heldSentiment, translation: heldTranslation }, trainingTexts };
}
