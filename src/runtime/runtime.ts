/**
 * One instantiated elex module and its linear memory: typed-array views that follow memory
 * growth, the guard every call goes through (disposed, broken, re-entered), and the filter
 * slot the module's `filterAccept` import reads.
 */
import {
  BudgetExceededError,
  DisposedError,
  EngineBrokenError,
  InvalidArgumentError,
  WasmLoadError,
} from '../errors.js';
import type { ElexExports } from './wasm/exports.js';
import type { ThreadPool } from './threads.js';

const PAGE = 65536;

export class Runtime {
  readonly budgetBytes: number;
  readonly simd: boolean;
  /** The predicate of the search in progress (MODE_FILTER), or null. */
  filter: ((id: number) => boolean) | null = null;
  /** What the filter of the call in progress threw (so run() tells it from a trap of the module), or null. */
  private filterThrew: { error: unknown } | null = null;
  /** The workers of a threaded engine (threads.ts), or null with one thread. */
  pool: ThreadPool | null = null;
  /** Why threads were asked for and one runs (threads.ts ThreadsFallback), or null. */
  threadsFallback: string | null = null;
  private disposed = false;
  private brokenBy: unknown = undefined;
  private busy = false;
  /** True while an async call (runAsync) owns the engine. */
  private busyAsync = false;
  /** The tail of the queue of async calls: each starts when the one before it has settled. */
  private queue: Promise<unknown> = Promise.resolve();
  private buffer: ArrayBuffer | null = null;
  private lastUsed = -1;
  /** Memory held only to be faster (an index's scan codes), each with what frees it: true when it freed some. */
  private readonly caches = new Set<() => boolean>();
  private f32View = new Float32Array(0);
  private u32View = new Uint32Array(0);
  /** The instance's exports and memory; null once disposed, so the GC can take both. */
  private ex: ElexExports | null;
  private mem: WebAssembly.Memory | null;

  private constructor(exports: ElexExports, memory: WebAssembly.Memory, budgetBytes: number) {
    this.ex = exports;
    this.mem = memory;
    this.budgetBytes = budgetBytes;
    this.simd = exports.engineSimd() === 1;
  }

  /** The module's exports; DisposedError once the engine is disposed. */
  get exports(): ElexExports {
    if (this.ex === null) throw new DisposedError('engine');
    return this.ex;
  }

  /** The engine's linear memory; DisposedError once the engine is disposed. */
  get memory(): WebAssembly.Memory {
    if (this.mem === null) throw new DisposedError('engine');
    return this.mem;
  }

