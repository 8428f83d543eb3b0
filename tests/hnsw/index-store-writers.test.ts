/**
 * Index stores with several writers of one name on a versioned store (compare and swap on the
 * manifest): a save committing between another's last check and its manifest write refuses
 * that other save instead of being overwritten; a save's removal of leftovers never deletes the
 * chunks of a save still writing; a manifest write that rejects and lands later never leaves a
 * manifest naming deleted chunks; and a storm of writers over a store that delays, reorders,
 * fails and lands writes late loses no acknowledged save (several seeds).
 */
import { Engine, MemoryStore, StoreError, type ByteStore, type VectorIndex } from '../../src/index';
import { rng } from '../helpers/random';
import type { ConditionalWrite } from '../../src/stores/byte-store';
import { HookedStore } from '../helpers/hooked-store';
import { decodeManifest } from '../../src/hnsw/store/manifest';

const MANIFEST = '@index/docs/manifest';
const DIM = 4;
let e: Engine;

beforeAll(async () => {
  e = await Engine.create();
});
afterAll(() => e.dispose());

function row(id: number): number[] {
  return [Math.sin(id), Math.cos(id), Math.sin(id * 0.7), 1];
}

/** A store holding an index of ids 0..29 under 'docs'. */
async function seeded(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const ix = e.createIndex({ dim: DIM, metric: 'l2', seed: 1 });
  for (let id = 0; id < 30; id++) ix.add(id, row(id));
  await ix.save(store, 'docs');
  ix.dispose();
  return store;
}

/** The ids of the index the store opens to (throws if it does not open). */
async function storedIds(store: ByteStore): Promise<number[]> {
  const ix = await e.openIndex(store, 'docs');
  const ids = Array.from(ix.ids()).sort((a, b) => a - b);
  ix.dispose();
  return ids;
}

/** Every key under 'docs' is the manifest or a chunk it names. */
async function expectNoStrayKeys(store: MemoryStore): Promise<void> {
  const m = decodeManifest((await store.read(MANIFEST))!, MANIFEST);
  const named = m.parts.flatMap((p) =>
    p.chunks.map((_, i) => `@index/docs/${p.stamp.generation}-${p.stamp.token.toString(16).padStart(8, '0')}/${i}`),
  );
  expect((await store.keys()).filter((k) => k.startsWith('@index/docs/')).sort()).toEqual([MANIFEST, ...named].sort());
}

test('a save committing between another save’s last check and its manifest write refuses that save (the first is kept)', async () => {
  const inner = await seeded();
  const mine = new HookedStore(inner);
  const theirs = new HookedStore(inner);
  const a = await e.openIndex(mine, 'docs');
  const b = await e.openIndex(theirs, 'docs');
  a.add(1001, row(1001));
  b.add(1002, row(1002));
  let manifestReads = 0;
  mine.hooks.readVersioned = async (key, real) => {
    const r = await real();
    // The second read of a's save is its last check: b commits right after it.
    if (key === MANIFEST && ++manifestReads === 2) await b.save(theirs, 'docs');
    return r;
  };
  await expect(a.save(mine, 'docs')).rejects.toThrow(/conflicting saves: the store holds generation 2/);
  mine.hooks = {};
  expect(await storedIds(inner)).toContain(1002);
  expect(await storedIds(inner)).not.toContain(1001);
  await expectNoStrayKeys(inner);
  // a reopens, adds again and saves: both are kept.
  const again = await e.openIndex(mine, 'docs');
  again.add(1001, row(1001));
  await again.save(mine, 'docs');
  expect(await storedIds(inner)).toEqual(expect.arrayContaining([1001, 1002]));
  for (const ix of [a, b, again]) ix.dispose();
});

test('removing leftovers never deletes the chunks of another save still writing', async () => {
  const inner = await seeded();
  const mine = new HookedStore(inner);
  const theirs = new HookedStore(inner);
  const a = await e.openIndex(mine, 'docs');
  a.add(2001, row(2001));
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reachedCommit: () => void = () => undefined;
  const atCommit = new Promise<void>((resolve) => {
    reachedCommit = resolve;
  });
  let theirSave: Promise<unknown> | undefined;
  // a's save lists the keys to remove while b, opened from a's new manifest, has written its
  // chunks and waits to commit.
  mine.hooks.keys = async (real) => {
    mine.hooks = {};
    const b = await e.openIndex(theirs, 'docs');
    b.add(2002, row(2002));
    theirs.hooks.writeIfVersion = async (key, _bytes, _expected, realWrite) => {
      if (key === MANIFEST) {
        reachedCommit();
        await gate;
      }
      return realWrite();
    };
    theirSave = b.save(theirs, 'docs').finally(() => b.dispose());
    await atCommit;
    return real();
  };
  await a.save(mine, 'docs');
  release();
  expect(await theirSave).toMatchObject({ kind: 'log', generation: 3 });
  expect(await storedIds(inner)).toEqual(expect.arrayContaining([2001, 2002]));
  a.dispose();
});

