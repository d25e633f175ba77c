// A sentence-transformers folder checked before a study writes anything: modules, pooling, the BERT's weights (shapes, dtypes, values) and its own tokenizer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointWeights, checkCheckpointWeights } from '../io/index.js';
import { encoderWeightShapes, readEncoderConfig } from '../io/bert-config.js';
import { Tokenizer } from '../tokenizers/index.js';
import { IclitError } from '../util/errors.js';
import { readPoolingConfig } from './pooling.js';
import { readSentenceModules } from './sentence-modules.js';

/**
 * Everything SentenceEncoder.load would refuse, found from the files alone, plus what a study needs of it: a
 * tokenizer.json (the study embeds texts, never ids). One IclitError naming the file, key or weight.
 */
export async function checkSentenceEncoder(dir: string): Promise<void> {
  const modules = readSentenceModules(dir);
  const pooling = readPoolingConfig(modules.poolingDir);
  const t = modules.transformerDir;
  const config = readEncoderConfig(t);
  if (pooling.dimension !== config.hiddenSize) {
    throw new IclitError(`${join(modules.poolingDir, 'config.json')}: word_embedding_dimension ${pooling.dimension} differs from the encoder's hidden_size ${config.hiddenSize}`);
  }
  const w = CheckpointWeights.open(t);
  // BertForMaskedLM / BertForSequenceClassification checkpoints put the encoder under `bert.` (as BertModel.load reads them).
  const prefix = !w.has('embeddings.word_embeddings.weight') && w.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : '';
  w.close();
  checkCheckpointWeights(t, encoderWeightShapes(config), { prefix });
  if (!existsSync(join(t, 'tokenizer.json'))) throw new IclitError(`encoder folder ${t} has no tokenizer.json (the study embeds its texts with the encoder's own tokenizer)`);
  const tokenizer = await Tokenizer.load(t);
  if (tokenizer.vocabSize > config.vocabSize) throw new IclitError(`the tokenizer in ${t} has ${tokenizer.vocabSize} ids but the encoder's vocab_size is ${config.vocabSize}`);
}
