/**
 * An agent cache's store writes, in order per agent: a write of an id starts only once the
 * previous write of that id has settled, so the store ends up with the newest bytes however it
 * orders the completion of concurrent calls. A write queued behind a running one replaces any
 * write still waiting there (the newer bytes hold everything the older ones did); the callers
 * of both are answered when the newer bytes are durable. A get of an id with a write on its way
 * reads the newest bytes from here (`latest`), not the store, which may not have them yet.
 *
 * Over a versioned store (ByteStore.readVersioned / writeIfVersion) each id has a lineage: the
 * version the cache loaded or last wrote. A write is conditional on it and moves it on; a write
 * the store refuses (another writer moved the version) rejects with ConflictError, as does the
 * write waiting behind it (same stale lineage), and the lineage is forgotten: only a fresh read
 * (`loaded`) gives the id one again.
 */
import { ConflictError, ElexError, StoreError } from '../errors.js';
import { type AgentStore, isVersioned, type StoreVersion } from '../stores/byte-store.js';

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
  /** forget() was called while the line ran: the lineage goes when the line closes. */
  forget: boolean;
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
  /** Whether the store is versioned: writes are conditional on each id's lineage. */
  readonly versioned: boolean;
  /** Per id, the version the store holds of this cache's lineage of it (null: none written yet). */
  private readonly lineage = new Map<string, StoreVersion | null>();

  /** `durable(bytes)` is told the size of every write the store completed. */
  constructor(
    private readonly store: AgentStore,
    private readonly durable: (bytes: number) => void,
  ) {
    this.versioned = isVersioned(store);
  }

  /** Records that `id` was read from the store at `version` (null: absent): its writes are conditional on it. */
  loaded(id: string, version: StoreVersion | null): void {
    this.lineage.set(id, version);
    const line = this.lines.get(id);
    if (line !== undefined) line.forget = false;
  }

  /** Drops `id`'s lineage (the agent left the cache), once its writes are done. Cost: O(1). */
  forget(id: string): void {
    const line = this.lines.get(id);
    if (line === undefined) this.lineage.delete(id);
    else line.forget = true;
  }

  /** Resolves once no write of `id` is running or waiting (each settled, done or failed). */
  async settled(id: string): Promise<void> {
    for (let line = this.lines.get(id); line !== undefined; line = this.lines.get(id)) {
      await (line.next ?? line.running).done.catch(() => undefined);
    }
  }

  /**
   * Writes `bytes` for `id` after every earlier write of `id`. Resolves once these bytes (or
   * newer ones queued after them) are durable; rejects with the store's error (storeError). Cost: O(1) plus
   * the store write.
   */
  write(id: string, bytes: Uint8Array): Promise<void> {
    const line = this.lines.get(id);
    if (line === undefined) {
      const write = pending(bytes);
      this.lines.set(id, { running: write, next: null, forget: false });
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
    this.land(id, write.bytes)
      .then(
        (landed) => {
          if (landed === true) {
            this.durable(write.bytes.length);
            write.resolve();
            return;
          }
          const conflict = new ConflictError([id], landed === 'uncertain' ? [id] : []);
          write.reject(conflict);
          const line = this.lines.get(id)!;
          line.next?.reject(conflict); // the same stale lineage: refused too
          line.next = null;
        },
        (error) => write.reject(storeError(error, `agent store could not write '${id}'`)),
      )
      .then(() => this.advance(id));
  }

  /**
   * One store write of `id`: conditional on its lineage over a versioned store. False: refused (a
   * conflict); 'uncertain': refused, and an earlier attempt whose answer was lost may have landed.
   * Async, so a store that throws instead of rejecting rejects too.
   */
  private async land(id: string, bytes: Uint8Array): Promise<boolean | 'uncertain'> {
    if (!this.versioned) {
      await this.store.write(id, bytes);
      return true;
    }
    const expected = this.lineage.get(id);
    if (expected === undefined) return false; // no lineage: refused earlier, the agent must be read again
    const result = await this.store.writeIfVersion!(id, bytes, expected);
    if (result.ok) this.lineage.set(id, result.version);
    else this.lineage.delete(id);
    return result.ok || (result.uncertain === true ? 'uncertain' : false);
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
    if (line.forget) this.lineage.delete(id);
    if (this.lines.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
