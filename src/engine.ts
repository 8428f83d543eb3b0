/**
 * Engine: one WebAssembly instance, one linear memory, one byte budget. Everything an agent
 * keeps (indexes now; Q-tables and agents as they land) is created from an Engine and lives in
 * its memory, so `usedBytes` never passes `budgetBytes`.
 */
import { InvalidArgumentError } from './errors.js';
import { Runtime } from './runtime/runtime.js';
import { checkInt, checkOneOf, checkOptionNames, optionNames } from './util/validate.js';
import { type VectorIndex, createIndex } from './hnsw/vector-index.js';
import { loadIndex, type SnapshotSource } from './hnsw/load.js';
import type { IndexOptions } from './hnsw/options.js';
import { openIndex } from './hnsw/store/open.js';
import type { ByteStore } from './stores/byte-store.js';
import { type QTable, createQTable, loadQTable, type QTableOptions } from './qlearn/qtable.js';
import {
  type TrajectoryBuffer,
  createTrajectoryBuffer,
  loadTrajectoryBuffer,
  type TrajectoryOptions,
} from './qlearn/trajectory.js';
import { AgentCache, type AgentCacheOptions } from './agents/cache.js';
import { MemoryMonitor, DEFAULT_MONITOR_SAMPLES } from './runtime/monitor.js';
import { engineModule, type SimdMode } from './runtime/wasm/module.js';
import { availableCores, ThreadPool, threadsUnavailable, type ThreadsFallback } from './runtime/threads.js';
import { validateRanges, type ValidateRangesOptions } from './kernels/ranges.js';
import { aggregateCounters, type AggregateOptions, type CounterAggregates } from './kernels/counters.js';
import type { WasmBuilds, WasmSource } from './runtime/wasm/source.js';

/** 500 MiB, the default budget. */
export const DEFAULT_BUDGET_BYTES = 500 * 1024 * 1024;
/** Smallest budget accepted: 1 MiB. */
export const MIN_BUDGET_BYTES = 1024 * 1024;
/** Largest budget accepted: 4 GiB less one 64 KiB page (the wasm32 limit). */
export const MAX_BUDGET_BYTES = 4 * 1024 * 1024 * 1024 - 65536;

export type { SimdMode } from './runtime/wasm/module.js';
export type { ThreadsFallback } from './runtime/threads.js';

/** Options of {@link Engine.create}. */
export interface EngineOptions {
  /**
   * Hard cap on the engine's linear memory, in bytes, 1 MiB..4 GiB-64 KiB.
   *
   * @defaultValue `500 * 1024 * 1024` (500 MiB, {@link DEFAULT_BUDGET_BYTES})
   */
  budgetBytes?: number;
  /**
   * Which build to run: {@link SimdMode}.
   *
   * @defaultValue `'auto'`
   */
  simd?: SimdMode;
  /**
   * The module to run instead of the embedded build: one source, run as it is (bytes, a
   * compiled WebAssembly.Module, a URL or a fetch Response, streamed when served as
   * application/wasm), or `{ simd, scalar }`, one source per build, of which only the one the
   * SIMD probe and `simd` pick is fetched.
   *
   * @defaultValue the base64 builds inside the JavaScript
   */
  wasm?: WasmSource | WasmBuilds;
  /**
   * Samples the memory monitor keeps, 1..4096.
   *
   * @defaultValue `100`
   */
  monitorSamples?: number;
  /**
   * Threads for the async batch calls ({@link VectorIndex.addBatchAsync},
   * {@link VectorIndex.searchBatchAsync}): a count, 1..256, or `'auto'` for the cores this runtime
   * reports. More than 1 runs the threads build over a shared memory, with threads - 1 workers
   * (Node's worker_threads, Web Workers where the page is cross-origin isolated) beside the
   * calling thread. Where threads cannot run, the engine runs one and says why in
   * {@link Engine.threadsFallback} (or throws, with `strictThreads`). See docs/threads.md.
   *
   * @defaultValue `1`
   */
  threads?: number | 'auto';
  /**
   * Throw InvalidArgumentError instead of falling back to one thread when `threads` > 1 cannot run.
   *
   * @defaultValue `false`
   */
  strictThreads?: boolean;
}

