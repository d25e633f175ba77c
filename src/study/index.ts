// Public face of src/study: a study's settings (YAML, flags) and one run end to end (openStudy → study.run).
export * from './settings.js';
export * from './study.js';
export * from './paper.js';
