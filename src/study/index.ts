// Public face of src/study: a study's settings (YAML, flags) and one run end to end (openStudy → study.run).
export * from './settings.js';
export * from './study.js';
export * from './cost.js';
export * from './estimate.js';
export * from './progress.js';
export * from './progress-line.js';
export { Ticker } from './ticker.js';
export * from './paper.js';
