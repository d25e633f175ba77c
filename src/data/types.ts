// The typed rows every data reader returns, and the names of the two tasks.

/** The two tasks of the study: SST-2 sentiment classification and WMT16 English→Czech translation. */
export type Task = 'sentiment' | 'translation';

export const TASKS: readonly Task[] = ['sentiment', 'translation'];

/** One SST-2 review: text with surrounding whitespace trimmed; label 0 = negative, 1 = positive. */
export interface SentimentExample {
  text: string;
  label: 0 | 1;
}

/** One WMT16 sentence pair, English source → Czech target. */
export interface TranslationExample {
  source: string;
  target: string;
}

/** The rows of a file, tagged with their task. */
export type Dataset =
  | { task: 'sentiment'; file: string; format: DataFormat; examples: SentimentExample[] }
  | { task: 'translation'; file: string; format: DataFormat; examples: TranslationExample[] };

export type SentimentDataset = Extract<Dataset, { task: 'sentiment' }>;
export type TranslationDataset = Extract<Dataset, { task: 'translation' }>;

/** On-disk formats the readers understand. 'text-pair' = two aligned plain-text files (X.en + X.cs). */
export type DataFormat = 'tsv' | 'jsonl' | 'json' | 'parquet' | 'text-pair';
