// A model folder read once for a study: config.json, the checkpoint's headers (kept open until the weights load), the tokenizer and, if asked, the chat template.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CheckpointWeights, readDecoderConfig, type DecoderConfig } from '../io/index.js';
import { ChatTemplate, Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { checkInputDir } from '../util/fs.js';

/** What a study knows of a model folder before loading its weights; `weights` is open until close(). */
export interface ModelFolder {
  dir: string;
  /** Records' model label (the folder name unless told). */
  label: string;
  config: DecoderConfig;
  weights: CheckpointWeights;
  tokenizer: Tokenizer;
  /** The folder's chat template, when the study renders prompts through it. */
  chat?: ChatTemplate;
  /** Token ids of `text`: BOS as the tokenizer's config says, or none under a chat template (it writes its own, as transformers' apply_chat_template does). */
  encode(text: string): number[];
  /** config.json's max_position_embeddings: the longest sequence the model reads. */
  maxPositions: number;
  close(): void;
}

/** Reads and checks `dir` (config, checkpoint headers, tokenizer against the vocabulary, chat template with `chat`); errors name the folder. */
export async function openModelFolder(dir: string, opts: { chat?: boolean; label?: string } = {}): Promise<ModelFolder> {
  checkInputDir(dir, 'model folder');
  const config = readDecoderConfig(dir);
  const weights = CheckpointWeights.open(dir);
  let tokenizer: Tokenizer;
  let chat: ChatTemplate | undefined;
  try {
    if (!existsSync(join(dir, 'tokenizer.json'))) throw new IclitError(`${dir} has no tokenizer.json (the study tokenizes with the model folder's own tokenizer)`);
    tokenizer = await Tokenizer.load(dir);
    if (tokenizer.vocabSize > config.vocabSize) throw new IclitError(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but config.json's vocab_size is ${config.vocabSize}`);
    chat = opts.chat ? ChatTemplate.load(dir) : undefined;
  } catch (e) {
    weights.close();
    throw e;
  }
  return {
    dir,
    label: opts.label ?? basename(resolve(dir)),
    config,
    weights,
    tokenizer,
    chat,
    encode: (text) => tokenizer.encode(text, { addSpecialTokens: !chat }),
    maxPositions: config.maxPositionEmbeddings,
    close: () => weights.close(),
  };
}
