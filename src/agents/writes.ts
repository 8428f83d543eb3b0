/**
 * An agent cache's store writes, in order per agent: a write of an id starts only once the
 * previous write of that id has settled, so the store ends up with the newest bytes however it
 * orders the completion of concurrent calls. A write queued behind a running one replaces any
 * write still waiting there (the newer bytes hold everything the older ones did); the callers
 * of both are answered when the newer bytes are durable. A get of an id with a write on its way
 * reads the newest bytes from here (`latest`), not the store, which may not have them yet.
 */
import { ElexError, StoreError } from '../errors.js';
import type { AgentStore } from '../stores/byte-store.js';

/**
 * A store's error as the agent cache throws it: an ElexError (the built-in stores' StoreError,
 * StoreQuotaError) as it is, anything else as StoreError (E_STORE) with it as `cause`. Cost: O(1).
 */
export function storeError(error: unknown, what: string): ElexError {
  return error instanceof ElexError ? error : new StoreError(what, error);
}

/** One write: its bytes and the callers waiting for them to be durable. */
interface Write {
  bytes: Uint8Array;
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** An id's writes: the one the store is doing, and at most one waiting behind it. */
interface Line {
  running: Write;
  next: Write | null;
}

function pending(bytes: Uint8Array): Write {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { bytes, done, resolve, reject };
}

export class AgentWrites {
  private readonly lines = new Map<string, Line>();
  private idleWaiters: Array<() => void> = [];

  /** `durable(bytes)` is told the size of every write the store completed. */
  constructor(
    private readonly store: AgentStore,
    private readonly durable: (bytes: number) => void,
  ) {}

  /**
   * Writes `bytes` for `id` after every earlier write of `id`. Resolves once these bytes (or
   * newer ones queued after them) are durable; rejects with the store's error (storeError). Cost: O(1) plus
   * the store write.
   */
  write(id: string, bytes: Uint8Array): Promise<void> {
    const line = this.lines.get(id);
    if (line === undefined) {
      const write = pending(bytes);
      this.lines.set(id, { running: write, next: null });
      this.start(id, write);
      return write.done;
    }
    if (line.next !== null) {
      line.next.bytes = bytes;
      return line.next.done;
    }
    line.next = pending(bytes);
    return line.next.done;
  }

  /** The newest bytes queued or being written for `id`, or undefined when none are. Cost: O(1). */
  latest(id: string): Uint8Array | undefined {
    const line = this.lines.get(id);
    return line === undefined ? undefined : (line.next ?? line.running).bytes;
  }

  /** Resolves once no write is running or waiting (each settled, done or failed). */
  idle(): Promise<void> {
    if (this.lines.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private start(id: string, write: Write): void {
    let landing: Promise<void>;
    try {
      landing = Promise.resolve(this.store.write(id, write.bytes));
    } catch (error) {
      landing = Promise.reject(error); // a store that throws instead of rejecting
    }
    landing
      .then(
        () => {
          this.durable(write.bytes.length);
          write.resolve();
        },
        (error) => write.reject(storeError(error, `agent store could not write '${id}'`)),
      )
      .then(() => this.advance(id));
  }

  /** Starts the write waiting behind the one that just settled, or closes the line. */
  private advance(id: string): void {
    const line = this.lines.get(id)!;
    if (line.next !== null) {
      line.running = line.next;
      line.next = null;
      this.start(id, line.running);
      return;
    }
    this.lines.delete(id);
    if (this.lines.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
