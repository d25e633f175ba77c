// Label words that only the demonstrations define: per-text pseudo-word label pairs, so that a model must read its demonstrations.
/*
 * Real language models learn a task's label space and format from their demonstrations (Min et al., 2022); a model
 * trained only on "Sentiment: negative|positive" has nothing to learn from a demonstration, and ICL does not move its
 * hidden state. So in most sentiment training texts the two label words are pseudo-words ("dabo" / "kifu") drawn
 * anew for the text, with a random assignment to the two polarities; the review itself stays an ordinary generated
 * review. Without a demonstration the label word is unknowable (the instruction still says "negative or positive",
 * and is not to be trusted); a demonstration shows one label word and which polarity it stands for. The study's
 * data keeps "negative" / "positive", so zero-shot the model hesitates between label spaces and one demonstration
 * settles it.
 */
import { IclitError } from '../../util/errors.js';
import { makeDraw, type Draw } from './random.js';
import { REVIEW_ADJECTIVES, REVIEW_ASPECTS, REVIEW_INTENSIFIERS, REVIEW_VERBS, REVIEW_VERDICTS } from './sentiment.js';
import { LEX_ADJECTIVES, LEX_NOUNS, LEX_VERBS } from './translation.js';

const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z'];
const VOWELS = ['a', 'e', 'i', 'o', 'u'];
// No final "e" (English "bale", "nine", "tone"); real words of this shape, prefixes of the label words and Czech
// "nemá" without its accent are left out by hand.
const FINAL_VOWELS = ['a', 'i', 'o', 'u'];
const REAL_WORDS = new Set(('tuna soda sofa data beta zeta meta demo memo polo solo limo lava diva visa tofu menu guru sumo pita mini taxi kilo ' +
  'nana mama papa dada lulu tutu gala mega toga saga lima puma kola bora nova zero sago dodo mimi bobo lobo ' +
  'kudo koto mono lama lego logo tiki mumu gogo judo dojo toto rota pola bola dona vino modo pomo sami ' +
  'nega posi bali dali nema').split(' '));

/** Every word the other generators use, so that no pseudo-word is a real word of the corpus. */
function corpusWords(): Set<string> {
  const words = new Set<string>();
  const add = (s: string) => s.toLowerCase().split(/[^\p{L}]+/u).forEach((w) => w && words.add(w));
  for (const list of [REVIEW_ASPECTS, REVIEW_INTENSIFIERS, ...REVIEW_ADJECTIVES, ...REVIEW_VERBS, ...REVIEW_VERDICTS]) list.forEach(add);
  for (const n of LEX_NOUNS) [n.en, n.nom, n.acc].forEach(add);
  for (const x of [...LEX_ADJECTIVES, ...LEX_VERBS] as readonly (readonly string[])[]) x.forEach(add);
  return words;
}

export const PSEUDO_WORD_COUNT = 24;

/**
 * The pseudo label words: consonant-vowel-consonant-vowel ("dabo", "kifu"; no final e), a fixed seeded draw that are
 * not words of the rest of the corpus nor common real words, the same on every machine.
 */
export const PSEUDO_WORDS: readonly string[] = (() => {
  const d = makeDraw(0x5eed);
  const taken = corpusWords();
  const out: string[] = [];
  while (out.length < PSEUDO_WORD_COUNT) {
    const w = d.pick(ONSETS) + d.pick(VOWELS) + d.pick(ONSETS) + d.pick(FINAL_VOWELS);
    if (!taken.has(w) && !REAL_WORDS.has(w) && !out.includes(w)) out.push(w);
  }
  return out;
})();

/** Two distinct pseudo label words: [the word for label 0 (negative), the word for label 1 (positive)]. */
export function drawLabelPair(d: Draw): [string, string] {
  const a = d.pick(PSEUDO_WORDS);
  let b = d.pick(PSEUDO_WORDS);
  while (b === a) b = d.pick(PSEUDO_WORDS);
  return [a, b];
}

/** Checks a label pair: two different one-word labels. */
export function checkLabelPair(pair: readonly [string, string]): void {
  if (pair[0] === pair[1] || !pair.every((w) => /^\S+$/.test(w))) throw new IclitError(`a label pair needs two different one-word labels, got ${JSON.stringify(pair)}`);
}
