// Tests of the byte-level BPE trainer: saved folders load through Tokenizer.load, exact round trips, determinism, speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer, byteToUnicode, saveTrainedBpe, trainByteLevelBpe } from './index.js';
import { IclitError } from '../util/errors.js';
import { missingShared, sharedPath, makeTempDir, removeTempDir } from '../util/testing.js';

/** A deterministic toy corpus: frequent words ("the", "movie", ...) and rare ones, from a seeded LCG. */
function toyCorpus(n: number): string[] {
  const common = ['the', 'movie', 'is', 'a', 'film', 'and', 'of', 'good', 'bad', 'very'];
  const rare = ['zebra', 'quixotic', 'Ärger', 'naïve', '42', 'x-ray', "don't", '日本', '🦙', 'café'];
  let s = 12345;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const words: string[] = [];
    const len = 3 + Math.floor(next() * 8);
    for (let j = 0; j < len; j++) words.push(next() < 0.9 ? common[Math.floor(next() * common.length)] : rare[Math.floor(next() * rare.length)]);
    out.push(words.join(' ') + (next() < 0.5 ? ' .' : '!'));
  }
  return out;
}

test('byteToUnicode is GPT-2 bytes_to_unicode', () => {
  const m = byteToUnicode();
  assert.equal(new Set(m).size, 256);
  assert.equal(m[0x20], 'Ġ'); // space
  assert.equal(m[0x0a], 'Ċ'); // newline
  assert.equal(m[0x41], 'A');
  assert.equal(m[0x00], 'Ā');
  assert.equal(m[0xad], 'Ń'); // soft hyphen is not kept as itself
});

test('trained tokenizer: save, Tokenizer.load, exact round trips, frequent words are single tokens', async () => {
  const corpus = toyCorpus(2000);
  const trained = trainByteLevelBpe(corpus, { vocabSize: 400, specialTokens: ['<unk>', '<s>', '</s>', '<pad>'], minFrequency: 2 });
  const model = trained.tokenizerJson.model as { vocab: Record<string, number>; merges: string[]; type: string };
  assert.equal(model.type, 'BPE');
  // The toy corpus runs out of pairs seen twice before 400: training stops there.
  const size = Object.keys(model.vocab).length;
  assert.ok(size > 300 && size <= 400, `vocabulary of ${size}`);
  assert.equal(model.merges.length, size - 4 - 256);
  assert.deepEqual((trained.tokenizerJson.pre_tokenizer as { type: string }).type, 'ByteLevel');
  assert.deepEqual((trained.tokenizerJson.decoder as { type: string }).type, 'ByteLevel');
  assert.equal(trained.tokenizerConfig.bos_token, '<s>');
  assert.equal(trained.tokenizerConfig.eos_token, '</s>');
  assert.equal(trained.tokenizerConfig.add_bos_token, true);

  const dir = makeTempDir('iclit-bpe-');
  try {
    saveTrainedBpe(dir, trained);
    const tok = await Tokenizer.load(dir);
    assert.equal(tok.vocabSize, size);
    assert.deepEqual([tok.unkId, tok.bosId, tok.eosId, tok.padId], [0, 1, 2, 3]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'special_tokens_map.json'), 'utf8')).pad_token, '<pad>');

    for (const word of [' the', ' movie', ' film', ' good', ' very']) {
      assert.equal(tok.tokenize(word).length, 1, `${JSON.stringify(word)} → ${tok.tokenize(word).join('|')}`);
    }
    assert.ok(tok.tokenize(' zygomorphic').length > 3, 'an unseen word stays split');

    const texts = [
      ...corpus.slice(0, 50),
      'the movie is very good .',
      'Unseen words: Příliš žluťoučký kůň, 日本語, emoji 🦙🚀, tabs\tand\nnewlines  and   spaces ',
      "it 's 3.14 — \"quoted\" <s> text </s>",
      '',
    ];
    for (const text of texts) {
      const ids = tok.encode(text);
      assert.equal(ids[0], 1, 'BOS first (add_bos_token: true)');
      assert.equal(ids.filter((id, i) => id === 1 && i === 0).length, 1);
      assert.ok(ids.every((id) => id >= 0 && id < size));
      assert.equal(tok.decode(ids, { skipSpecialTokens: true }), text.replace(/<s>|<\/s>/g, ''), `round trip of ${JSON.stringify(text)}`);
      assert.equal(tok.decode(ids.slice(1)), text, `round trip (specials kept) of ${JSON.stringify(text)}`);
    }
  } finally {
    removeTempDir(dir);
  }
});

