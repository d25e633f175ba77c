// LoRA adapters (PEFT conventions): the wrapping layer, batched adapters, PEFT adapter folders.
export * from './config.js';
export * from './lora.js';
export * from './random-direction.js';
export * from './peft.js';
export * from './rank.js';
