/**
 * Worker threads of an engine with `threads` > 1: the threads build's module instantiated again
 * in each worker over the engine's shared memory (one graph, one budget; see docs/threads.md).
 * A worker runs one export call at a time, posted as a message, and answers when it returns.
 * Workers never allocate: the calling thread makes their scratch (assembly/hnsw/shadow.ts).
 *
 * Node and Deno run node:worker_threads; browsers and Bun run Web Workers. The worker's code
 * is the string below, so no file has to be found next to the bundle.
 */
import { DisposedError, EngineBrokenError } from '../errors.js';

/** Why an engine asked for threads runs one instead. */
export type ThreadsFallback =
  | 'no-shared-array-buffer'
  | 'not-cross-origin-isolated'
  | 'no-workers'
  | 'custom-wasm'
  | 'worker-start-failed';

/** The worker's code: instantiate on 'init', then run each posted call and answer. */
const WORKER_SOURCE = `
const node = typeof self === 'undefined' || typeof self.postMessage !== 'function';
const port = node ? require('node:worker_threads').parentPort : self;
const post = (m) => port.postMessage(m);
let ex = null;
const handle = (m) => {
  try {
    if (m.op === 'init') {
      const abort = () => { throw new WebAssembly.RuntimeError('abort called in elex module'); };
      const env = { memory: m.memory, filterAccept: () => 0, abort };
      ex = new WebAssembly.Instance(m.module, { env }).exports;
      post({ ok: true });
      return;
    }
    ex[m.fn](...m.args);
    post({ ok: true });
  } catch (error) {
    post({ ok: false, error: String((error && error.message) || error) });
  }
};
if (node) port.on('message', handle);
else self.onmessage = (e) => handle(e.data);
`;

/** The part of a Node Worker or a Web Worker the pool uses. */
interface AnyWorker {
  post(message: unknown): void;
  terminate(): void;
  /** Node, Bun and Deno: whether the worker keeps the process alive (while it has a call to answer). Browsers: nothing. */
  hold(busy: boolean): void;
}

/** Node's workers, and Bun's Web Workers: whether the worker keeps the process alive. */
interface Unrefable {
  ref(): void;
  unref(): void;
}

/** What a worker answers: done, or what it threw (a trap of the module). */
interface Answer {
  ok: boolean;
  error?: string;
}

/** node:worker_threads where this runtime has it without a bundler seeing an import (Node 20.16+, Bun, Deno). */
function nodeWorkers(): typeof import('node:worker_threads') | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  return proc?.getBuiltinModule?.('node:worker_threads') as typeof import('node:worker_threads') | undefined;
}

/** Why this runtime cannot run an engine's threads, or null when it can. */
export function threadsUnavailable(): ThreadsFallback | null {
  if (typeof SharedArrayBuffer !== 'function') {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    return isolated === false ? 'not-cross-origin-isolated' : 'no-shared-array-buffer';
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false)
    return 'not-cross-origin-isolated';
  if (typeof Worker !== 'function' && nodeWorkers() === undefined) return 'no-workers';
  return null;
}

/** The cores this runtime reports (navigator.hardwareConcurrency, os.availableParallelism), at least 1. */
export function availableCores(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return Math.max(1, nav.hardwareConcurrency);
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as
    | { availableParallelism?: () => number; cpus: () => unknown[] }
    | undefined;
  if (os !== undefined) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  return 1;
}

/** Starts one worker; onAnswer gets its answers, onDeath its death (an error, an exit, a terminate). */
function spawn(onAnswer: (a: Answer) => void, onDeath: (why: unknown) => void): AnyWorker {
  // A Web Worker where it can be unref'd (Bun) or node:worker_threads is missing (browsers); else
  // node:worker_threads (Node; Deno, whose Web Workers would keep the process alive).
  const web = typeof Worker === 'function' ? (Worker as unknown as { prototype: Partial<Unrefable> }) : undefined;
  if (web !== undefined && (typeof web.prototype.unref === 'function' || nodeWorkers() === undefined)) {
    // The URL lives until the worker's first word: Bun reads it after the constructor returns.
    let url: string | null = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const revoke = (): void => {
      if (url !== null) URL.revokeObjectURL(url);
      url = null;
    };
    const w = new Worker(url, { type: 'module' }); // Deno runs module workers only
    w.onmessage = (e: MessageEvent) => {
      revoke();
      onAnswer(e.data as Answer);
    };
    w.onerror = (e: ErrorEvent) => {
      revoke();
      onDeath(e.error ?? new Error(e.message));
    };
    // A Web Worker terminated says nothing: its death is reported here.
    const terminate = () => {
      revoke();
      w.terminate();
      onDeath(new Error('worker thread terminated'));
    };
    // Bun's Web Workers can be unref'd as Node's workers are (idle, they keep nothing alive).
    const ref = w as unknown as Partial<Unrefable>;
    const hold = (busy: boolean): void => (busy ? ref.ref?.() : ref.unref?.());
    hold(false);
    return { post: (m) => w.postMessage(m), terminate, hold };
  }
  const { Worker: NodeWorker } = nodeWorkers()!;
  const w = new NodeWorker(WORKER_SOURCE, { eval: true });
  w.on('message', (a: Answer) => onAnswer(a));
  w.on('error', (error) => onDeath(error));
  w.on('exit', (code) => onDeath(new Error(`worker thread exited (code ${code})`)));
  // An idle engine not disposed does not keep the process alive, but one with a call in flight
  // does (its promise would never settle). After the listeners: adding one refs the worker.
  w.unref();
  return {
    post: (m) => w.postMessage(m),
    terminate: () => void w.terminate(),
    hold: (busy) => (busy ? w.ref() : w.unref()),
  };
}

