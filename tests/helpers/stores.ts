/** Agent stores for cache tests: a MemoryStore behind scripted delays and failures. */
import { MemoryStore, type AgentStore } from '../../src/index';

/** How a ScriptedStore behaves per call; every field is optional. */
export interface StoreScript {
  /** Milliseconds the n-th write (0-based) of `id` takes before it lands; default 0. */
  writeDelay?: (id: string, n: number) => number;
  /** Milliseconds a read takes; default 0. */
  readDelay?: (id: string) => number;
  /** Whether this write fails (after its delay, without landing). */
  failWrite?: (id: string, n: number) => boolean;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A store whose calls complete after scripted delays, so writes of one id can land out of
 * order unless the cache orders them. `inner` holds what landed; `writes` counts write calls.
 */
export class ScriptedStore implements AgentStore {
  readonly inner = new MemoryStore();
  writes = 0;
  private readonly perId = new Map<string, number>();

  constructor(private readonly script: StoreScript = {}) {}

  async read(id: string): Promise<Uint8Array | undefined> {
    const ms = this.script.readDelay?.(id) ?? 0;
    if (ms > 0) await sleep(ms);
    return this.inner.read(id);
  }

  async write(id: string, bytes: Uint8Array): Promise<void> {
    const n = this.perId.get(id) ?? 0;
    this.perId.set(id, n + 1);
    this.writes++;
    const copy = bytes.slice();
    const ms = this.script.writeDelay?.(id, n) ?? 0;
    if (ms > 0) await sleep(ms);
    if (this.script.failWrite?.(id, n)) throw new Error(`scripted write failure of '${id}'`);
    await this.inner.write(id, copy);
  }

  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }

  keys(): Promise<string[]> {
    return this.inner.keys();
  }
}
