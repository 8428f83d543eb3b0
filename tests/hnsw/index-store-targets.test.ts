/**
 * Index stores, what an index remembers about where it saved (issue 20, round 3): a
 * serializeChunks iterator outliving its index throws DisposedError (and one whose index changed
 * before its first chunk, InvalidArgumentError) instead of reading freed memory; saves to
 * throw-away stores keep none of them alive, and only the most recent targets keep a log;
 * two FileStore objects over one directory are one save target; a manifest write whose outcome
 * the store could not tell (the write reported failure, the read-back failed) does not wedge
 * the index: the next save finds out and carries on, losing nothing.
 */
import { relative } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  DisposedError,
  FileStore,
  InvalidArgumentError,
  MemoryStore,
  type ByteStore,
  type Engine,
  type VectorIndex,
} from '../../src/index';
import { MAX_LOGGED_TARGETS } from '../../src/hnsw/store/changes';
import { decodeManifest } from '../../src/hnsw/store/manifest';
import { BUILDS, engine } from '../helpers/engines';
import { cleanTempDirs, digest, tempDir } from '../helpers/index-store';
import { rng } from '../helpers/random';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** WeakRef (ES2021; the project's TypeScript lib is older). */
interface Ref<T> {
  deref(): T | undefined;
}
const WeakRefCtor = (globalThis as unknown as { WeakRef: new <T extends object>(target: T) => Ref<T> }).WeakRef;

const DIM = 16;
let e: Engine;
beforeAll(async () => {
  e = await engine(BUILDS[0]);
});
afterAll(() => {
  e.dispose();
  cleanTempDirs();
});

/** An index of `n` seeded random vectors, ids from..from+n-1. */
function filled(seed: number, n: number, from = 0): VectorIndex {
  const index = e.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 32, seed: 7 });
  addRandom(index, seed, n, from);
  return index;
}

function addRandom(index: VectorIndex, seed: number, n: number, from: number): void {
  const next = rng(seed);
  index.addBatch(
    Array.from({ length: n }, (_, i) => from + i),
    Float32Array.from({ length: n * DIM }, () => next() * 2 - 1),
  );
}

async function manifestOf(store: ByteStore, name: string) {
  const key = `@index/${name}/manifest`;
  return decodeManifest((await store.read(key))!, key);
}

describe('serializeChunks after dispose or change', () => {
  test('an iterator taken before dispose throws DisposedError at its first step, even when another index took the memory', () => {
    const a = filled(1, 300);
    const it = a.serializeChunks(1024);
    a.dispose();
    const b = filled(2, 300, 5000);
    expect(() => it.next()).toThrow(DisposedError);
    b.dispose();
  });

  test('an iterator whose index is disposed between chunks throws DisposedError at the next step', () => {
    const a = filled(3, 300);
    const it = a.serializeChunks(1024);
    expect(it.next().done).toBe(false);
    a.dispose();
    const b = filled(4, 300, 5000);
    expect(() => it.next()).toThrow(DisposedError);
    b.dispose();
  });

  test('an index changed before the first step makes it throw InvalidArgumentError; untouched, the chunks are serialize()', () => {
    const a = filled(5, 300);
    const it = a.serializeChunks(1024);
    a.add(9999, new Float32Array(DIM).fill(0.5));
    expect(() => it.next()).toThrow(InvalidArgumentError);
    const chunks = [...a.serializeChunks(1024)];
    expect(Buffer.concat(chunks).equals(Buffer.from(a.serialize()))).toBe(true);
    a.dispose();
  });
});

describe('save targets', () => {
  test('saves to 100 throw-away MemoryStores keep none of them alive; adds are recorded for a bounded number of targets', async () => {
    const index = filled(10, 1000);
    const saveOnce = async (): Promise<Ref<MemoryStore>> => {
      const store = new MemoryStore();
      await index.save(store, 'x');
      return new WeakRefCtor(store);
    };
    const refs: Ref<MemoryStore>[] = [];
    for (let i = 0; i < 100; i++) refs.push(await saveOnce());
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(refs.filter((r) => r.deref() !== undefined).length).toBe(0);
    expect(index.journal.loggedTargets).toBeLessThanOrEqual(MAX_LOGGED_TARGETS);
    index.dispose();
  });

  test(`of many stores kept, the ${MAX_LOGGED_TARGETS} saved last get log segments, older ones a checkpoint (no conflict); each opens to the index`, async () => {
    const index = filled(11, 1000);
    const stores = Array.from({ length: MAX_LOGGED_TARGETS + 4 }, () => new MemoryStore());
    for (const s of stores) expect((await index.save(s, 'x')).kind).toBe('checkpoint');
    addRandom(index, 12, 5, 2000);
    index.remove(3);
    const kinds = [];
    for (const s of [...stores].reverse()) kinds.push((await index.save(s, 'x')).kind);
    expect(kinds).toEqual([...Array(MAX_LOGGED_TARGETS).fill('log'), ...Array(4).fill('checkpoint')]);
    for (const s of [stores[0], stores[stores.length - 1]]) {
      const opened = await e.openIndex(s, 'x');
      expect(digest(opened)).toBe(digest(index));
      opened.dispose();
    }
    index.dispose();
  });

  test('one index saving through two FileStore objects over one directory (A, B, A) continues one log', async () => {
    const dir = tempDir();
    const a = new FileStore(dir);
    const b = new FileStore(`${relative(process.cwd(), dir)}/./`); // the same directory, named relatively
    const index = filled(20, 500);
    expect(await index.save(a, 'x')).toMatchObject({ kind: 'checkpoint', generation: 1 });
    addRandom(index, 21, 5, 1000);
    expect(await index.save(b, 'x')).toMatchObject({ kind: 'log', generation: 2 });
    addRandom(index, 22, 5, 2000);
    expect(await index.save(a, 'x')).toMatchObject({ kind: 'log', generation: 3 });
    expect((await manifestOf(a, 'x')).parts.length).toBe(3);
    const opened = await e.openIndex(new FileStore(dir), 'x');
    expect(digest(opened)).toBe(digest(index));
    // A FileStore object opened from there continues the same log through another object.
    addRandom(opened, 23, 3, 3000);
    expect(await opened.save(a, 'x')).toMatchObject({ kind: 'log', generation: 4 });
    for (const i of [index, opened]) i.dispose();
  });
});