const ENGINE_OPTIONS = optionNames<EngineOptions>({
  budgetBytes: true,
  simd: true,
  wasm: true,
  monitorSamples: true,
  threads: true,
  strictThreads: true,
});
/** Most threads an engine runs. */
const MAX_THREADS = 256;

/**
 * One WebAssembly instance, one linear memory, one byte budget. Indexes, Q-tables, trajectory
 * buffers and agent caches are created from an Engine and live in its memory, so
 * {@link Engine.usedBytes} never passes {@link Engine.budgetBytes}.
 *
 * @example
 * ```ts
 * const engine = await Engine.create({ budgetBytes: 64 * 1024 * 1024 });
 * const index = engine.createIndex({ dim: 3 });
 * index.add(1, [0.1, 0.2, 0.3]);
 * const { ids, distances } = index.search([0.1, 0.2, 0.3], 1);
 * engine.dispose();
 * ```
 */
export class Engine {
  /** The memory-pressure monitor: samples of usedBytes / budgetBytes, taken after every call that changed them. */
  readonly monitor: MemoryMonitor;
  private readonly rt: Runtime;

  private constructor(rt: Runtime, monitorSamples: number) {
    this.rt = rt;
    this.monitor = new MemoryMonitor(rt, monitorSamples);
  }

  /**
   * Loads the SIMD build where the engine runs SIMD correctly (or as `simd` says) and sets up a
   * memory capped at `budgetBytes`. Throws InvalidArgumentError for bad or unknown options, or for
   * simd: 'on' where SIMD is unavailable, or a `wasm` that is not a module source; WasmLoadError
   * for a `wasm` that cannot be fetched, compiled or instantiated as an elex build. Cost: one
   * module compile (streamed from a URL where the server allows), a few ms.
   *
   * @throws {@link InvalidArgumentError} for bad or unknown options, or `simd: 'on'` without SIMD.
   * @throws {@link WasmLoadError} for a `wasm` that cannot be fetched, compiled or instantiated.
   */
  static async create(options: EngineOptions = {}): Promise<Engine> {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('engine options must be an object');
    checkOptionNames('Engine.create', options, ENGINE_OPTIONS);
    const budgetBytes = checkInt(
      'budgetBytes',
      options.budgetBytes ?? DEFAULT_BUDGET_BYTES,
      MIN_BUDGET_BYTES,
      MAX_BUDGET_BYTES,
    );
    const mode = checkOneOf<SimdMode>('simd', options.simd ?? 'auto', ['auto', 'on', 'off']);
    const monitorSamples = checkInt('monitorSamples', options.monitorSamples ?? DEFAULT_MONITOR_SAMPLES, 1, 4096);
    const asked =
      options.threads === 'auto'
        ? Math.min(availableCores(), MAX_THREADS)
        : checkInt('threads', options.threads ?? 1, 1, MAX_THREADS);
    if (options.strictThreads !== undefined && typeof options.strictThreads !== 'boolean')
      throw new InvalidArgumentError('strictThreads must be a boolean');
    let fallback: ThreadsFallback | null = asked > 1 ? threadsUnavailable() : null;
    if (fallback === null && asked > 1 && options.wasm !== undefined) fallback = 'custom-wasm';
    if (fallback !== null && options.strictThreads === true)
      throw new InvalidArgumentError(
        `threads: ${asked} were asked for strictly, but this runtime cannot run them (${fallback})`,
      );
    const threaded = asked > 1 && fallback === null;
    const module = await engineModule(options.wasm, mode, threaded);
    const rt = await Runtime.instantiate(module, budgetBytes, threaded);
    if (threaded) {
      try {
        rt.pool = await ThreadPool.start(module, rt.memory, asked - 1);
      } catch (error) {
        if (options.strictThreads === true)
          throw new InvalidArgumentError(`threads: the workers did not start (${error})`);
        fallback = 'worker-start-failed';
      }
    }
    rt.threadsFallback = fallback;
    return new Engine(rt, monitorSamples);
  }

  /** Threads the engine's async batch calls run on: 1, or the `threads` it was created with. */
  get threads(): number {
    return this.rt.threads;
  }

  /**
   * Why the engine runs one thread although `threads` > 1 was asked for, or null:
   * 'no-shared-array-buffer', 'not-cross-origin-isolated' (a page served without the COOP and
   * COEP headers), 'no-workers', 'custom-wasm' (a `wasm` option: the threads build is the
   * embedded one), 'worker-start-failed'.
   */
  get threadsFallback(): ThreadsFallback | null {
    return this.rt.threadsFallback as ThreadsFallback | null;
  }

