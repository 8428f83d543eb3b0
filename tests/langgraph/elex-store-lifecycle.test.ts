/**
 * ElexStore lifecycle with a fake clock: TTL per item and by default, refresh on read, expired
 * items invisible at once (get, search, query search, listNamespaces), the sweep that removes
 * them and gives their memory back (the index compacted), the sweep timer; and the all-or-
 * nothing rule: a batch that fails (bad namespace, value, embedding call, dimension, budget)
 * changes nothing.
 */
import { InvalidNamespaceError } from '@langchain/langgraph-checkpoint';
import { ElexStore } from '../../src/langgraph/index';
import { BUILDS, engine } from '../helpers/engines';
import { HashEmbeddings } from '../helpers/langgraph';
import { MemoryStore } from '../../src/index';

const DIMS = 16;
const MINUTE = 60_000;

describe.each(BUILDS)('ElexStore lifecycle (simd %s)', (simd) => {
  test('TTL: expired items are invisible at once; reads refresh; per-put ttl overrides the default', async () => {
    let time = 1_000_000;
    const embeddings = new HashEmbeddings(DIMS);
    const store = new ElexStore({
      index: { dims: DIMS, embeddings, fields: ['text'] },
      engine: await engine(simd),
      now: () => time,
      ttl: { defaultTtl: 10 },
    });
    await store.put(['u', 'a'], 'short', { text: 'short lived' });
    await store.put(['u', 'a'], 'forever', { text: 'kept' }, undefined, { ttl: null });
    await store.put(['u', 'b'], 'long', { text: 'long lived' }, undefined, { ttl: 60 });
    time += 9 * MINUTE;
    expect(await store.get(['u', 'a'], 'short')).not.toBeNull(); // refreshed: lives to 19 minutes
    time += 9 * MINUTE;
    expect((await store.search(['u'], { query: 'short lived', limit: 1 }))[0]).toMatchObject({ key: 'short' }); // to 28
    time += 9 * MINUTE;
    expect(await store.get(['u', 'a'], 'short')).not.toBeNull();
    time += 11 * MINUTE; // 38: expired at 37
    expect(await store.get(['u', 'a'], 'short')).toBeNull();
    expect((await store.search(['u', 'a'])).map((i) => i.key)).toEqual(['forever']);
    expect((await store.search(['u'], { query: 'short lived', limit: 5 })).map((i) => i.key).sort()).toEqual([
      'forever',
      'long',
    ]);
    time += 60 * MINUTE;
    expect(await store.get(['u', 'b'], 'long')).toBeNull();
    expect(await store.listNamespaces()).toEqual([['u', 'a']]); // ['u', 'b'] holds only an expired item
    expect(store.size).toBe(3); // not swept yet
    expect(await store.sweep()).toBe(2);
    expect(store.size).toBe(1);
    // An update keeps createdAt; a put over an expired (unswept) item is a new one.
    await store.put(['u', 'a'], 'forever', { text: 'again' });
    expect((await store.get(['u', 'a'], 'forever'))!.createdAt.getTime()).toBe(1_000_000);
    await store.put(['u', 'c'], 'gone', { text: 'x' }, undefined, { ttl: 1 });
    time += 2 * MINUTE;
    await store.put(['u', 'c'], 'gone', { text: 'y' });
    expect((await store.get(['u', 'c'], 'gone'))!.createdAt.getTime()).toBe(time);
    store.dispose();
  });

  test('refreshOnRead false: reads do not extend the time', async () => {
    let time = 0;
    const store = new ElexStore({
      engine: await engine(simd),
      now: () => time,
      ttl: { defaultTtl: 1, refreshOnRead: false },
    });
    await store.put(['n'], 'k', { v: 1 });
    time += 0.5 * MINUTE;
    expect(await store.get(['n'], 'k')).not.toBeNull();
    time += 0.5 * MINUTE;
    expect(await store.get(['n'], 'k')).toBeNull();
    store.dispose();
  });

  test('sweep gives the memory back: item bytes, the vectors, the index compacted', async () => {
    let time = 0;
    const e = await engine(simd);
    const store = new ElexStore({
      index: { dims: 64, embeddings: new HashEmbeddings(64), fields: ['text'] },
      engine: e,
      now: () => time,
    });
    await store.put(['keep'], 'k', { text: 'stays' });
    const baseline = { items: store.itemBytes, used: e.usedBytes };
    for (let i = 0; i < 400; i++)
      await store.put(['tmp'], `t${i}`, { text: `temporary ${i} ${'x'.repeat(200)}` }, undefined, { ttl: 5 });
    const full = e.usedBytes;
    expect(full).toBeGreaterThan(baseline.used);
    time += 6 * MINUTE;
    expect(await store.sweep()).toBe(400);
    expect(store.itemBytes).toBe(baseline.items);
    expect(store.index!.size).toBe(1);
    expect(e.usedBytes).toBeLessThan(full); // compacted: the removed nodes' memory given back
    expect(await store.search([], { query: 'stays', limit: 3 })).toMatchObject([{ key: 'k' }]);
    store.dispose();
    e.dispose();
  });

  test('the sweep timer sweeps every sweepIntervalMinutes; stop() ends it', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date', 'hrtime', 'performance'] });
    try {
      let time = 0;
      const store = new ElexStore({
        engine: await engine(simd),
        now: () => time,
        ttl: { defaultTtl: 1, sweepIntervalMinutes: 2 },
      });
      await store.put(['n'], 'a', { v: 1 });
      time += 1.5 * MINUTE;
      jest.advanceTimersByTime(2 * MINUTE);
      await store.listNamespaces(); // queued behind the timer's sweep
      expect(store.size).toBe(0);
      await store.put(['n'], 'b', { v: 1 });
      await store.stop();
      time += 5 * MINUTE;
      jest.advanceTimersByTime(10 * MINUTE);
      await store.listNamespaces(); // queued behind the timer's sweep
      expect(store.size).toBe(1); // no timer any more
      store.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  test('fractional times (a ttl in fractions of a minute, a sub-ms clock) save and open again', async () => {
    let time = 1_700_000_000_000.5;
    const bytes = new MemoryStore();
    const open = async () => ElexStore.open({ store: bytes, engine: await engine(simd), now: () => time });
    const store = await open();
    await store.put(['u'], 'a', { v: 1 }, undefined, { ttl: 1.23456 });
    await store.put(['u'], 'b', { v: 2 });
    await store.flush();
    const saved = await store.search(['u']);
    const again = await open();
    expect(await again.search(['u'])).toEqual(saved);
    time += 1.23456 * MINUTE; // a's expiry, to the ms fraction
    expect((await again.search(['u'])).map((i) => i.key)).toEqual(['b']);
  });

  test('a put over an expired item not yet swept makes a new item, added last as after a sweep', async () => {
    for (const sweepFirst of [false, true]) {
      let time = 1_000_000;
      const bytes = new MemoryStore();
      const store = await ElexStore.open({ store: bytes, engine: await engine(simd), now: () => time });
      await store.put(['n'], 'a', { v: 1 }, undefined, { ttl: 1 });
      await store.put(['n'], 'b', { v: 2 });
      time += 2 * MINUTE;
      if (sweepFirst) await store.sweep();
      await store.put(['n'], 'a', { v: 3 });
      const items = await store.search(['n']);
      expect(items.map((i) => [i.key, i.value.v, +i.createdAt])).toEqual([
        ['b', 2, 1_000_000],
        ['a', 3, time],
      ]);
      await store.flush();
      const again = await ElexStore.open({ store: bytes, engine: await engine(simd), now: () => time });
      expect(await again.search(['n'])).toEqual(items);
    }
  });

  test('a filter holding an object that is not plain (a Date) is its own cache key', async () => {
    const embeddings = new HashEmbeddings(DIMS);
    const store = new ElexStore({ index: { dims: DIMS, embeddings, fields: ['text'] }, engine: await engine(simd) });
    const day = '2024-01-01T00:00:00.000Z';
    await store.put(['u'], 'a', { text: 'green tea', day });
    await store.put(['u'], 'b', { text: 'black tea', day: 'other' });
    const keys = async (filter: Record<string, unknown>) =>
      (await store.search(['u'], { query: 'tea', filter })).map((i) => i.key).sort();
    const byDate = (await store.search(['u'], { filter: { day: new Date(day) } })).map((i) => i.key).sort();
    expect(await keys({ day })).toEqual(['a']);
    // JSON would make the Date its ISO string: the query search must not reuse the string's list.
    expect(await keys({ day: new Date(day) })).toEqual(byDate);
    expect(byDate).not.toEqual(['a']);
  });

  test('a batch that fails changes nothing', async () => {
    const e = await engine(simd, { budgetBytes: 1 << 20 });
    const embeddings = new HashEmbeddings(DIMS);
    const store = new ElexStore({ index: { dims: DIMS, embeddings, fields: ['text'] }, engine: e });
    await store.put(['ok'], 'first', { text: 'first' });
    const current = async () => ({
      items: await store.search([], { limit: 1000 }),
      size: store.size,
      bytes: store.itemBytes,
      vectors: store.index!.size,
    });
    const state = await current();
    const good = { namespace: ['ok'], key: 'second', value: { text: 'second' } };
    const failures: [unknown[], object][] = [
      [[good, { namespace: ['bad.label'], key: 'x', value: { text: 'x' } }], InvalidNamespaceError],
      [[good, { namespace: ['ok'], key: 'x', value: { when: new Date() } }], { code: 'E_ARGUMENT' }],
      [[good, { namespace: ['ok'], key: 'x', value: { text: 'x' }, ttl: -1 }], { code: 'E_ARGUMENT' }],
      [[good, { namespacePrefix: ['ok'], limit: -1 }], { code: 'E_ARGUMENT' }],
      [[good, { what: 'not an operation' }], { code: 'E_ARGUMENT' }],
    ];
    for (const [ops, error] of failures) {
      const failing = store.batch(ops as never);
      if (typeof error === 'function') await expect(failing).rejects.toBeInstanceOf(error);
      else await expect(failing).rejects.toMatchObject(error);
      expect(await current()).toEqual(state);
    }
    await expect(store.put(['langgraph'], 'x', { text: 'x' })).rejects.toBeInstanceOf(InvalidNamespaceError);
    await expect(store.put(['a:b'], 'x', { text: 'x' })).rejects.toBeInstanceOf(InvalidNamespaceError);
    expect(await current()).toEqual(state);
    embeddings.failWith = new Error('embedding service down');
    await expect(store.batch([good])).rejects.toThrow('embedding service down');
    embeddings.failWith = undefined;
    expect(await current()).toEqual(state);
    const wrong = new ElexStore({ index: { dims: DIMS + 1, embeddings, fields: ['text'] }, engine: e });
    await expect(wrong.put(['ok'], 'x', { text: 'x' })).rejects.toMatchObject({ code: 'E_DIMENSION' });
    expect(wrong.size).toBe(0);
    wrong.dispose();
    // The budget: fill until a put is refused; the refused put leaves nothing.
    let refused: unknown;
    for (let i = 0; refused === undefined && i < 100_000; i++) {
      const bulky = { text: `bulky ${i}`, pad: 'p'.repeat(4000) };
      const size = store.size;
      const bytes = store.itemBytes;
      refused = await store.put(['fill'], `f${i}`, bulky).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refused !== undefined) {
        expect(store.size).toBe(size);
        expect(store.itemBytes).toBe(bytes);
        expect(await store.get(['fill'], `f${i}`)).toBeNull();
      }
    }
    expect(refused).toMatchObject({ code: 'E_BUDGET' });
    expect(e.usedBytes + store.itemBytes).toBeLessThanOrEqual(e.budgetBytes);
    for (const bad of [{ indx: {} }, { hnsw: { efSerch: 10 } }, { ttl: { defaultTtl: 0 } }, { autoFlush: true }])
      expect(() => new ElexStore(bad as never)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
    // A save name is an index name: 1..100 UTF-16 code units, no lone surrogate.
    for (const name of ['', 'n'.repeat(101), 'a\uD800b', 7])
      expect(() => new ElexStore({ engine: e, store: new MemoryStore(), name } as never)).toThrow(
        expect.objectContaining({ code: 'E_ARGUMENT' }),
      );
    store.dispose();
    e.dispose();
  });
});
