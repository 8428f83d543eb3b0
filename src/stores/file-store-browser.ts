/**
 * FileStore as the browser bundle (dist/browser) ships it: the same class, with no Node
 * built-ins behind it. Constructing one throws StoreError (E_STORE), since a browser or
 * worker has no directory to write to; use IndexedDBStore there.
 */
import { StoreError } from '../errors.js';
import type { AgentStore } from './byte-store.js';

export class FileStore implements AgentStore {
  /** The directory agents would be written to. */
  readonly dir: string;

  /** Always throws StoreError: files need Node. */
  constructor(dir: string) {
    this.dir = dir;
    throw new StoreError(
      `FileStore('${String(dir)}') needs Node's file system; in a browser or worker use IndexedDBStore`,
      undefined,
    );
  }

  /** Unreachable: the constructor throws. */
  read(): Promise<Uint8Array | undefined> {
    return Promise.reject(new StoreError('FileStore needs Node', undefined));
  }

  /** Unreachable: the constructor throws. */
  write(): Promise<void> {
    return this.read().then(() => undefined);
  }

  /** Unreachable: the constructor throws. */
  delete(): Promise<void> {
    return this.write();
  }

  /** Unreachable: the constructor throws. */
  lock(): Promise<void> {
    return this.write();
  }

  /** Unreachable: the constructor throws. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Unreachable: the constructor throws. */
  keys(): Promise<string[]> {
    return this.read().then(() => []);
  }
}
