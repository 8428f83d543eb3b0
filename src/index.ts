/** elex-wasm: an AI agent's working memory in one WebAssembly module. */
export { Engine, DEFAULT_BUDGET_BYTES, MIN_BUDGET_BYTES, MAX_BUDGET_BYTES } from './engine.js';
export type { EngineOptions, SimdMode } from './engine.js';
export type { WasmSource, WasmBuilds } from './wasm/source.js';
export type { ValidateRangesOptions } from './kernels/ranges.js';
export type { AggregateOptions, CounterAggregates } from './kernels/counters.js';
export { StateEncoder, MAX_STATE_BINS } from './qlearn/state-encoder.js';
export type { StateField, RangeField, EdgesField, LearnFieldsOptions } from './qlearn/state-encoder.js';
export { VectorIndex, MISSING_ID } from './vector-index.js';
export type { IndexOptions, SearchOptions, SearchResult, BatchSearchResult, Metric, Quantization, SnapshotSource } from './vector-index.js';
export { QTable, MAX_ACTIONS } from './qtable.js';
export type { QTableOptions } from './qtable.js';
export { TrajectoryBuffer, MAX_TRAJECTORY_CAPACITY } from './trajectory.js';
export type { TrajectoryOptions } from './trajectory.js';
export type { TransitionBatch, Transitions } from './transitions.js';
export {
  ElexError, DimensionMismatchError, InvalidVectorError, BudgetExceededError, CorruptSnapshotError,
  InvalidArgumentError, DisposedError, EngineBrokenError, StoreError, StoreQuotaError, WasmLoadError,
} from './errors.js';
export { simdSupported } from './wasm/probe.js';
export { parseFvecs, parseIvecs } from './vecs-format.js';
export type { VecsFile } from './vecs-format.js';
export { MemoryMonitor } from './monitor.js';
export type { Trend } from './monitor.js';
export { AgentCache } from './agent-cache.js';
export type { AgentCacheOptions, AgentCacheStats } from './agent-cache.js';
export { Agent } from './agent.js';
export type { AgentStore, ByteStore } from './stores/agent-store.js';
export type { SaveOptions, SaveResult } from './persist/save.js';
export { MemoryStore } from './stores/memory-store.js';
export { FileStore } from './stores/file-store.js';
export { IndexedDBStore } from './stores/indexeddb-store.js';
export type { IndexedDBStoreOptions } from './stores/indexeddb-store.js';
