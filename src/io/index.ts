// Checkpoint input/output: safetensors, shards, Hugging Face config and weight names.
export * from './safetensors.js';
export * from './checkpoint.js';
export * from './hf-config.js';
export * from './weight-names.js';
export * from './random-checkpoint.js';
export * from './checkpoint-checks.js';
export * from './hf-cache.js';
