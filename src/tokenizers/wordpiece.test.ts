// Tests of WordPiece (BERT, all-MiniLM-L6-v2) through Tokenizer: SST-2 sentences against ids read off vocab.txt by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from './index.js';
import { missingShared, sharedPath } from '../util/testing.js';

const MINILM = 'data/tokenizers/all-MiniLM-L6-v2';
const SST2_DEV = 'data/sst2/dev.tsv';

/**
 * Expected ids, derived from vocab.txt (id = line number - 1): lowercase, strip accents, split on whitespace and
 * punctuation, then greedy longest-match with '##' continuations; [CLS]=101 … [SEP]=102.
 */
const CASES: { line: number; pieces: string; ids: number[] }[] = [
  {
    line: 2, // it 's a charming and often affecting journey .
    pieces: "[CLS] it ' s a charming and often affecting journey . [SEP]",
    ids: [101, 2009, 1005, 1055, 1037, 11951, 1998, 2411, 12473, 4990, 1012, 102],
  },
  {
    line: 9, // or doing last year 's taxes with your ex-wife .
    pieces: "[CLS] or doing last year ' s taxes with your ex - wife . [SEP]",
    ids: [101, 2030, 2725, 2197, 2095, 1005, 1055, 7773, 2007, 2115, 4654, 1011, 2564, 1012, 102],
  },
  {
    line: 11, // in exactly 89 minutes , ... if i 'd been sitting naked on an igloo , formula 51 sank from quirky to jerky ...
    pieces:
      "[CLS] in exactly 89 minutes , most of which passed as slowly as if i ' d been sitting naked on an i ##gl ##oo , formula 51 sank from qui ##rky to jerk ##y to utter turkey . [SEP]",
    ids: [
      101, 1999, 3599, 6486, 2781, 1010, 2087, 1997, 2029, 2979, 2004, 3254, 2004, 2065, 1045, 1005, 1040, 2042, 3564, 6248, 2006, 2019, 1045,
      23296, 9541, 1010, 5675, 4868, 7569, 2013, 21864, 15952, 2000, 12181, 2100, 2000, 14395, 4977, 1012, 102,
    ],
  },
  {
    line: 19, // audrey tatou ... morning-glory exuberant as she was in amélie .   (é → e: accents stripped)
    pieces:
      "[CLS] audrey ta ##tou has a kn ##ack for picking roles that mag ##ni ##fy her outrageous charm , and in this liter ##ate french comedy , she ' s as morning - glory ex ##uber ##ant as she was in amelie . [SEP]",
    ids: [
      101, 14166, 11937, 24826, 2038, 1037, 14161, 8684, 2005, 8130, 4395, 2008, 23848, 3490, 12031, 2014, 25506, 11084, 1010, 1998, 1999, 2023,
      23675, 3686, 2413, 4038, 1010, 2016, 1005, 1055, 2004, 2851, 1011, 8294, 4654, 21436, 4630, 2004, 2016, 2001, 1999, 25285, 1012, 102,
    ],
  },
  {
    line: 353, // ( næs ) directed the stage version of elling , ...   (æ has no decomposition: kept)
    pieces:
      '[CLS] ( n ##æ ##s ) directed the stage version of el ##ling , and gets fine performances from his two leads who originated the characters on stage . [SEP]',
    ids: [
      101, 1006, 1050, 29667, 2015, 1007, 2856, 1996, 2754, 2544, 1997, 3449, 2989, 1010, 1998, 4152, 2986, 4616, 2013, 2010, 2048, 5260, 2040, 7940,
      1996, 3494, 2006, 2754, 1012, 102,
    ],
  },
  {
    line: 708, // how do you spell cliché ?
    pieces: '[CLS] how do you spell cl ##iche ? [SEP]',
    ids: [101, 2129, 2079, 2017, 6297, 18856, 17322, 1029, 102],
  },
];

