/** Index-store tests: wrapping stores (counting, failing), temp dirs, seeded operation streams and digests. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteStore, VectorIndex } from '../../src/index';
import { rng } from './random';

/** A fresh temporary directory, removed by `cleanTempDirs`. */
const dirs: string[] = [];
export function tempDir(prefix = 'elex-index-store-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function cleanTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A store passing every call to `inner`, counting the bytes and calls of writes. */
export class CountingStore implements ByteStore {
  bytesWritten = 0;
  writes = 0;
  constructor(readonly inner: ByteStore) {}
  read(key: string) {
    return this.inner.read(key);
  }
  write(key: string, bytes: Uint8Array) {
    this.bytesWritten += bytes.length;
    this.writes++;
    return this.inner.write(key, bytes);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  keys() {
    return this.inner.keys();
  }
}

/** A store whose writes start failing with `error()` after `okWrites` succeed (Infinity: never). */
export class FailingStore implements ByteStore {
  okWrites = Infinity;
  writes = 0;
  constructor(
    readonly inner: ByteStore,
    readonly error: () => unknown = () => new Error('disk on fire'),
  ) {}
  read(key: string) {
    return this.inner.read(key);
  }
  async write(key: string, bytes: Uint8Array) {
    if (this.writes++ >= this.okWrites) throw this.error();
    return this.inner.write(key, bytes);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  keys() {
    return this.inner.keys();
  }
}

/** sha256 of `index.serialize()` in hex: equal digests, equal indexes (ids, vectors, graph, generator). */
export function digest(index: VectorIndex): string {
  return createHash('sha256').update(index.serialize()).digest('hex');
}

/** What happened to the ids, as a plain-JS model: id -> the float32 vector last added. */
export type Model = Map<number, Float32Array>;

/**
 * Applies a seeded stream of `count` operations to `index` and `model`: adds of new ids,
 * replacements, batches (with duplicate ids), removes of present and absent ids, and calls that
 * must fail (a NaN row, a wrong length), which change nothing. Ids are drawn from 0..idSpace-1.
 */
export function randomOps(index: VectorIndex, model: Model, seed: number, count: number, idSpace: number): void {
  const next = rng(seed);
  const dim = index.dim;
  const vector = (): Float32Array => Float32Array.from({ length: dim }, () => next() * 2 - 1);
  const id = (): number => Math.floor(next() * idSpace);
  for (let i = 0; i < count; i++) {
    const r = next();
    if (r < 0.45) {
      const v = vector();
      const at = id();
      index.add(at, v);
      model.set(at, v);
    } else if (r < 0.6) {
      const n = 1 + Math.floor(next() * 6);
      const ids = Array.from({ length: n }, id);
      if (n > 2) ids[n - 1] = ids[0];
      const rows = new Float32Array(n * dim);
      for (let j = 0; j < rows.length; j++) rows[j] = next() * 2 - 1;
      index.addBatch(ids, rows);
      ids.forEach((at, j) => model.set(at, rows.slice(j * dim, (j + 1) * dim)));
    } else if (r < 0.9) {
      const at = id();
      expect(index.remove(at)).toBe(model.delete(at));
    } else {
      const bad = vector();
      bad[Math.floor(next() * dim)] = NaN;
      expect(() => index.add(id(), bad)).toThrow();
      expect(() => index.addBatch([id(), id()], vector())).toThrow();
    }
  }
}

/** Checks `index` holds exactly `model`'s ids and vectors (l2 or dot: stored as given) among 0..idSpace-1. */
export function expectModel(index: VectorIndex, model: Model, idSpace: number): void {
  expect(index.size).toBe(model.size);
  for (let id = 0; id < idSpace; id++) {
    const want = model.get(id);
    expect(index.has(id)).toBe(want !== undefined);
    if (want !== undefined) expect(index.get(id)).toEqual(want);
  }
}

/** Expects `b` to answer `queries` (row-major) exactly as `a`: same ids, same distances. */
export function expectSameAnswers(a: VectorIndex, b: VectorIndex, queries: Float32Array, k: number): void {
  const ra = a.searchBatch(queries, k);
  const rb = b.searchBatch(queries, k);
  expect(rb.ids).toEqual(ra.ids);
  expect(rb.distances).toEqual(ra.distances);
}