test('training is deterministic and merges stop at minFrequency', () => {
  const corpus = toyCorpus(300);
  const a = trainByteLevelBpe(corpus, { vocabSize: 330 });
  const b = trainByteLevelBpe([...corpus], { vocabSize: 330 });
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  // Ties: 'ab' and 'cd' occur equally often; the pair with the smaller ids (a=97 < c=99) is merged first.
  const tie = trainByteLevelBpe(['cd ab', 'ab cd'], { vocabSize: 262, specialTokens: [] });
  const merges = (tie.tokenizerJson.model as { merges: string[] }).merges;
  assert.deepEqual(merges.slice(0, 2), ['a b', 'c d']);
  // Each remaining pair ('Ġ'+'ab'/'cd') occurs once: below minFrequency 2, so training stops early.
  assert.equal(merges.length, 2);
  const once = trainByteLevelBpe(['cd ab', 'ab cd'], { vocabSize: 262, specialTokens: [], minFrequency: 1 });
  assert.equal((once.tokenizerJson.model as { merges: string[] }).merges.length, 4);
});

test('merges that spell an existing token reuse its id', () => {
  // 'abc' can arise as 'ab'+'c' and 'a'+'bc'; the vocabulary must stay a bijection.
  const trained = trainByteLevelBpe(['ab ab ab ab abc abc', 'bc bc bc bc abc abc', 'xabc xabc'], { vocabSize: 280, specialTokens: [], minFrequency: 1 });
  const vocab = (trained.tokenizerJson.model as { vocab: Record<string, number> }).vocab;
  const ids = Object.values(vocab);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort((x, y) => x - y), ids.map((_, i) => i));
  const tok = Tokenizer.fromFiles(trained);
  for (const s of ['abc xabc ab bc', 'cab']) assert.equal(tok.decode(tok.encode(s)), s);
});

test('bad trainer options are IclitErrors', () => {
  assert.throws(() => trainByteLevelBpe(['x'], { vocabSize: 100 }), IclitError);
  assert.throws(() => trainByteLevelBpe(['x'], { vocabSize: 300, specialTokens: ['<s>', '<s>'] }), IclitError);
  assert.throws(() => trainByteLevelBpe(['x'], { vocabSize: 300, minFrequency: 0 }), IclitError);
});

test('speed: 10k SST-2 sentences, vocab 2000, in a few seconds', async (t) => {
  const train = sharedPath('data/sst2/train.tsv');
  if (!train) return t.skip(missingShared('data/sst2/train.tsv'));
  const sentences = readFileSync(train, 'utf8').split('\n').slice(1, 10001).map((l) => l.split('\t')[0]);
  const start = performance.now();
  const trained = trainByteLevelBpe(sentences, { vocabSize: 2000 });
  const seconds = (performance.now() - start) / 1000;
  assert.ok(seconds < 10, `training took ${seconds.toFixed(2)} s`);
  const tok = Tokenizer.fromFiles(trained, '<trained>');
  assert.equal(tok.vocabSize, 2000);
  for (const w of [' the', ' film', ' movie', ' and']) assert.equal(tok.tokenize(w).length, 1, w);
  for (const s of sentences.slice(0, 200)) assert.equal(tok.decode(tok.encode(s, { addBos: false })), s);
});