  /** True when the SIMD (f32x4) build is running. */
  get simd(): boolean {
    return this.rt.simd;
  }

  /** The hard cap on linear memory, in bytes. */
  get budgetBytes(): number {
    return this.rt.budgetBytes;
  }

  /**
   * Bytes in use by everything in the engine (static data and live blocks); never above
   * budgetBytes. Freed blocks leave holes that later allocations reuse first. Cost: O(1).
   */
  get usedBytes(): number {
    return this.rt.usedBytes;
  }

  /**
   * The most usedBytes has been since the engine was created or since the last
   * {@link resetPeakUsedBytes}: what a call needed at its worst, e.g. what saving or loading an
   * index costs beyond the index itself. Cost: O(1).
   */
  get peakUsedBytes(): number {
    return this.rt.peakUsedBytes;
  }

  /** Starts peakUsedBytes over at usedBytes now (before measuring one call). Cost: O(1). */
  resetPeakUsedBytes(): void {
    this.rt.check('resetPeakUsedBytes');
    this.rt.exports.engineResetPeak();
  }

  /** Bytes the engine's arena has claimed: usedBytes plus free holes; the budget caps this. */
  get reservedBytes(): number {
    return this.rt.reservedBytes;
  }

  /** usedBytes / budgetBytes, 0..1. */
  get pressure(): number {
    return this.rt.usedBytes / this.rt.budgetBytes;
  }

  /**
   * A new, empty HNSW index in this engine's memory. Throws InvalidArgumentError for bad
   * options, BudgetExceededError if even its empty structures do not fit.
   *
   * @throws {@link InvalidArgumentError} for bad or unknown options.
   * @throws {@link BudgetExceededError} if even the empty index does not fit.
   */
  createIndex(options: IndexOptions): VectorIndex {
    return createIndex(this.rt, options);
  }

  /**
   * An index rebuilt from `VectorIndex.serialize()` bytes, or from `serializeChunks()` chunks
   * (an iterable; an async iterable, such as a file stream, returns a promise): same parameters,
   * efSearch, vectors, graph, removed slots and level generator, so it answers every query
   * exactly as the original. The bytes go straight into the index's final blocks: it needs no
   * more budget than the index. Throws CorruptSnapshotError (nothing allocated) for bytes that
   * are not a valid snapshot, BudgetExceededError (nothing allocated) if it does not fit.
   * Cost: O(bytes).
   *
   * @throws {@link CorruptSnapshotError} for bytes that are not a valid snapshot.
   * @throws {@link BudgetExceededError} if the index does not fit.
   */
  loadIndex(source: Uint8Array | Iterable<Uint8Array>): VectorIndex;
  loadIndex(source: AsyncIterable<Uint8Array>): Promise<VectorIndex>;
  loadIndex(source: SnapshotSource): VectorIndex | Promise<VectorIndex> {
    return loadIndex(this.rt, source);
  }

  /**
   * The index saved in `store` under `name` by {@link VectorIndex.save}: same ids, answers and
   * later growth. StoreError (E_STORE) if there is none, CorruptSnapshotError (E_CORRUPT, naming
   * the key) for stored bytes that are not valid; nothing stays allocated after a failure. Cost:
   * reads the chunks its manifest names, loads the checkpoint, replays the log.
   */
  openIndex(store: ByteStore, name: string): Promise<VectorIndex> {
    return openIndex(this.rt, store, name);
  }

  /**
   * A new, empty Q-table in this engine's memory (see {@link QTableOptions} for defaults).
   * Throws InvalidArgumentError for bad options, BudgetExceededError if it does not fit.
   *
   * @throws {@link InvalidArgumentError} for bad or unknown options.
   * @throws {@link BudgetExceededError} if the table does not fit.
   */
  createQTable(options: QTableOptions): QTable {
    return createQTable(this.rt, options);
  }

  /**
   * A Q-table rebuilt from `QTable.serialize()` bytes: same values, visits, epsilon and
   * generator state. Throws CorruptSnapshotError (nothing allocated) for bytes that are not a
   * valid snapshot, BudgetExceededError if it does not fit. Costs the engine the table's memory
   * and nothing more (the bytes are checked in host memory and copied into its blocks). Cost: O(bytes).
   *
   * @throws {@link CorruptSnapshotError} for bytes that are not a valid snapshot.
   * @throws {@link BudgetExceededError} if the table does not fit.
   */
  loadQTable(bytes: Uint8Array): QTable {
    return loadQTable(this.rt, bytes);
  }

