/**
 * An AgentStore in IndexedDB (browsers, workers): one database, one object store, one
 * transaction per write, resolved when the transaction completes. A quota failure surfaces as
 * StoreQuotaError (E_QUOTA), any other failure as StoreError (E_STORE).
 */
import { InvalidArgumentError, StoreError, StoreQuotaError } from '../errors.js';
import type { AgentStore } from './byte-store.js';

declare global {
  /** Named by the options below: merges with the DOM lib's IDBFactory, and needs no DOM lib in Node. */
  interface IDBFactory {}
}

/** Options of {@link IndexedDBStore}. */
export interface IndexedDBStoreOptions {
  /** Object store name, default 'agents'. */
  storeName?: string;
  /** The IDBFactory to use, default the global `indexedDB` (pass fake-indexeddb's in Node tests). */
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

export class IndexedDBStore implements AgentStore {
  /** The database name. */
  readonly name: string;
  private readonly storeName: string;
  private readonly factory: IDBFactory | undefined;
  private db: Promise<IDBDatabase> | null = null;

  constructor(name: string, options: IndexedDBStoreOptions = {}) {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('IndexedDBStore needs a database name');
    this.name = name;
    this.storeName = options.storeName ?? 'agents';
    this.factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  }

  private open(): Promise<IDBDatabase> {
    if (this.db === null) {
      const factory = this.factory;
      if (factory === undefined) return Promise.reject(new StoreError('IndexedDB is not available here', undefined));
      const request = factory.open(this.name, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(this.storeName)) request.result.createObjectStore(this.storeName);
      };
      this.db = settle(request).catch((error) => {
        this.db = null;
        throw wrap(error, `IndexedDBStore could not open '${this.name}'`);
      });
    }
    return this.db;
  }

  /** The bytes stored for `id`, or undefined. Cost: one read transaction. */
  async read(id: string): Promise<Uint8Array | undefined> {
    const db = await this.open();
    try {
      const value = await settle(db.transaction(this.storeName, 'readonly').objectStore(this.storeName).get(id));
      if (value === undefined) return undefined;
      return value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
    } catch (error) {
      throw wrap(error, `IndexedDBStore could not read agent '${id}'`);
    }
  }

  /** Stores a copy of `bytes` for `id` in one transaction; resolves when it commits. */
  async write(id: string, bytes: Uint8Array): Promise<void> {
    const db = await this.open();
    try {
      const tx = db.transaction(this.storeName, 'readwrite');
      tx.objectStore(this.storeName).put(bytes.slice(), id);
      await done(tx);
    } catch (error) {
      throw wrap(error, `IndexedDBStore could not write agent '${id}'`);
    }
  }

  async delete(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(this.storeName, 'readwrite');
    tx.objectStore(this.storeName).delete(id);
    await done(tx).catch((error) => {
      throw wrap(error, `IndexedDBStore could not delete agent '${id}'`);
    });
  }

  async keys(): Promise<string[]> {
    const db = await this.open();
    const keys = await settle(db.transaction(this.storeName, 'readonly').objectStore(this.storeName).getAllKeys());
    return keys.map(String);
  }

  /** Closes the database connection (a later call reopens it). */
  close(): void {
    const db = this.db;
    this.db = null;
    void db?.then((d) => d.close(), () => undefined);
  }
}
