// Generated English→Czech sentence pairs from a small bilingual lexicon and grammar (real Czech words, simplified grammar).
/*
 * The Czech side uses real Czech words with the agreement a learner meets first: noun gender and animacy, adjective
 * endings in the nominative and accusative (hard declension: -ý/-á/-é, accusative -ého/-ý/-ou/-é), the accusative of
 * the object noun, "ne-" verb negation, "je"/"není". Articles are dropped (Czech has none). Everything else is
 * simplified (present tense only, third person singular, fixed word order), so the pairs are consistent rather than
 * idiomatic.
 */
import { IclitError } from '../../util/errors.js';
import type { TranslationExample } from '../types.js';
import { makeDraw, type Draw } from './random.js';

type Gender = 'm' | 'f' | 'n';

export interface LexNoun {
  en: string;
  /** Nominative and accusative singular. */
  nom: string;
  acc: string;
  gender: Gender;
  animate: boolean;
}

const noun = (en: string, nom: string, acc: string, gender: Gender, animate = false): LexNoun => ({ en, nom, acc, gender, animate });

/** People and animals (subjects), then things (objects only). */
export const LEX_NOUNS: readonly LexNoun[] = [
  noun('dog', 'pes', 'psa', 'm', true), noun('cat', 'kočka', 'kočku', 'f', true), noun('man', 'muž', 'muže', 'm', true),
  noun('woman', 'žena', 'ženu', 'f', true), noun('boy', 'chlapec', 'chlapce', 'm', true), noun('girl', 'dívka', 'dívku', 'f', true),
  noun('teacher', 'učitel', 'učitele', 'm', true), noun('doctor', 'lékař', 'lékaře', 'm', true), noun('friend', 'přítel', 'přítele', 'm', true),
  noun('child', 'dítě', 'dítě', 'n', true), noun('bird', 'pták', 'ptáka', 'm', true), noun('student', 'student', 'studenta', 'm', true),
  noun('mother', 'matka', 'matku', 'f', true), noun('father', 'otec', 'otce', 'm', true), noun('neighbour', 'soused', 'souseda', 'm', true),
  noun('book', 'kniha', 'knihu', 'f'), noun('house', 'dům', 'dům', 'm'), noun('car', 'auto', 'auto', 'n'), noun('city', 'město', 'město', 'n'),
  noun('letter', 'dopis', 'dopis', 'm'), noun('film', 'film', 'film', 'm'), noun('table', 'stůl', 'stůl', 'm'), noun('window', 'okno', 'okno', 'n'),
  noun('apple', 'jablko', 'jablko', 'n'), noun('bread', 'chléb', 'chléb', 'm'), noun('river', 'řeka', 'řeku', 'f'), noun('song', 'píseň', 'píseň', 'f'),
  noun('school', 'škola', 'školu', 'f'), noun('garden', 'zahrada', 'zahradu', 'f'), noun('water', 'voda', 'vodu', 'f'), noun('coffee', 'káva', 'kávu', 'f'),
  noun('ball', 'míč', 'míč', 'm'), noun('phone', 'telefon', 'telefon', 'm'), noun('newspaper article', 'článek', 'článek', 'm'),
  noun('picture', 'obraz', 'obraz', 'm'), noun('room', 'pokoj', 'pokoj', 'm'), noun('village', 'vesnice', 'vesnici', 'f'),
];

/** Hard-declension adjectives: English, Czech stem. */
export const LEX_ADJECTIVES: readonly (readonly [string, string])[] = [
  ['big', 'velk'], ['small', 'mal'], ['old', 'star'], ['new', 'nov'], ['young', 'mlad'], ['good', 'dobr'], ['red', 'červen'],
  ['black', 'čern'], ['white', 'bíl'], ['beautiful', 'krásn'], ['quick', 'rychl'], ['quiet', 'tich'], ['happy', 'šťastn'],
  ['tired', 'unaven'], ['kind', 'laskav'], ['strange', 'podivn'], ['long', 'dlouh'], ['expensive', 'drah'], ['cheap', 'levn'],
  ['famous', 'slavn'], ['clean', 'čist'], ['warm', 'tepl'],
];

/** Verbs: English base form, English third person singular, Czech third person singular. */
export const LEX_VERBS: readonly (readonly [string, string, string])[] = [
  ['see', 'sees', 'vidí'], ['love', 'loves', 'miluje'], ['buy', 'buys', 'kupuje'], ['read', 'reads', 'čte'], ['write', 'writes', 'píše'],
  ['find', 'finds', 'najde'], ['have', 'has', 'má'], ['want', 'wants', 'chce'], ['know', 'knows', 'zná'], ['carry', 'carries', 'nese'],
  ['watch', 'watches', 'sleduje'], ['draw', 'draws', 'kreslí'], ['open', 'opens', 'otevírá'], ['clean', 'cleans', 'uklízí'],
  ['need', 'needs', 'potřebuje'], ['take', 'takes', 'bere'], ['hear', 'hears', 'slyší'], ['look for', 'looks for', 'hledá'],
];