  /** A new, empty trajectory ring of `capacity` transitions. Throws InvalidArgumentError or BudgetExceededError. */
  createTrajectoryBuffer(options: TrajectoryOptions): TrajectoryBuffer {
    return createTrajectoryBuffer(this.rt, options);
  }

  /**
   * A trajectory buffer rebuilt from `TrajectoryBuffer.serialize()` bytes; CorruptSnapshotError for anything else,
   * BudgetExceededError if it does not fit. Costs the engine the buffer's memory and nothing more.
   */
  loadTrajectoryBuffer(bytes: Uint8Array): TrajectoryBuffer {
    return loadTrajectoryBuffer(this.rt, bytes);
  }

  /**
   * A cache of agents (a Q-table and a trajectory buffer each) in this engine, persisting the
   * ones it evicts to `store`. See {@link AgentCache}.
   */
  createAgentCache(options: AgentCacheOptions): AgentCache {
    return new AgentCache(this.rt, this.monitor, options);
  }

  /**
   * Checks proposed parameters against their allowed ranges: `values` holds rows of d floats
   * (d = lower.length = upper.length); returns, per row, how many components lie outside
   * [lower[i], upper[i]] (NaN counts as outside; bounds are compared as float32). With
   * `{ clamp: true }` it also clamps `values` in place (above upper -> upper, below lower or NaN
   * -> lower) and returns the counts from before. f32x4 in the SIMD build, its scalar twin
   * otherwise (same counts, same clamped bits). Throws DimensionMismatchError when
   * upper.length != lower.length or values.length is not a multiple of d, InvalidArgumentError
   * for empty input, a non-finite bound or lower[i] > upper[i], BudgetExceededError if even
   * its ~256 KiB of staging does not fit; nothing is computed or changed then.
   * Cost: rows * d comparisons plus copying the rows into the engine (and back when clamping).
   *
   * @example
   * const bad = engine.validateRanges(proposed, lower, upper);   // Uint32Array, one count a row
   * if (bad[0] > 0) engine.validateRanges(proposed, lower, upper, { clamp: true });
   */
  validateRanges(
    values: Float32Array,
    lower: ArrayLike<number>,
    upper: ArrayLike<number>,
    options?: ValidateRangesOptions,
  ): Uint32Array {
    return validateRanges(this.rt, values, lower, upper, options);
  }

  /**
   * Sum, min, max and mean of each column of `counters` (rows x `columns` values, row-major),
   * over all rows or, with `{ window }`, over each run of `window` rows (the last may be
   * shorter): four Float32Arrays of windows x columns (window w, column c at w * columns + c).
   * Sums are float32 in a fixed order (four running sums over rows i = 0, 1, 2, 3 mod 4, added
   * (s0 + s1) + (s2 + s3), then the last rows one by one), so the SIMD and scalar builds give
   * the same bits; min and max are exact; mean = sum / rows. Throws InvalidArgumentError for
   * empty counters, a length that is not a multiple of `columns` or a bad window,
   * InvalidVectorError for a column whose sum is NaN (a NaN counter, or infinities of both
   * signs), BudgetExceededError if the counters do not fit the engine's budget (nothing
   * changed). Cost: one pass over the counters plus copying them into the engine.
   *
   * @example
   * const { mean, max } = engine.aggregateCounters(samples, 16, { window: 60 });
   */
  aggregateCounters(counters: ArrayLike<number>, columns: number, options?: AggregateOptions): CounterAggregates {
    return aggregateCounters(this.rt, counters, columns, options);
  }

  /** @internal The runtime, for benchmarks and tests of the raw kernels. */
  get runtime(): Runtime {
    return this.rt;
  }

  /**
   * Releases the engine: stops its worker threads and drops its WebAssembly instance and memory, so
   * they are collected even while objects created from it are still referenced; those objects,
   * and the engine's own byte counters, throw DisposedError afterwards (an async call in flight
   * rejects with it). Cost: O(1).
   */
  dispose(): void {
    this.rt.dispose();
  }
}