async function loadOrSkip(t: { skip: (m: string) => void }): Promise<{ tok: Tokenizer; lines: string[] } | undefined> {
  const dir = sharedPath(MINILM);
  const dev = sharedPath(SST2_DEV);
  if (!dir) return void t.skip(missingShared(MINILM));
  if (!dev) return void t.skip(missingShared(SST2_DEV));
  const lines = readFileSync(dev, 'utf8').split('\n');
  return { tok: await Tokenizer.load(dir), lines };
}

test('WordPiece: SST-2 sentences give the ids read off vocab.txt', async (t) => {
  const loaded = await loadOrSkip(t);
  if (!loaded) return;
  const { tok, lines } = loaded;
  const vocab = readFileSync(join(sharedPath(MINILM)!, 'vocab.txt'), 'utf8').split('\n');
  for (const c of CASES) {
    const sentence = lines[c.line - 1].split('\t')[0];
    // The literal ids and the literal pieces agree with vocab.txt (guards the table itself).
    assert.deepEqual(c.ids.map((id) => vocab[id]), c.pieces.split(' '), `table for line ${c.line}`);
    assert.deepEqual(tok.encode(sentence), c.ids, `dev.tsv line ${c.line}: ${sentence}`);
  }
});

test('WordPiece: special ids, [UNK] for over-long words, decode', async (t) => {
  const loaded = await loadOrSkip(t);
  if (!loaded) return;
  const { tok } = loaded;
  assert.equal(tok.vocabSize, 30522);
  assert.equal(tok.padId, 0);
  assert.equal(tok.unkId, 100);
  assert.equal(tok.bosId, undefined);
  assert.equal(tok.modelMaxLength, 512);
  assert.deepEqual(tok.templatePrefix, [101]);
  assert.deepEqual(tok.templateSuffix, [102]);
  // max_input_chars_per_word = 100: a 101-letter word is [UNK], a 100-letter one is not.
  assert.deepEqual(tok.encode('x' + 'a'.repeat(100)), [101, 100, 102]);
  assert.notEqual(tok.encode('a'.repeat(100))[1], 100);
  assert.deepEqual(tok.encode('Hello, WORLD!'), [101, 7592, 1010, 2088, 999, 102]);
  assert.equal(tok.decode(tok.encode('Hello, WORLD!'), { skipSpecialTokens: true }), 'hello, world!');
});

test('WordPiece: encodeBatch pads with [PAD], masks, and truncates keeping [CLS]/[SEP]', async (t) => {
  const loaded = await loadOrSkip(t);
  if (!loaded) return;
  const { tok, lines } = loaded;
  const a = lines[CASES[0].line - 1].split('\t')[0];
  const b = lines[CASES[5].line - 1].split('\t')[0];
  const batch = tok.encodeBatch([a, b]);
  assert.deepEqual(batch.inputIds[0], CASES[0].ids);
  assert.deepEqual(batch.inputIds[1], [...CASES[5].ids, 0, 0, 0]);
  assert.deepEqual(batch.attentionMask[0], new Array(12).fill(1));
  assert.deepEqual(batch.attentionMask[1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);

  const cut = tok.encodeBatch([a, b], { maxLength: 6 });
  assert.deepEqual(cut.inputIds, [
    [101, 2009, 1005, 1055, 1037, 102],
    [101, 2129, 2079, 2017, 6297, 102],
  ]);
  // Default maxLength is model_max_length (512): a long text is cut to 512 with [SEP] last.
  const long = tok.encodeBatch([Array(600).fill('film').join(' '), 'ok']);
  assert.equal(long.inputIds[0].length, 512);
  assert.equal(long.inputIds[0][511], 102);
  assert.equal(long.inputIds[1].length, 512);
  assert.equal(long.attentionMask[1].reduce((s, x) => s + x, 0), 3);
  assert.deepEqual(tok.encodeBatch([a, b], { padding: false }).inputIds[1], CASES[5].ids);
  assert.throws(() => tok.encodeBatch([a], { maxLength: 2 }), /no room/);
});
