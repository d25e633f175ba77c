// Public face of src/experiments: presets and conditions, the StudyBackend interface, the runner, the LLaMA backend.
export * from './record.js';
export * from './conditions.js';
export * from './backend.js';
export * from './units.js';
export * from './runner.js';
export * from './config.js';
export { LlamaStudyBackend } from './llama-backend.js';