test('overwrite replaces a manifest that is not valid, by compare and swap too', async () => {
  const inner = await seeded();
  await inner.write(MANIFEST, new Uint8Array([1, 2, 3]));
  const ix = e.createIndex({ dim: DIM, metric: 'l2' });
  ix.add(7, row(7));
  await expect(ix.save(inner, 'docs')).rejects.toThrow(/E_CORRUPT|manifest/);
  // Another writer replaces the bytes between the overwrite's last check and its write: refused.
  const store = new HookedStore(inner);
  let reads = 0;
  store.hooks.readVersioned = async (key, real) => {
    const r = await real();
    if (key === MANIFEST && ++reads === 2) await inner.write(MANIFEST, new Uint8Array([4, 5, 6]));
    return r;
  };
  await expect(ix.save(store, 'docs', { overwrite: true })).rejects.toThrow(/conflicting saves/);
  store.hooks = {};
  expect(await ix.save(store, 'docs', { overwrite: true })).toMatchObject({ kind: 'checkpoint', generation: 2 }); // above the chunks left (1)
  expect(await storedIds(inner)).toEqual([7]);
  await expectNoStrayKeys(inner);
  ix.dispose();
});

describe('a manifest write that rejects and lands later', () => {
  /** A store whose next conditional manifest write rejects, its write landing when `land()` runs. */
  function lateStore(inner: MemoryStore): { store: HookedStore; land: () => Promise<ConditionalWrite | undefined> } {
    const store = new HookedStore(inner);
    return { store, land: store.rejectNextWrite(MANIFEST) };
  }

  test('landing after the read-back: the store opens to it, and the next save carries on from it', async () => {
    const inner = await seeded();
    const { store, land } = lateStore(inner);
    const a = await e.openIndex(store, 'docs');
    a.add(3001, row(3001));
    await expect(a.save(store, 'docs')).rejects.toThrow(/connection lost/);
    expect(await storedIds(inner)).not.toContain(3001);
    expect((await land())?.ok).toBe(true);
    expect(await storedIds(inner)).toContain(3001); // every chunk it names is there
    a.add(3002, row(3002));
    expect(await a.save(store, 'docs')).toMatchObject({ kind: 'log', generation: 3 });
    expect(await storedIds(inner)).toEqual(Array.from(a.ids()).sort((x, y) => x - y));
    await expectNoStrayKeys(inner);
    a.dispose();
  });

  test('landing while the next save writes: that save is refused, the one after carries on', async () => {
    const inner = await seeded();
    const { store, land } = lateStore(inner);
    const a = await e.openIndex(store, 'docs');
    a.add(3101, row(3101));
    await expect(a.save(store, 'docs')).rejects.toThrow(/connection lost/);
    a.add(3102, row(3102));
    let reads = 0;
    store.hooks.readVersioned = async (key, real) => {
      const r = await real();
      if (key === MANIFEST && ++reads === 2) await land();
      return r;
    };
    await expect(a.save(store, 'docs')).rejects.toThrow(/conflicting saves/);
    store.hooks = {};
    expect(await storedIds(inner)).toContain(3101);
    a.add(3103, row(3103));
    await a.save(store, 'docs');
    expect(await storedIds(inner)).toEqual(Array.from(a.ids()).sort((x, y) => x - y));
    await expectNoStrayKeys(inner);
    a.dispose();
  });

  test('landing never: the chunks stay until a later save removes them', async () => {
    const inner = await seeded();
    const { store } = lateStore(inner);
    const a = await e.openIndex(store, 'docs');
    a.add(3201, row(3201));
    await expect(a.save(store, 'docs')).rejects.toThrow(/connection lost/);
    expect(await storedIds(inner)).not.toContain(3201);
    await a.save(store, 'docs');
    expect(await storedIds(inner)).toContain(3201);
    await expectNoStrayKeys(inner);
    a.dispose();
  });
});

/** How often a chaotic store's calls misbehave. */
const CHAOS = { failBefore: 0.06, failAfter: 0.06, lateManifest: 0.1, failDelete: 0.2, failRead: 0.03 };

/**
 * One writer's connection to `inner`: every call waits 0-2 ms (so calls of several writers
 * reorder), writes fail before landing or land and then fail (a lost answer), a conditional
 * manifest write may reject and land 0-6 ms later (over the version it expected, so only if
 * nobody wrote since), deletes and reads fail at times.
 */
