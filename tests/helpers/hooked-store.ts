/** A versioned store over a MemoryStore (one "process"'s connection to it) whose calls run test hooks. */
import type { ByteStore, MemoryStore } from '../../src/index';
import type { ConditionalWrite, StoreVersion, VersionedBytes } from '../../src/stores/byte-store';

/** Hooks a test runs inside store calls; each gets the real call and returns what the call returns. */
export interface StoreHooks {
  write?(key: string, bytes: Uint8Array, real: () => Promise<void>): Promise<void>;
  readVersioned?(key: string, real: () => Promise<VersionedBytes>): Promise<VersionedBytes>;
  writeIfVersion?(
    key: string,
    bytes: Uint8Array,
    expected: StoreVersion | null,
    real: () => Promise<ConditionalWrite>,
  ): Promise<ConditionalWrite>;
  keys?(real: () => Promise<string[]>): Promise<string[]>;
}

/** A versioned store over `inner`, running `hooks` in its calls (reads and deletes go straight through). */
export class HookedStore implements ByteStore {
  hooks: StoreHooks = {};
  constructor(readonly inner: MemoryStore) {}
  read(key: string) {
    return this.inner.read(key);
  }
  write(key: string, bytes: Uint8Array) {
    const real = () => this.inner.write(key, bytes);
    return this.hooks.write ? this.hooks.write(key, bytes, real) : real();
  }
  readVersioned(key: string) {
    const real = () => this.inner.readVersioned(key);
    return this.hooks.readVersioned ? this.hooks.readVersioned(key, real) : real();
  }
  writeIfVersion(key: string, bytes: Uint8Array, expected: StoreVersion | null) {
    const real = () => this.inner.writeIfVersion(key, bytes, expected);
    return this.hooks.writeIfVersion ? this.hooks.writeIfVersion(key, bytes, expected, real) : real();
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  keys() {
    const real = () => this.inner.keys();
    return this.hooks.keys ? this.hooks.keys(real) : real();
  }

  /**
   * The next conditional write of a key ending with `suffix` (a manifest) rejects without
   * landing (its answer "lost"); the function returned lands it when called (over the version it
   * expected, so only if nobody wrote since), or resolves undefined if no such write came.
   */
  rejectNextWrite(suffix = '/manifest'): () => Promise<ConditionalWrite | undefined> {
    let late: (() => Promise<ConditionalWrite>) | undefined;
    this.hooks.writeIfVersion = async (key, _bytes, _expected, real) => {
      if (!key.endsWith(suffix)) return real();
      late = real;
      this.hooks.writeIfVersion = undefined;
      throw new Error('connection lost before the answer');
    };
    return async () => late?.();
  }
}
