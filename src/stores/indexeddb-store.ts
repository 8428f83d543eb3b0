/**
 * A ByteStore in IndexedDB (browsers, workers): one database, one object store per store name
 * (several names may share a database), one transaction per call, resolved when the transaction
 * completes. A quota failure surfaces as
 * StoreQuotaError (E_QUOTA), any other failure as StoreError (E_STORE).
 */
import { InvalidArgumentError, StoreError, StoreQuotaError } from '../errors.js';
import type { ByteStore } from './byte-store.js';
import { utf8Length } from './store-key.js';

declare global {
  // Named by the options below: merges with the DOM lib's IDBFactory, and needs no DOM lib in Node.
  interface IDBFactory {}
}

/** Options of {@link IndexedDBStore}. */
export interface IndexedDBStoreOptions {
  /**
   * Object store name.
   *
   * @defaultValue `'agents'`
   */
  storeName?: string;
  /**
   * The IDBFactory to use (pass fake-indexeddb's in Node tests).
   *
   * @defaultValue the global `indexedDB`
   */
  indexedDB?: IDBFactory;
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function wrap(error: unknown, message: string): StoreError {
  const name = (error as { name?: string } | null)?.name;
  return name === 'QuotaExceededError' ? new StoreQuotaError(message, error) : new StoreError(message, error);
}

/**
 * A {@link ByteStore} in IndexedDB (browsers, workers): one database, one object store per store name
 * (several may share a database), one transaction per call, resolved when the transaction completes. A quota failure surfaces as
 * {@link StoreQuotaError}, any other failure as {@link StoreError}.
 *
 * @example
 * ```ts
 * const store = new IndexedDBStore('my-app');
 * const cache = engine.createAgentCache({ qtable: { actions: 4 }, store });
 * ```
 */
export class IndexedDBStore implements ByteStore {
  /** The database name. */
  readonly name: string;
  private readonly storeName: string;
  private readonly factory: IDBFactory | undefined;
  private db: Promise<IDBDatabase> | null = null;
  /**
   * 'indexeddb:' with the database and object store names, when the store uses the global
   * `indexedDB`: every IndexedDBStore over one object store is then one save target (see
   * ByteStore.identity). A store given its own factory has none.
   */
  readonly identity: string | undefined;

  constructor(name: string, options: IndexedDBStoreOptions = {}) {
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidArgumentError('IndexedDBStore needs a database name');
    const storeName = options.storeName ?? 'agents';
    if (typeof storeName !== 'string' || storeName.length === 0)
      throw new InvalidArgumentError(`IndexedDBStore: storeName must be a non-empty string, got ${String(storeName)}`);
    for (const [what, value] of [
      ['database name', name],
      ['storeName', storeName],
    ])
      if (utf8Length(value) < 0)
        throw new InvalidArgumentError(`IndexedDBStore: the ${what} ${JSON.stringify(value)} holds a lone surrogate`);
    this.name = name;
    this.storeName = storeName;
    this.factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    this.identity =
      options.indexedDB === undefined && this.factory !== undefined
        ? `indexeddb:${encodeURIComponent(name)}/${encodeURIComponent(this.storeName)}`
        : undefined;
  }

  /**
   * Opens the database and makes sure this store's object store exists. A database opened at its
   * current version without that object store (a second `storeName` in one database) is closed and
   * reopened one version higher, creating it in the upgrade. The connection closes itself when
   * another connection asks for a newer version (another store name, another tab), so that upgrade
   * is never blocked by us; the next call reopens.
   */
  private open(): Promise<IDBDatabase> {
    if (this.db === null) {
      const factory = this.factory;
      if (factory === undefined) return Promise.reject(new StoreError('IndexedDB is not available here', undefined));
      this.db = this.connect(factory, undefined).catch((error) => {
        this.db = null;
        throw error instanceof StoreError ? error : wrap(error, `IndexedDBStore could not open '${this.name}'`);
      });
    }
    return this.db;
  }

  private async connect(factory: IDBFactory, version: number | undefined): Promise<IDBDatabase> {
    const request = version === undefined ? factory.open(this.name) : factory.open(this.name, version);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(this.storeName)) request.result.createObjectStore(this.storeName);
    };
    const db = await settle(request);
    if (!db.objectStoreNames.contains(this.storeName)) {
      const next = db.version + 1;
      db.close();
      return this.connect(factory, next);
    }
    db.onversionchange = () => {
      db.close();
      if (this.db !== null) this.db = null;
    };
    return db;
  }

  /** Runs one request in its own transaction; every failure (a closed connection too) is a StoreError. */
  private async request<T>(
    mode: IDBTransactionMode,
    what: string,
    key: string | undefined,
    run: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> {
    const opening = this.open();
    const db = await opening;
    const subject = key === undefined ? `'${this.name}'` : `key '${key}'`;
    try {
      const tx = db.transaction(this.storeName, mode);
      const result = settle(run(tx.objectStore(this.storeName)));
      result.catch(() => undefined); // its failure also fails the transaction, reported below
      await done(tx);
      return await result;
    } catch (error) {
      // A connection closed under us (by the browser, or a version change) is reopened next call.
      // (Only if it is still the current one: a newer connection is not dropped.)
      if ((error as { name?: string } | null)?.name === 'InvalidStateError' && this.db === opening) this.db = null;
      throw wrap(error, `IndexedDBStore could not ${what} ${subject}`);
    }
  }

  /** The bytes stored for `id`, or undefined. Cost: one read transaction. */
  async read(id: string): Promise<Uint8Array | undefined> {
    const value = await this.request('readonly', 'read', id, (store) => store.get(id));
    if (value === undefined) return undefined;
    return value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
  }

  /** Stores a copy of `bytes` for `id` in one transaction; resolves when it commits. */
  async write(id: string, bytes: Uint8Array): Promise<void> {
    await this.request('readwrite', 'write', id, (store) => store.put(bytes.slice(), id));
  }

  /** Deletes `id` (nothing if it is absent) in one transaction; resolves when it commits. */
  async delete(id: string): Promise<void> {
    await this.request('readwrite', 'delete', id, (store) => store.delete(id));
  }

  /** Every stored key, as strings. Cost: one read transaction. */
  async keys(): Promise<string[]> {
    const keys = await this.request('readonly', 'list the keys of', undefined, (store) => store.getAllKeys());
    return keys.map(String);
  }

  /** Closes the database connection (a later call reopens it). */
  close(): void {
    const db = this.db;
    this.db = null;
    void db?.then(
      (d) => d.close(),
      () => undefined,
    );
  }
}
