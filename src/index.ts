/** elex-wasm: an AI agent's working memory in one WebAssembly module. */
export { Engine, DEFAULT_BUDGET_BYTES, MIN_BUDGET_BYTES, MAX_BUDGET_BYTES } from './engine.js';
export type { EngineOptions, SimdMode, ThreadsFallback } from './engine.js';
export type { WasmSource, WasmBuilds } from './runtime/wasm/source.js';
export type { ValidateRangesOptions } from './kernels/ranges.js';
export type { AggregateOptions, CounterAggregates } from './kernels/counters.js';
export { StateEncoder, MAX_STATE_BINS } from './qlearn/state-encoder.js';
export type { StateField, RangeField, EdgesField, LearnFieldsOptions } from './qlearn/state-encoder.js';
export { VectorIndex } from './hnsw/vector-index.js';
export { MISSING_ID } from './hnsw/options.js';
export type {
  IndexOptions,
  SearchOptions,
  AddBatchAsyncOptions,
  SearchResult,
  BatchSearchResult,
  SearchFilter,
  Metric,
  Quantization,
} from './hnsw/options.js';
export type { SnapshotSource } from './hnsw/load.js';
export { IdSet } from './hnsw/filter.js';
export type { SearchPlan } from './hnsw/filter.js';
export type { Attributes, AttributeValue, FieldDeclarations, FieldKind } from './hnsw/attributes.js';
export {
  MAX_FIELDS as MAX_ATTRIBUTE_FIELDS,
  MAX_FIELD_NAME_BYTES as MAX_ATTRIBUTE_NAME_BYTES,
} from './hnsw/attributes.js';
export { checkWhere } from './hnsw/where.js';
export type { Where, WhereOperators, WhereValue } from './hnsw/where.js';
export { QTable, MAX_ACTIONS } from './qlearn/qtable.js';
export type { QTableOptions } from './qlearn/qtable.js';
export { TrajectoryBuffer, MAX_TRAJECTORY_CAPACITY } from './qlearn/trajectory.js';
export type { TrajectoryOptions } from './qlearn/trajectory.js';
export type { TransitionBatch, Transitions } from './qlearn/transitions.js';
export {
  ElexError,
  DimensionMismatchError,
  InvalidVectorError,
  BudgetExceededError,
  CorruptSnapshotError,
  InvalidArgumentError,
  DisposedError,
  EngineBrokenError,
  StoreError,
  StoreQuotaError,
  StoreLockedError,
  ConflictError,
  WasmLoadError,
  EmbeddingModelMismatchError,
} from './errors.js';
export type { LockOwner, EmbeddingProvenance } from './errors.js';
export { simdSupported } from './runtime/wasm/probe.js';
export { parseFvecs, parseIvecs } from './util/vecs-format.js';
export type { VecsFile } from './util/vecs-format.js';
export { MemoryMonitor } from './runtime/monitor.js';
export type { Trend } from './runtime/monitor.js';
export { AgentCache } from './agents/cache.js';
export type { AgentCacheOptions, AgentCacheStats } from './agents/cache.js';
export { Agent, type LeaseOutcome } from './agents/agent.js';
export type {
  AgentStore,
  ByteStore,
  ConditionalWrite,
  StoreVersion,
  VersionedBytes,
  VersionedStore,
} from './stores/byte-store.js';
export { isVersioned } from './stores/byte-store.js';
export type { SaveOptions, SaveResult } from './hnsw/store/save.js';
export { MemoryStore } from './stores/memory-store.js';
export { FileStore } from './stores/file-store.js';
export { IndexedDBStore } from './stores/indexeddb-store.js';
export type { IndexedDBStoreOptions } from './stores/indexeddb-store.js';
