/** An AgentStore in a Map, holding copies: for tests and short-lived caches. */
import type { AgentStore, ConditionalWrite, StoreVersion, VersionedBytes } from './byte-store.js';

/**
 * A {@link ByteStore} in a Map, holding copies of the bytes: for tests and short-lived caches.
 * Versioned (readVersioned, writeIfVersion): agent caches sharing one MemoryStore detect each
 * other's writes (ConflictError) instead of overwriting them.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * await index.save(store, 'docs');
 * ```
 */
export class MemoryStore implements AgentStore {
  private readonly entries = new Map<string, { bytes: Uint8Array; version: StoreVersion }>();
  /** Writes so far: the next write's version. */
  private writes = 0;

  /** A copy of the bytes for `id`, or undefined. Cost: O(bytes). */
  async read(id: string): Promise<Uint8Array | undefined> {
    return (await this.readVersioned(id)).bytes;
  }

  /** Keeps a copy of `bytes` for `id`. Cost: O(bytes). */
  async write(id: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(id, { bytes: bytes.slice(), version: String(++this.writes) });
  }

  /** A copy of the bytes for `id` and their version (a write counter of this store). Cost: O(bytes). */
  async readVersioned(id: string): Promise<VersionedBytes> {
    const entry = this.entries.get(id);
    return entry === undefined
      ? { bytes: undefined, version: null }
      : { bytes: entry.bytes.slice(), version: entry.version };
  }

  /** Keeps a copy of `bytes` for `id` if its version is still `expectedVersion` (null: absent). Cost: O(bytes). */
  async writeIfVersion(id: string, bytes: Uint8Array, expectedVersion: StoreVersion | null): Promise<ConditionalWrite> {
    const current = this.entries.get(id)?.version ?? null;
    if (current !== expectedVersion) return { ok: false, version: current };
    await this.write(id, bytes);
    return { ok: true, version: this.entries.get(id)!.version };
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
    for (const e of this.entries.values()) total += e.bytes.length;
    return total;
  }
}
