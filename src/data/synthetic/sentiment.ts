// Generated movie-review sentences with a sentiment label (word lists of clear polarity, templates, negation).
import { IclitError } from '../../util/errors.js';
import type { SentimentExample } from '../types.js';
import { makeDraw, type Draw } from './random.js';

/** What a film review talks about. */
export const REVIEW_ASPECTS: readonly string[] = [
  'the plot', 'the acting', 'the script', 'the dialogue', 'the soundtrack', 'the camera work', 'the ending', 'the cast',
  'the pacing', 'the direction', 'the story', 'the characters', 'the humor', 'the visuals', 'the lead performance',
  'the editing', 'the screenplay', 'this film', 'the movie', 'the sequel', 'the music', 'the final scene', 'the villain',
  'the hero', 'the first half', 'the second act', 'the costumes', 'the special effects',
];

/** Adjectives by polarity: index 0 = negative, 1 = positive. */
export const REVIEW_ADJECTIVES: readonly [readonly string[], readonly string[]] = [
  ['boring', 'dull', 'awful', 'clumsy', 'tedious', 'terrible', 'flat', 'lifeless', 'predictable', 'silly', 'messy', 'bland',
    'painful', 'forgettable', 'weak', 'pointless', 'tiresome', 'shallow', 'sloppy', 'dreadful', 'annoying', 'confusing'],
  ['brilliant', 'wonderful', 'moving', 'gripping', 'charming', 'superb', 'delightful', 'clever', 'beautiful', 'touching',
    'funny', 'stunning', 'powerful', 'memorable', 'engaging', 'excellent', 'fresh', 'heartfelt', 'witty', 'masterful', 'lovely', 'thrilling'],
];

export const REVIEW_INTENSIFIERS: readonly string[] = [
  'very', 'truly', 'really', 'utterly', 'remarkably', 'surprisingly', 'quite', 'simply', 'thoroughly', 'genuinely', 'rather', 'so',
];

/** "{verb} {aspect}" openings by polarity. */
export const REVIEW_VERBS: readonly [readonly string[], readonly string[]] = [
  ['i hated', 'we disliked', 'nobody will enjoy', 'i could not stand', 'i regret watching for', 'critics will mock'],
  ['i loved', 'we enjoyed', 'everyone will enjoy', 'i adored', 'i was amazed by', 'critics will praise'],
];

/** Whole-clause verdicts by polarity. */
export const REVIEW_VERDICTS: readonly [readonly string[], readonly string[]] = [
  ['a waste of time', 'avoid it', 'not worth the ticket', 'one of the worst films this year', 'a total mess', 'i walked out early',
    'a huge disappointment', 'skip this one'],
  ['a must see', 'worth every minute', 'highly recommended', 'one of the best films this year', 'a real treat', 'i would watch it again',
    'a pleasant surprise', 'do not miss it'],
];

const FILM_NOUNS: readonly string[] = ['film', 'movie', 'picture', 'story', 'comedy', 'drama', 'thriller', 'debut'];
const COPULAS: readonly string[] = ['was', 'is', 'feels', 'seemed'];
const PLURAL_COPULAS: readonly string[] = ['were', 'are', 'feel', 'seemed'];
const isPlural = (aspect: string): boolean => /(s|ts)$/.test(aspect) && !aspect.startsWith('this');
const JOINERS: readonly string[] = [', and ', ' and ', '; ', ', '];

type Polarity = 0 | 1;

/** One clause whose polarity is `p`. */
function clause(d: Draw, p: Polarity): string {
  const adjective = (q: Polarity): string => d.pick(REVIEW_ADJECTIVES[q]);
  const intens = (): string => (d.chance(0.4) ? `${d.pick(REVIEW_INTENSIFIERS)} ` : '');
  switch (d.int(0, 5)) {
    case 0:
    case 1: {
      const a = d.pick(REVIEW_ASPECTS);
      return `${a} ${d.pick(isPlural(a) ? PLURAL_COPULAS : COPULAS)} ${intens()}${adjective(p)}`;
    }
    case 2: {
      // Negation flips the adjective's polarity: "the plot was not boring" is positive.
      const a = d.pick(REVIEW_ASPECTS);
      return `${a} ${d.pick(isPlural(a) ? ['were', 'are'] : ['was', 'is'])} not ${adjective((1 - p) as Polarity)}`;
    }
    case 3:
      return `${d.pick(REVIEW_VERBS[p])} ${d.pick(REVIEW_ASPECTS)}`;
    case 4: {
      const i = intens();
      const a = adjective(p);
      return `${/^[aeiou]/.test(i || a) ? 'an' : 'a'} ${i}${a} ${d.pick(FILM_NOUNS)}`;
    }
    default:
      return d.pick(REVIEW_VERDICTS[p]);
  }
}

/**
 * One review of label `label`: one to three clauses that all carry its polarity, or (sometimes) a clause of the other
 * polarity followed by ", but" and one that carries the label — the clause after "but" decides, as in real reviews.
 */
export function generateReview(d: Draw, label: Polarity): string {
  let text: string;
  if (d.chance(0.12)) {
    text = `${clause(d, (1 - label) as Polarity)}, but ${clause(d, label)}`;
  } else {
    const n = d.pick([1, 1, 2, 2, 2, 3]);
    text = clause(d, label);
    for (let i = 1; i < n; i++) text += d.pick(JOINERS) + clause(d, label);
  }
  return `${text} ${d.pick(['.', '.', '.', '!'])}`.replace(/ ([.!])$/, '$1');
}

/**
 * `n` reviews from `seed`, labels balanced (⌊n/2⌋ negative, the rest positive) and interleaved in seeded order;
 * no text repeats. Deterministic: the same (n, seed) gives the same list.
 */
export function generateSentimentExamples(n: number, seed: number, opts: { exclude?: ReadonlySet<string> } = {}): SentimentExample[] {
  if (!Number.isInteger(n) || n < 0) throw new IclitError(`number of sentiment examples must be a non-negative integer, got ${n}`);
  const d = makeDraw(seed);
  const labels: Polarity[] = [...Array(n).keys()].map((i) => (i < Math.floor(n / 2) ? 0 : 1));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(d.next() * (i + 1));
    [labels[i], labels[j]] = [labels[j], labels[i]];
  }
  const seen = new Set<string>(opts.exclude ?? []);
  const out: SentimentExample[] = [];
  for (const label of labels) {
    let text = generateReview(d, label);
    for (let tries = 0; seen.has(text); tries++) {
      if (tries > 1000) throw new IclitError(`cannot generate ${n} distinct sentiment examples (seed ${seed})`);
      text = generateReview(d, label);
    }
    seen.add(text);
    out.push({ text, label });
  }
  return out;
}
