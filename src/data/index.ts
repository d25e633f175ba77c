// Public API of src/data: readers, prompt templates, instruction pools, seeded sampling, similarity bins.
export type { Task, SentimentExample, TranslationExample, Dataset, SentimentDataset, TranslationDataset, DataFormat } from './types.js';
export { TASKS } from './types.js';
export { loadDataset, detectFormat, readSst2, readWmt16, rowPlace } from './load.js';
export { readTextFile, invalidUtf8At } from './text.js';
export { parseSst2Tsv, parseSentimentJson, sentimentFromRecord } from './sst2.js';
export { parseTextPair, parseTranslationJson, translationFromRecord, findTextPair } from './wmt16.js';
export { readParquet, parquetColumns, type ParquetTable } from './parquet.js';
export {
  splitTemplate, anchorPrompt, iclPrompt, tuningTexts, tokenParts, partsInUnits, partTokenRanges,
  type TemplatePieces, type Prompt, type PromptPart, type PartKind, type Span, type PromptOptions, type InstructionPlacement,
  type PartTokens, type TextCodec,
} from './prompts.js';
export {
  SENTIMENT_SPEC, TRANSLATION_SPEC, SENTIMENT_LABEL_WORDS, TASK_SPECS, taskSpec, answerOf, taskExamples, withLabelWords,
  type TaskSpec, type Scoring, type ExampleOf, type TaskExamples, type DemoRef, type TemplateChoice, type WrongLabelRule,
} from './tasks.js';
export { SENTIMENT_INSTRUCTIONS, TRANSLATION_INSTRUCTIONS, defaultInstructionPool, loadInstructionPool, parseInstructionPool } from './instructions.js';
export { deriveSeed, sampleWithoutReplacement, shuffle, drawRepeat, drawnExamples, type RepeatDraw, type DrawOptions } from './sampling.js';
export { binOf, pickPerBin, type BinOptions, type BinPick, type PickPerBinOptions } from './bins.js';
export { seededRandom } from '../util/random.js';
export { chatPrompt } from './chat.js';
