// Public API of src/data/synthetic: the generated demo corpus (reviews, EN→CS pairs, prompt-format text), writers, evaluation.
export { makeDraw, type Draw } from './random.js';
export { generateReview, generateSentimentExamples, REVIEW_ASPECTS, REVIEW_ADJECTIVES, REVIEW_INTENSIFIERS, REVIEW_VERBS, REVIEW_VERDICTS } from './sentiment.js';
export { generatePair, generateTranslationExamples, LEX_NOUNS, LEX_ADJECTIVES, LEX_VERBS, type LexNoun } from './translation.js';
export { PSEUDO_WORDS, PSEUDO_WORD_COUNT, checkLabelPair, drawLabelPair } from './coded.js';
export { answerSpans, generateTrainingTexts, DEMO_LABEL_WORDS, type TrainingText, type TrainingTextOptions } from './training.js';
export { generateCorpus, DEFAULT_CORPUS_SIZES, type CorpusSizes, type SyntheticCorpus } from './corpus.js';
export { sst2Tsv, writeSst2Tsv, writeTextPair } from './export.js';
export { labelTokenIds, sentimentAccuracy, type AccuracyOptions, type AccuracyResult } from './evaluate.js';