/** Sentence-initial adverbs: English, Czech. */
const ADVERBS: readonly (readonly [string, string])[] = [['today', 'dnes'], ['now', 'teď'], ['every day', 'každý den'], ['often', 'často'], ['tomorrow', 'zítra']];

function adjNom(stem: string, g: Gender): string {
  return stem + (g === 'm' ? 'ý' : g === 'f' ? 'á' : 'é');
}

function adjAcc(stem: string, n: LexNoun): string {
  if (n.gender === 'm') return stem + (n.animate ? 'ého' : 'ý');
  return stem + (n.gender === 'f' ? 'ou' : 'é');
}

const SUBJECTS = LEX_NOUNS.filter((n) => n.animate);
const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

interface Phrase {
  en: string;
  cs: string;
}

/** Subject noun phrase, optionally with an adjective. */
function subject(d: Draw): Phrase & { noun: LexNoun } {
  const n = d.pick(SUBJECTS);
  if (d.chance(0.5)) {
    const [en, stem] = d.pick(LEX_ADJECTIVES);
    return { en: `the ${en} ${n.en}`, cs: `${adjNom(stem, n.gender)} ${n.nom}`, noun: n };
  }
  return { en: `the ${n.en}`, cs: n.nom, noun: n };
}

/** Object noun phrase in the accusative, optionally with an adjective. */
function object(d: Draw): Phrase {
  const n = d.pick(LEX_NOUNS);
  if (d.chance(0.5)) {
    const [en, stem] = d.pick(LEX_ADJECTIVES);
    return { en: `${d.chance(0.5) ? 'the' : article(en)} ${en} ${n.en}`, cs: `${adjAcc(stem, n)} ${n.acc}` };
  }
  return { en: `${d.chance(0.5) ? 'the' : article(n.en)} ${n.en}`, cs: n.acc };
}

/** One clause: subject-verb-object (possibly negated) or subject "is (not)" adjective. */
function clause(d: Draw): Phrase {
  const s = subject(d);
  if (d.chance(0.25)) {
    const [en, stem] = d.pick(LEX_ADJECTIVES);
    const neg = d.chance(0.3);
    return { en: `${s.en} ${neg ? 'is not' : 'is'} ${en}`, cs: `${s.cs} ${neg ? 'není' : 'je'} ${adjNom(stem, s.noun.gender)}` };
  }
  const [base, third, cs] = d.pick(LEX_VERBS);
  const o = object(d);
  if (d.chance(0.2)) return { en: `${s.en} does not ${base} ${o.en}`, cs: `${s.cs} ne${cs} ${o.cs}` };
  return { en: `${s.en} ${third} ${o.en}`, cs: `${s.cs} ${cs} ${o.cs}` };
}

/** One sentence pair: a clause, sometimes with a leading adverb or a second clause joined by "and" / "a". */
export function generatePair(d: Draw): TranslationExample {
  let { en, cs } = clause(d);
  const r = d.next();
  if (r < 0.25) {
    const [ae, ac] = d.pick(ADVERBS);
    en = `${ae} ${en}`;
    cs = `${ac} ${cs}`;
  } else if (r < 0.45) {
    const c2 = clause(d);
    en = `${en} and ${c2.en}`;
    cs = `${cs} a ${c2.cs}`;
  }
  return { source: `${capitalize(en)}.`, target: `${capitalize(cs)}.` };
}

/** `n` distinct sentence pairs from `seed` (deterministic), none of whose sources are in `exclude`. */
export function generateTranslationExamples(n: number, seed: number, opts: { exclude?: ReadonlySet<string> } = {}): TranslationExample[] {
  if (!Number.isInteger(n) || n < 0) throw new IclitError(`number of translation pairs must be a non-negative integer, got ${n}`);
  const d = makeDraw(seed);
  const seen = new Set<string>(opts.exclude ?? []);
  const out: TranslationExample[] = [];
  while (out.length < n) {
    let pair = generatePair(d);
    for (let tries = 0; seen.has(pair.source); tries++) {
      if (tries > 1000) throw new IclitError(`cannot generate ${n} distinct translation pairs (seed ${seed})`);
      pair = generatePair(d);
    }
    seen.add(pair.source);
    out.push(pair);
  }
  return out;
}
