/** An AgentStore in a Map, holding copies: for tests and short-lived caches. */
import type { AgentStore } from './byte-store.js';

/**
 * A {@link ByteStore} in a Map, holding copies of the bytes: for tests and short-lived caches.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * await index.save(store, 'docs');
 * ```
 */
export class MemoryStore implements AgentStore {
  private readonly entries = new Map<string, Uint8Array>();

  /** A copy of the bytes for `id`, or undefined. Cost: O(bytes). */
  async read(id: string): Promise<Uint8Array | undefined> {
    const bytes = this.entries.get(id);
    return bytes === undefined ? undefined : bytes.slice();
  }

  /** Keeps a copy of `bytes` for `id`. Cost: O(bytes). */
  async write(id: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(id, bytes.slice());
  }

  async delete(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async keys(): Promise<string[]> {
    return Array.from(this.entries.keys());
  }

  /** Bytes held in all. */
  get bytes(): number {
    let total = 0;
    for (const b of this.entries.values()) total += b.length;
    return total;
  }
}