/**
 * A store whose next manifest write (when armed) lands or not, reports failure either way, and
 * whose next read (the save's read-back) fails: the save cannot tell whether it committed.
 */
class UnsureStore implements ByteStore {
  armed: 'lands' | 'lost' | undefined;
  private failReads = 0;
  constructor(readonly inner: MemoryStore) {}
  async read(key: string) {
    if (this.failReads > 0) {
      this.failReads--;
      throw new Error('read timed out');
    }
    return this.inner.read(key);
  }
  async write(key: string, bytes: Uint8Array) {
    if (this.armed !== undefined && key.endsWith('/manifest')) {
      const lands = this.armed === 'lands';
      this.armed = undefined;
      this.failReads = 1;
      if (lands) await this.inner.write(key, bytes);
      throw new Error('no acknowledgement');
    }
    return this.inner.write(key, bytes);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  keys() {
    return this.inner.keys();
  }
}

describe('a manifest write of unknown outcome', () => {
  // first: the unsure save is the first one; log: a log segment; checkpoint: a later checkpoint.
  const cases = (['first', 'log', 'checkpoint'] as const).flatMap((when) =>
    (['lands', 'lost'] as const).map((how) => [when, how] as const),
  );
  test.each(cases)(
    'unsure %s save whose manifest %s: the next saves go through and open to the index',
    async (when, how) => {
      const store = new UnsureStore(new MemoryStore());
      const index = filled(30, 800);
      if (when !== 'first') await index.save(store, 'x');
      addRandom(index, 31, 10, 1000);
      index.remove(5);
      store.armed = how;
      await expect(index.save(store, 'x', { logShare: when === 'checkpoint' ? 0 : 0.25 })).rejects.toThrow(
        'no acknowledgement',
      );
      const landed = when === 'first' ? (how === 'lands' ? 1 : 0) : how === 'lands' ? 2 : 1;
      if (landed > 0) expect((await manifestOf(store, 'x')).stamp.generation).toBe(landed);
      addRandom(index, 32, 10, 2000);
      index.remove(6);
      const next = await index.save(store, 'x');
      expect(next.generation).toBe(landed + 1);
      // After an unsure checkpoint the next save writes a checkpoint again; after an unsure log, a log.
      expect(next.kind).toBe(when === 'log' ? 'log' : 'checkpoint');
      let opened = await e.openIndex(store, 'x');
      expect(digest(opened)).toBe(digest(index));
      opened.dispose();
      addRandom(index, 33, 10, 3000);
      expect(await index.save(store, 'x')).toMatchObject({ kind: 'log', generation: landed + 2 });
      opened = await e.openIndex(store, 'x');
      expect(digest(opened)).toBe(digest(index));
      // Only the parts the manifest names are left.
      const m = await manifestOf(store, 'x');
      expect((await store.keys()).length).toBe(1 + m.parts.reduce((n, p) => n + p.chunks.length, 0));
      for (const i of [index, opened]) i.dispose();
    },
  );

  test("an unsure save followed by another writer's save is still a conflict", async () => {
    const store = new UnsureStore(new MemoryStore());
    const index = filled(40, 500);
    await index.save(store, 'x');
    addRandom(index, 41, 5, 1000);
    store.armed = 'lands';
    await expect(index.save(store, 'x')).rejects.toThrow('no acknowledgement');
    const other = filled(42, 100);
    await other.save(store, 'x', { overwrite: true });
    await expect(index.save(store, 'x')).rejects.toMatchObject({ code: 'E_STORE' });
    for (const i of [index, other]) i.dispose();
  });
});