function chaotic(inner: MemoryStore, next: () => number): HookedStore & { chaos: boolean; late: Promise<unknown>[] } {
  const store = Object.assign(new HookedStore(inner), { chaos: true, late: [] as Promise<unknown>[] });
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(next() * 3)));
  const odds = (p: number) => store.chaos && next() < p;
  const misbehave = async <T>(call: () => Promise<T>, lateOk: boolean): Promise<T> => {
    await pause();
    if (odds(CHAOS.failBefore)) throw new Error('write failed');
    if (lateOk && odds(CHAOS.lateManifest)) {
      const wait = Math.floor(next() * 7);
      store.late.push(new Promise((resolve) => setTimeout(resolve, wait)).then(call));
      throw new Error('answer lost, the write still on its way');
    }
    const result = await call();
    if (odds(CHAOS.failAfter)) throw new Error('answer lost after the write landed');
    return result;
  };
  store.write = (key, bytes) => misbehave(() => inner.write(key, bytes), false);
  store.hooks.writeIfVersion = (key, _bytes, _expected, real) => misbehave(real, key === MANIFEST);
  store.hooks.readVersioned = async (_key, real) => {
    await pause();
    if (odds(CHAOS.failRead)) throw new Error('read failed');
    return real();
  };
  store.delete = async (key) => {
    await pause();
    if (odds(CHAOS.failDelete)) throw new Error('delete failed');
    return inner.delete(key);
  };
  return store;
}

describe('a storm of writers over a store that delays, reorders, fails and lands late loses no acknowledged save', () => {
  const WRITERS = 4;
  const ROUNDS = 14;

  test.each([1, 2, 3, 4])('seed %i', async (seed) => {
    const inner = await seeded();
    const next = rng(seed);
    const acked = new Set<number>();
    const ackedAt: { id: number; at: number }[] = [];
    let clock = 0;
    let conflicts = 0;
    let failures = 0;

    async function writer(
      w: number,
    ): Promise<{ index: VectorIndex; store: ReturnType<typeof chaotic>; pending: Set<number> }> {
      const store = chaotic(inner, rng(seed * 100 + w));
      const pending = new Set<number>();
      const open = async (): Promise<VectorIndex> => {
        for (;;) {
          try {
            const ix = await e.openIndex(store, 'docs');
            for (const id of pending) ix.add(id, row(id));
            return ix;
          } catch (error) {
            expect(error).toBeInstanceOf(StoreError); // never CorruptSnapshotError
          }
        }
      };
      let index = await open();
      let counter = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const adds = 1 + Math.floor(next() * 3);
        for (let i = 0; i < adds; i++) {
          const id = 10_000 * (w + 1) + counter++;
          index.add(id, row(id));
          pending.add(id);
        }
        const taken = [...pending];
        try {
          await index.save(store, 'docs', { chunkBytes: 1024, logShare: next() < 0.2 ? 0 : 0.25 });
          for (const id of taken) {
            pending.delete(id);
            acked.add(id);
            ackedAt.push({ id, at: ++clock });
          }
        } catch (error) {
          expect(error).toBeInstanceOf(StoreError);
          if (/conflicting saves/.test((error as Error).message)) {
            conflicts++;
            index.dispose();
            index = await open();
          } else failures++;
        }
      }
      return { index, store, pending };
    }

    // An observer opening the index all along: it always opens, to a state holding every save acknowledged before it began.
    let running = true;
    const observer = (async () => {
      let opens = 0;
      while (running) {
        const before = new Set(ackedAt.map((a) => a.id));
        const ix = await e.openIndex(inner, 'docs');
        for (const id of before) expect(ix.has(id)).toBe(true);
        ix.dispose();
        opens++;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return opens;
    })();
    const writers = await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    running = false;
    expect(await observer).toBeGreaterThan(3);
    // Calm: the late writes land or fail, then each writer saves what it still holds until it lands.
    for (const w of writers) await Promise.allSettled(w.store.late);
    for (const w of writers) {
      w.store.chaos = false;
      for (;;) {
        try {
          await w.index.save(w.store, 'docs');
          break;
        } catch (error) {
          expect((error as Error).message).toMatch(/conflicting saves/);
          w.index.dispose();
          w.index = await e.openIndex(w.store, 'docs');
          for (const id of w.pending) w.index.add(id, row(id));
        }
      }
      for (const id of w.pending) acked.add(id);
    }
    const ids = await storedIds(inner);
    expect(ids.filter((id) => id >= 10_000)).toEqual([...acked].sort((a, b) => a - b));
    expect(ids.filter((id) => id < 10_000)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // The last save removed every leftover (its deletes no longer fail).
    await expectNoStrayKeys(inner);
    expect(conflicts + failures).toBeGreaterThan(0);
    for (const w of writers) w.index.dispose();
  });
});
