/**
 * The byte store agents and indexes persist to: a key-value store of string key -> bytes.
 * Implementations: MemoryStore (tests), FileStore (Node), IndexedDBStore (browsers), PostgresStore
 * (elex-wasm/postgres); any object with these four methods works. Agent caches write one key per agent id; indexes
 * write keys beginning with '@index/' (docs/format.md, "Index stores").
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * A key-value store of string key to bytes that agent caches and indexes persist to:
 * `MemoryStore`, `FileStore`, `IndexedDBStore`, `PostgresStore`, or any object with these four
 * methods. Agent caches write one key per agent id; indexes write keys beginning with
 * `'@index/'` (docs/format.md, "Index stores").
 */
export interface ByteStore {
  /** The bytes last written under `key`, or undefined. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Stores `bytes` under `key`, replacing what was there, atomically; resolves once it is durable. */
  write(key: string, bytes: Uint8Array): Promise<void>;
  /** Removes `key` if present. */
  delete(key: string): Promise<void>;
  /** Every key stored. */
  keys(): Promise<string[]>;
  /**
   * Optional: names where the store keeps its bytes. Stores with the same identity hold the
   * same keys, so an index's saves through any of them continue one log and run one at a time
   * (FileStore: 'file:' and its absolute directory). Without it each store object is a place of
   * its own.
   */
  readonly identity?: string;
}

/** The name agent caches have always used for a {@link ByteStore}. */
export type AgentStore = ByteStore;

/** Throws InvalidArgumentError unless `store` has the four ByteStore methods; returns it. Cost: O(1). */
export function checkByteStore(store: unknown, name = 'store'): ByteStore {
  for (const method of ['read', 'write', 'delete', 'keys'] as const) {
    if (typeof (store as Record<string, unknown> | null)?.[method] !== 'function') {
      throw new InvalidArgumentError(`${name} must have a ${method}() method`);
    }
  }
  return store as ByteStore;
}
