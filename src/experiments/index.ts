// Public face of src/experiments: presets and conditions, methods, the backend and sink interfaces, the runner, the LLaMA backend.
export * from './record.js';
export * from './conditions.js';
export * from './controls.js';
export * from './methods.js';
export * from './backend.js';
export * from './units.js';
export * from './measures.js';
export * from './agreement.js';
export * from './runner.js';
export { LlamaStudyBackend } from './llama-backend.js';
export * from './model-folder.js';
export * from './preflight.js';
export * from './work.js';
export { PAPER_CONTROLS, PAPER_ORDER } from './paper-order.js';
