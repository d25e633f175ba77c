// Model architectures: the LLaMA-family decoder (and the BERT encoder), their linear layers and hook points.
export * from './llama.js';
export * from './linear.js';
export * from './hooks.js';
export * from './bert.js';
export * from './sentence-encoder.js';
export * from './study-memory.js';
export * from './sentence-modules.js';
export * from './pooling.js';
export * from './hidden-states.js';
export * from './flops.js';
export * from './encoder-checks.js';
export * from './patching.js';
export * from './untrained.js';