  /**
   * Instantiates `module` over a fresh memory capped at budgetBytes; WasmLoadError for a module
   * that is not an elex build. Cost: ~1 ms.
   */
  static async instantiate(module: WebAssembly.Module, budgetBytes: number, shared = false): Promise<Runtime> {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: Math.floor(budgetBytes / PAGE), shared });
    let runtime: Runtime | null = null;
    const imports = {
      env: {
        memory,
        filterAccept: (id: number): number => (runtime === null ? 0 : runtime.accept(id >>> 0)),
        abort: () => {
          throw new WebAssembly.RuntimeError('abort called in elex module');
        },
      },
    };
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, imports);
    } catch (error) {
      throw new WasmLoadError(
        "wasm: the module is not an elex build (it does not link to the engine's imports)",
        error,
      );
    }
    const exports = instance.exports as unknown as ElexExports;
    for (const name of ['engineInit', 'engineSimd', 'engineBegin'] as const) {
      if (typeof exports[name] !== 'function')
        throw new WasmLoadError(`wasm: the module is not an elex build of this version (no ${name} export)`);
    }
    runtime = new Runtime(exports, memory, budgetBytes);
    runtime.exports.engineInit(budgetBytes);
    return runtime;
  }

  /**
   * The module's filterAccept import: 1 if the search's filter accepts `id`. What the filter
   * throws is recorded before it unwinds through the module, so run() passes it on as the
   * filter's own error (a WebAssembly.RuntimeError of another module included) and does not
   * mark the engine broken: the walk only reads the index, and its scratch is set up afresh by
   * the next search. A filter that returns a promise or another thenable (an async filter,
   * whose answer would always be truthy) throws InvalidArgumentError the same way.
   */
  accept(id: number): number {
    const filter = this.filter;
    if (filter === null) return 0;
    let answer: unknown;
    try {
      answer = filter(id);
    } catch (error) {
      this.filterThrew = { error };
      throw error;
    }
    if (typeof answer === 'object' || typeof answer === 'function') {
      if (answer !== null && typeof (answer as { then?: unknown }).then === 'function') {
        try {
          (answer as PromiseLike<unknown>).then(undefined, () => undefined); // its rejection is not unhandled
        } catch {
          /* a thenable whose then throws: nothing to silence */
        }
        const error = new InvalidArgumentError(
          'filter returned a promise (an async filter?); it must return true or false synchronously',
        );
        this.filterThrew = { error };
        throw error;
      }
    }
    return answer ? 1 : 0;
  }

  /** Float32 view of all of linear memory, rebuilt after growth. */
  f32(): Float32Array {
    if (this.buffer !== this.memory.buffer) this.refresh();
    return this.f32View;
  }

  /** Uint32 view of all of linear memory, rebuilt after growth. */
  u32(): Uint32Array {
    if (this.buffer !== this.memory.buffer) this.refresh();
    return this.u32View;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.u32View = new Uint32Array(this.buffer);
  }

  /** Bytes held by the engine's structures: static data plus live arena blocks. */
  get usedBytes(): number {
    return this.exports.engineUsedBytes() >>> 0;
  }

  /** The most usedBytes has been since the engine started or the last resetPeak. */
  get peakUsedBytes(): number {
    return this.exports.enginePeakUsedBytes() >>> 0;
  }

  /** Bytes the arena has claimed (its high-water mark, free holes included); the budget caps this. */
  get reservedBytes(): number {
    return this.exports.engineReservedBytes() >>> 0;
  }

  /** Throws if the engine can take no call now (disposed, broken, or inside a filter callback). */
  check(what: string): void {
    if (this.disposed) throw new DisposedError('engine');
    if (this.brokenBy !== undefined) throw new EngineBrokenError(this.brokenBy);
    if (this.busyAsync)
      throw new InvalidArgumentError(
        `${what} called while an async call (addBatchAsync, searchBatchAsync) runs on the engine's threads; await it first`,
      );
    if (this.busy) throw new InvalidArgumentError(`${what} called from inside a search filter; the engine is busy`);
  }

  /** The engine's threads: 1 + its workers. */
  get threads(): number {
    return 1 + (this.pool?.size ?? 0);
  }

  /**
   * Runs `body` after every call queued before it has settled (async calls on one engine run one
   * at a time, in the order they were made). Cost: a microtask or two.
   */
  queued<T>(body: () => T | Promise<T>): Promise<T> {
    const call = this.queue.then(body, body);
    this.queue = call.catch(() => undefined);
    return call;
  }

  /**
   * Runs the async `body` as one transaction of the arena (as run() with `transaction`), with the
   * engine owned meanwhile: every other call throws InvalidArgumentError until it settles. A
   * trap, or a worker thread that dies, marks the engine broken (EngineBrokenError); a
   * BudgetExceededError undoes the transaction (so `body` must throw it before it changes an
   * object's contents).
   */
  async owned<T>(what: string, body: () => Promise<T>): Promise<T> {
    this.check(what);
    this.busyAsync = true;
    const mark = this.exports.engineBegin();
    try {
      const result = await body();
      this.exports.engineEnd(mark, 1);
      return result;
    } catch (error) {
      if (error instanceof EngineBrokenError || error instanceof WebAssembly.RuntimeError) {
        this.brokenBy = error instanceof EngineBrokenError ? error.cause : error;
        this.pool?.terminate();
        throw error instanceof EngineBrokenError ? error : new EngineBrokenError(error);
      }
      if (!this.disposed) this.exports.engineEnd(mark, error instanceof BudgetExceededError ? 0 : 1);
      throw error;
    } finally {
      this.busyAsync = false;
      this.sampleIfChanged();
    }
  }

  /**
   * Runs `body` (which calls into WebAssembly) with the engine marked busy. A trap marks the
   * engine broken for good, since its memory may be half-written; other errors pass through.
   * With `transaction`, `body` is one transaction of the engine's arena: if it throws
   * BudgetExceededError, every block it allocated, grew or freed is put back, so the call
   * leaves usedBytes, reservedBytes and every object's blocks exactly as they were (each engine
   * call that can run out of budget also undoes itself, header included). What was written
   * into blocks is not undone, so such a body must not fail on budget after a call that changed
   * an object's contents. With `transaction` 'any', any error undoes the transaction (a load,
   * which writes nothing but new blocks and staging). With 'undo' it is undone whatever happens:
   * a check that stages its inputs and changes nothing else gives its staging back (so a call
   * refused after it keeps no byte of it). Cost: two more calls into the module for a
   * transaction.
   */
  run<T>(what: string, body: () => T, transaction: boolean | 'any' | 'undo' = false): T {
    this.check(what);
    this.busy = true;
    const mark = transaction !== false ? this.exports.engineBegin() : -1;
    try {
      const result = body();
      if (transaction !== false) this.exports.engineEnd(mark, transaction === 'undo' ? 0 : 1);
      return result;
    } catch (error) {
      const fromFilter = this.filterThrew !== null && this.filterThrew.error === error;
      if (error instanceof WebAssembly.RuntimeError && !fromFilter) {
        this.brokenBy = error;
        throw new EngineBrokenError(error);
      }
      if (transaction !== false)
        this.exports.engineEnd(mark, transaction === true && !(error instanceof BudgetExceededError) ? 1 : 0);
      throw error;
    } finally {
      this.busy = false;
      this.filterThrew = null;
      this.sampleIfChanged();
    }
  }

  /** Registers `drop`, which frees memory kept only for speed, for {@link dropCaches}. */
  holdCache(drop: () => boolean): void {
    this.caches.add(drop);
  }

  /** Forgets `drop` (its memory went with its object). */
  releaseCache(drop: () => boolean): void {
    this.caches.delete(drop);
  }

  /**
   * Frees every cache registered by holdCache, between calls: a call that ran out of budget
   * (and so changed nothing) can then be tried again, and an agent cache under pressure frees
   * them before it evicts an agent. True when some memory was freed.
   */
  dropCaches(): boolean {
    let freed = false;
    for (const drop of this.caches) if (drop()) freed = true;
    this.caches.clear();
    if (freed) this.sampleIfChanged();
    return freed;
  }

  /** run() as one transaction (see run). */
  atomic<T>(what: string, body: () => T): T {
    return this.run(what, body, true);
  }

  /**
   * run() as one transaction undone on any error, for a load that creates a new object: a
   * refused load (corrupt bytes, over budget) gives back every block it took, staging included,
   * so usedBytes is exactly as before.
   */
  atomicLoad<T>(what: string, body: () => T): T {
    return this.run(what, body, 'any');
  }

  /** Feeds the pressure monitor a sample whenever a call changed the bytes in use. */
  private sampleIfChanged(): void {
    if (this.brokenBy !== undefined || this.disposed) return;
    const used = this.exports.engineUsedBytes();
    if (used !== this.lastUsed) {
      this.lastUsed = used;
      this.exports.monitorRecord();
    }
  }

  /** A BudgetExceededError for the allocation that just failed inside the module, with an optional hint. */
  budgetError(what: string, hint?: string): BudgetExceededError {
    return new BudgetExceededError(
      this.exports.engineFailedRequest() >>> 0,
      this.usedBytes,
      this.budgetBytes,
      what,
      this.reservedBytes,
      hint,
    );
  }

  /** Reserves staging `slot` for `bytes`; throws BudgetExceededError if it cannot. Returns its address. */
  stage(slot: number, bytes: number, what: string): number {
    const ptr = this.exports.stagingReserve(slot, bytes) >>> 0; // unsigned: blocks may lie above 2 GiB
    if (ptr === 0) throw this.budgetError(what);
    return ptr;
  }

  /**
   * Marks the runtime disposed and drops the instance, its memory and the views of it, so the
   * GC can take them even while objects of the engine are still referenced; every later call
   * throws DisposedError. Cost: O(1).
   */
  dispose(): void {
    // A filter callback runs inside the engine's walk: tearing the engine down under it is refused
    // as every other call from there is (an async call in flight instead rejects with DisposedError).
    if (this.busy && !this.disposed)
      throw new InvalidArgumentError('engine.dispose called from inside a search filter; the engine is busy');
    this.pool?.terminate();
    this.disposed = true;
    this.ex = null;
    this.mem = null;
    this.buffer = null;
    this.f32View = new Float32Array(0);
    this.u32View = new Uint32Array(0);
    this.filter = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
