// The project's own instruction pools (30 sentiment, 30 English→Czech) and reading a pool from a text file.
import { IclitError } from '../util/errors.js';
import { readTextFile } from './text.js';
import type { Task } from './types.js';

/** Sentiment-classification instructions written for iclit; each asks for the label words negative / positive. */
export const SENTIMENT_INSTRUCTIONS: readonly string[] = [
  'Read the movie review and say whether its sentiment is negative or positive.',
  'Label the following film review as negative or positive.',
  'Is the opinion in this review favorable or unfavorable? Answer with negative or positive.',
  'Judge the tone of the review below and reply with one word: negative or positive.',
  'Decide if the reviewer liked the movie (positive) or disliked it (negative).',
  'Sort this movie review into one of two classes: negative or positive.',
  'Tell me how the critic feels about the film: negative or positive?',
  'Assign a sentiment label, negative or positive, to the review that follows.',
  "Here is a short review of a film. Was the writer's overall impression negative or positive?",
  'Give the polarity of this movie review, using the word negative or positive.',
  'Does this review praise or criticize the movie? Respond with positive for praise and negative for criticism.',
  'Categorize the emotional tone of the following review as either positive or negative.',
  'Based on its wording, is the review below positive or negative?',
  'You are a sentiment classifier. Output negative or positive for the review.',
  'Determine the attitude expressed toward the film in this excerpt: negative or positive.',
  'Analyze the review and state whether it recommends the movie (positive) or not (negative).',
  'Which word describes this review better, negative or positive?',
  'Please classify the sentiment of the film critique below as positive or negative.',
  'Predict the sentiment of this movie review. Possible answers: negative, positive.',
  'Read the snippet from a film review and mark it as positive or negative.',
  'Would the author of this review recommend the film? Answer positive if yes and negative if no.',
  'Evaluate whether the feelings in this review lean negative or positive.',
  'Review sentiment task: reply negative or positive.',
  "Consider the reviewer's words carefully and decide if the sentiment is positive or negative.",
  'Is this a thumbs-up (positive) or a thumbs-down (negative) review?',
  "Identify the polarity of the critic's opinion in the text below (negative/positive).",
  'Given a sentence from a movie review, say whether it expresses a negative or a positive view.',
  'What is the overall mood of this review of a film: positive or negative?',
  'Classify the following review excerpt by sentiment. Choose between negative and positive.',
  'Find out whether this movie critique is enthusiastic (positive) or disapproving (negative).',
];

/** English→Czech translation instructions written for iclit. */
export const TRANSLATION_INSTRUCTIONS: readonly string[] = [
  'Render this English text in Czech.',
  'Give the Czech translation of the sentence below.',
  'Convert the English sentence into natural, fluent Czech.',
  'You are a professional translator. Translate from English to Czech.',
  'Could you supply this English sentence in Czech?',
  'How would you say the following in Czech?',
  'Translate this sentence from English into the Czech language, keeping its meaning.',
  'Write the sentence below in Czech.',
  'English to Czech: translate the text that follows.',
  'Produce an accurate Czech translation of the English input.',
  'Express the following English sentence in Czech.',
  'Rewrite this English news sentence in Czech.',
  'Translate into Czech, preserving names and numbers as they are.',
  'What is the Czech equivalent of this English sentence?',
  'Carry the meaning of the English text over into Czech.',
  'Please turn the English source sentence into Czech.',
  'A Czech reader needs to understand this sentence. Translate it for them.',
  'Turn the following English line into Czech.',
  'Provide a faithful translation of this sentence in Czech.',
  'Translate the news text below from English to Czech.',
  'Here is a sentence in English. Write its translation in Czech.',
  'Put this English sentence into Czech.',
  'Translate English → Czech.',
  'Your task: translate the given English sentence to Czech.',
  'Give a fluent Czech rendering of the English text.',
  'Translate the sentence into Czech as a native speaker would write it.',
  'Offer a Czech translation for the following English passage.',
  'Change the language of this sentence from English to Czech.',
  'Translate the following text; the source is English and the target is Czech.',
  'Show how this English sentence reads in Czech.',
];

/** The built-in pool of a task. */
export function defaultInstructionPool(task: Task): readonly string[] {
  if (task === 'sentiment') return SENTIMENT_INSTRUCTIONS;
  if (task === 'translation') return TRANSLATION_INSTRUCTIONS;
  throw new IclitError(`unknown task "${String(task)}" (expected sentiment or translation)`);
}

/**
 * A pool from text: one instruction per line, surrounding whitespace trimmed; blank lines and lines whose first
 * non-blank character is `#` are ignored. An empty pool or a repeated instruction (which would weight the draw)
 * is an error naming the file and line.
 */
export function parseInstructionPool(content: string, file: string): string[] {
  const pool: string[] = [];
  const seen = new Map<string, number>();
  content
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const first = seen.get(line);
      if (first !== undefined) throw new IclitError(`${file}:${i + 1}: instruction repeats line ${first}: ${JSON.stringify(line)}`);
      seen.set(line, i + 1);
      pool.push(line);
    });
  if (pool.length === 0) throw new IclitError(`${file}: no instructions (one per line; blank lines and # comments are ignored)`);
  return pool;
}

/** Reads an instruction pool file (see parseInstructionPool). */
export function loadInstructionPool(file: string): string[] {
  return parseInstructionPool(readTextFile(file, 'instruction pool'), file);
}
