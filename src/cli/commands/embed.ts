// `iclit embed`: sentence embeddings (sentence-transformers folder: BERT → pooling → normalise) of texts or token ids, as safetensors or JSON.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readTextFile } from '../../data/index.js';
import { SentenceEncoder, type IdsInput } from '../../models/index.js';
import { writeSafetensors } from '../../io/index.js';
import { IclitError, UsageError } from '../../util/errors.js';
import { checkOutputApart, checkOutputFile } from '../../util/fs.js';
import { num, str, type Command } from '../args.js';
import { applyThreads, deviceFlags, deviceOf, folderFlag } from '../common.js';

/** Reads `{"input_ids": [[…]], "attention_mask": [[…]]}` (attention_mask optional). */
function readIdsJson(path: string): IdsInput {
  const content = readTextFile(path, 'ids file');
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (e) {
    throw new IclitError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const o = raw as { input_ids?: unknown; attention_mask?: unknown };
  if (!o || typeof o !== 'object' || !Array.isArray(o.input_ids)) throw new IclitError(`${path}: expected {"input_ids": [[…]], "attention_mask": [[…]]}`);
  if (o.attention_mask !== undefined && !Array.isArray(o.attention_mask)) throw new IclitError(`${path}: "attention_mask" must be a list of rows`);
  return { inputIds: o.input_ids as number[][], attentionMask: o.attention_mask as number[][] | undefined };
}

/** One text per non-empty line (a trailing newline or blank lines add nothing). */
function readTexts(path: string): string[] {
  return readTextFile(path, 'text file').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
}

export const embed: Command = {
  name: 'embed',
  summary: 'sentence embeddings from a sentence-transformers BERT folder (mean/CLS/max pooling, normalised as its modules say)',
  usage: 'embed --encoder DIR (--text STR … | --file FILE.txt | --ids-json FILE) [--out FILE.safetensors | --json] [--batch-size N] [--device cpu|cuda|cuda:N|auto]',
  maxPositionals: 0,
  flags: {
    encoder: { type: 'string', value: 'DIR', description: 'sentence-transformers folder (modules.json, 1_Pooling/, config.json, model.safetensors)' },
    tokenizer: { type: 'string', value: 'DIR', description: 'tokenizer folder (default: the encoder folder)' },
    text: { type: 'string', multiple: true, value: 'STR', description: 'a text to embed (repeat for several)' },
    file: { type: 'string', value: 'FILE.txt', description: 'texts to embed, one per non-empty line' },
    'ids-json': { type: 'string', value: 'FILE', description: 'token ids instead of texts: {"input_ids": [[…]], "attention_mask": [[…]]}' },
    out: { type: 'string', value: 'FILE', description: 'write .safetensors with embeddings float32 [n, dim]' },
    json: { type: 'boolean', description: 'print {"dimension", "embeddings": [[…]]} as JSON on stdout (the default without --out)' },
    'batch-size': { type: 'string', value: 'N', description: 'sequences per forward pass', default: '32' },
    threads: { type: 'string', value: 'N', description: 'CPU threads for libtorch (default: all cores)' },
    ...deviceFlags,
  },
  async run(flags) {
    const texts = flags.text as string[] | undefined;
    const file = str(flags, 'file');
    const idsJson = str(flags, 'ids-json');
    const given = [texts !== undefined, file !== undefined, idsJson !== undefined].filter(Boolean).length;
    if (given !== 1) throw new UsageError('give exactly one of --text (repeatable), --file or --ids-json');
    const out = str(flags, 'out');
    if (out !== undefined && flags.json === true) throw new UsageError('give either --out or --json, not both');
    const batchSize = num(flags, 'batch-size', { integer: true, min: 1 }) ?? 32;
    applyThreads(flags);
    const device = deviceOf(flags);
    const dir = folderFlag(flags, 'encoder', 'encoder folder');
    const tokenizerDir = folderFlag(flags, 'tokenizer', 'tokenizer folder', true);
    if (out !== undefined) checkOutputFile(out, 'output file');
    const inputs = [[dir, 'encoder folder'], [tokenizerDir, 'tokenizer folder'], [file, 'text file'], [idsJson, 'ids file']] as const;
    if (out !== undefined) checkOutputApart(out, 'output file', inputs.filter(([p]) => p !== undefined).map(([path, what]) => ({ path: path!, what })));
    const input: string[] | IdsInput = idsJson !== undefined ? readIdsJson(idsJson) : (texts ?? readTexts(file!));
    const encoder = await SentenceEncoder.load(dir, { batchSize, tokenizerDir, device });
    try {
      const vectors = encoder.embed(input);
      const n = vectors.length;
      const D = encoder.dimension;
      if (out !== undefined) {
        const flat = new Float32Array(n * D);
        vectors.forEach((v, i) => flat.set(v, i * D));
        mkdirSync(dirname(out), { recursive: true }); // checked above: no file in the way, a real, writable disk
        writeSafetensors(out, { embeddings: { dtype: 'float32', shape: [n, D], data: flat } }, {
          encoder: dir,
          pooling: encoder.pooling.modes.join(','),
          normalize: String(encoder.modules.normalize),
          max_seq_length: String(encoder.maxSeqLength),
        });
        process.stderr.write(`wrote ${n} embeddings of dimension ${D} to ${out}\n`);
      } else {
        process.stdout.write(JSON.stringify({ dimension: D, embeddings: vectors.map((v) => Array.from(v)) }) + '\n');
      }
    } finally {
      encoder.dispose();
    }
    return 0;
  },
};
