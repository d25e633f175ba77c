// Public API of src/tokenizers: loading Hugging Face tokenizer folders, batches for encoders, training byte-level BPE.
export { Tokenizer } from './tokenizer.js';
export type { TokenizerFiles, EncodeOptions, DecodeOptions, EncodeBatchOptions, EncodedBatch } from './tokenizer.js';
export { trainByteLevelBpe, saveTrainedBpe, byteToUnicode } from './bpe-trainer.js';
export type { BpeTrainOptions, TrainedBpe } from './bpe-trainer.js';
export { ChatTemplate, chatPrompts, piece, renderPieces, answerSeparator } from './chat-template.js';
export type { ChatMessage, ChatPiece, ChatPieceMessage, ChatSpecialTokens, ChatDemonstration, ChatStudyPieces, ChatSpan, ChatSpanKind, ChatText, ChatTuningText, ChatPrompts } from './chat-template.js';
