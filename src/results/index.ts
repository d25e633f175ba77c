// Public face of src/results: the results database, the run manifest, stored states and adapters, record exports and the robustness measures over stored states.
export { ResultsStore, unitKey, DB_FILE, MANIFEST_FILE, SUPERSEDED_DIR, type UnitKey, type RecordFilter, type DamagedRecord, type SinkOptions } from './store.js';
export * from './artifacts.js';
export { EmbeddingCache, embeddingKey } from './embedding-cache.js';
export {
  acceptedHashes, buildManifest, canonicalJson, checkManifest, configHash, fingerprintPath, manifestDifferences, sha256Hex,
  type ConfigExtension, type JsonValue, type Manifest, type ManifestAction, type ManifestData, type ManifestHub, type ManifestInput, type ManifestModel,
} from './manifest.js';
export {
  EXPORT_FORMATS, csvField, exportRecords, exportTable, toCsv, toJsonl, toParquet,
  type Cell, type ExportColumn, type ExportFormat, type ExportOptions, type ExportTable,
} from './export.js';
export {
  computeRobustness,
  type ConditionRobustness, type GroupRobustness, type LayerGroupRobustness, type RecordRobustness,
  type Robustness, type RobustnessOptions, type StatesOf, type TripleSims,
} from './robustness.js';
export { decodeJson, encodeJson } from './codec.js';
export { mergeResults, type MergeSummary } from './merge.js';
export { resultsFolders } from './tree.js';
export { RESULTS_OWN_FILES, resultsInputs, resultsOwnInputs } from './inputs.js';
