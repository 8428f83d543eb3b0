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
  /**
   * Optional, with {@link ByteStore.writeIfVersion}: the bytes under `key` and their version, read
   * together (one snapshot). A missing key is `{ bytes: undefined, version: null }`.
   */
  readVersioned?(key: string): Promise<VersionedBytes>;
  /**
   * Optional, with {@link ByteStore.readVersioned}: stores `bytes` under `key` only if its version
   * is still `expectedVersion` (`null`: only if the key is absent), atomically. Resolves
   * `{ ok: true, version }` with the new version once durable, or `{ ok: false, version }` with
   * the current one (nothing written). Every write (conditional or not) gives the key a version
   * it never had before, so an equal version means nobody wrote in between. A write whose outcome
   * the store cannot learn rejects (StoreError): the store must not report it as written unless it
   * was, nor let a retry of it land twice.
   */
  writeIfVersion?(key: string, bytes: Uint8Array, expectedVersion: StoreVersion | null): Promise<ConditionalWrite>;
}

/**
 * A versioned store's version of a key: an opaque string, new at every write of the key (never
 * reused, also across a delete). Compare versions with `===` only.
 */
export type StoreVersion = string;

/** What {@link ByteStore.readVersioned} resolves: the bytes and their version, or undefined and null for a missing key. */
export interface VersionedBytes {
  /** The bytes last written under the key, or undefined. */
  bytes: Uint8Array | undefined;
  /** Their version; null when the key is absent. */
  version: StoreVersion | null;
}

/** What {@link ByteStore.writeIfVersion} resolves. */
export interface ConditionalWrite {
  /** Whether the bytes were written (the key still had the expected version). */
  ok: boolean;
  /** With ok: the version just written. Without: the key's current version (null: absent). */
  version: StoreVersion | null;
  /**
   * Set (with ok false) when an earlier attempt of this write, whose answer was lost, may or may
   * not have landed before the current version, and the store cannot tell (PostgresStore: two or
   * more writes of others since, after a lost COMMIT). The caller must treat what it wrote as
   * possibly stored.
   */
  uncertain?: boolean;
}

/** A store with both optional versioned methods. */
export type VersionedStore = ByteStore & Required<Pick<ByteStore, 'readVersioned' | 'writeIfVersion'>>;

/** Whether `store` has both versioned methods (readVersioned and writeIfVersion). Cost: O(1). */
export function isVersioned(store: ByteStore): store is VersionedStore {
  return typeof store.readVersioned === 'function' && typeof store.writeIfVersion === 'function';
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