/** One export call for a worker: the export's name and its arguments. */
export interface ThreadCall {
  fn: string;
  args: number[];
}

/**
 * The workers of one engine. run() gives each worker one call and resolves when all have
 * returned; a worker that traps or dies makes it reject with EngineBrokenError, and every later
 * run too (the pool is dead: the engine is marked broken by its caller).
 */
export class ThreadPool {
  private readonly workers: AnyWorker[] = [];
  private pending: Array<{ resolve: () => void; reject: (e: unknown) => void } | null> = [];
  private dead: unknown = undefined;
  /** @internal Calls the workers have been given (tests check a call ran on them). */
  callsRun = 0;

  private constructor() {}

  /** Starts `count` workers, each instantiating `module` over `memory`; rejects if one fails to start. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number): Promise<ThreadPool> {
    const pool = new ThreadPool();
    for (let i = 0; i < count; i++) {
      pool.pending.push(null);
      pool.workers.push(
        spawn(
          (a) => pool.answer(i, a),
          (why) => pool.die(why),
        ),
      );
    }
    try {
      await pool.run(
        pool.workers.map(() => ({ fn: '', args: [] })),
        { op: 'init', module, memory },
      );
    } catch (error) {
      pool.terminate();
      throw error;
    }
    return pool;
  }

  /** Workers in the pool (the engine's threads less the calling one). */
  get size(): number {
    return this.workers.length;
  }

  /** Runs calls[i] on worker i (fewer calls leave the last workers idle); resolves when all have returned. */
  run(calls: ThreadCall[], init?: unknown): Promise<void> {
    if (this.dead !== undefined) return Promise.reject(new EngineBrokenError(this.dead));
    return Promise.all(
      calls.map(
        (call, i) =>
          new Promise<void>((resolve, reject) => {
            this.pending[i] = { resolve, reject };
            this.callsRun++;
            this.workers[i].hold(true);
            this.workers[i].post(init ?? { op: 'call', fn: call.fn, args: call.args });
          }),
      ),
    ).then(() => undefined);
  }

  private answer(i: number, a: Answer): void {
    const waiting = this.pending[i];
    this.pending[i] = null;
    if (waiting === null) return;
    this.workers[i].hold(false);
    if (a.ok) waiting.resolve();
    else {
      const error = new WebAssembly.RuntimeError(`worker thread ${i + 1}: ${a.error}`);
      this.die(error);
      waiting.reject(new EngineBrokenError(error));
    }
  }

  /** Marks the pool dead (a worker trapped or died): every call in flight fails with EngineBrokenError. */
  private die(why: unknown): void {
    if (this.dead === undefined) this.stop(why, new EngineBrokenError(why));
  }

  /** Marks the pool dead for `why`, fails every call in flight with `error`, and stops the workers. */
  private stop(why: unknown, error: unknown): void {
    this.dead = why;
    for (let i = 0; i < this.pending.length; i++) {
      const waiting = this.pending[i];
      this.pending[i] = null;
      waiting?.reject(error);
    }
    for (const w of this.workers) w.terminate();
  }

  /** Why the pool died (a worker's trap or exit), or undefined while it runs. */
  get deadBy(): unknown {
    return this.dead;
  }

  /** @internal Test hook: terminates worker i from outside, as a crash would. */
  killWorker(i: number): void {
    this.workers[i].terminate();
  }

  /** Stops every worker (a call in flight fails with DisposedError). Idempotent. */
  terminate(): void {
    if (this.dead === undefined) this.stop(new DisposedError('engine'), new DisposedError('engine'));
  }
}
