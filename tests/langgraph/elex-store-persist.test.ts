/**
 * ElexStore persistence through a ByteStore: random operations flushed at random points, each
 * flush reopened and compared with the live store (every item in order, namespaces, query
 * scores); flushes write deltas (small records continuing the last full one) until they pass
 * half of it; a failing store leaves the previous flush; provenance: another model is
 * EmbeddingModelMismatchError unless re-embedded.
 */
import type { Operation, SearchItem } from '@langchain/langgraph-checkpoint';
import { MemoryStore, type ByteStore } from '../../src/index';
import { ElexStore, ITEMS_KEY_PREFIX } from '../../src/langgraph/index';
import { BUILDS, engine } from '../helpers/engines';
import { HashEmbeddings, randomOps } from '../helpers/langgraph';
import { rng } from '../helpers/random';

const DIMS = 16;

/** Everything a store shows: every item in order, the namespaces, and a few query searches' items and scores. */
async function state(store: ElexStore) {
  const queries: Operation[] = ['tea', 'paris code', 'run walk'].map((query) => ({
    namespacePrefix: ['u1'],
    query,
    limit: 5,
  }));
  return {
    items: await store.search([], { limit: 100000 }),
    namespaces: await store.listNamespaces({ limit: 1000 }),
    queries: ((await store.batch(queries)) as SearchItem[][]).map((r) =>
      r.map((i) => [i.namespace.join('/'), i.key, i.score === undefined ? undefined : Math.round(i.score * 1e5)]),
    ),
  };
}

/** A MemoryStore whose writes fail while `failing` is set. */
class FlakyStore extends MemoryStore {
  failing = false;
  override async write(key: string, bytes: Uint8Array): Promise<void> {
    if (this.failing) throw new Error('disk on fire');
    return super.write(key, bytes);
  }
}

const recordKeys = async (store: ByteStore) => (await store.keys()).filter((k) => k.startsWith(ITEMS_KEY_PREFIX));

describe.each(BUILDS)('ElexStore persistence (simd %s)', (simd) => {
  test('random operations, flushed at random points: every flush reopens to the live state', async () => {
    const e = await engine(simd);
    const embeddings = new HashEmbeddings(DIMS);
    const index = { dims: DIMS, embeddings, fields: ['text', 'notes[*]'] };
    const bytes = new MemoryStore();
    let time = 1_750_000_000_000;
    const now = () => time;
    // No refresh on read: state() reads every item, which would put all of them in the next flush.
    const ttl = { defaultTtl: 500, refreshOnRead: false };
    const store = new ElexStore({ index, engine: e, store: bytes, now, ttl });
    const next = rng(7);
    let flushes = 0;
    let deltas = 0;
    for (const batch of randomOps(11, 1200)) {
      time += 1000;
      await store.batch(batch);
      if (next() < 0.15) {
        const before = (await recordKeys(bytes)).length;
        await store.flush();
        flushes++;
        if ((await recordKeys(bytes)).length > before) deltas++;
        const again = await ElexStore.open({ index, engine: e, store: bytes, now, ttl });
        expect(await state(again)).toEqual(await state(store));
        expect(again.itemBytes).toBe(store.itemBytes);
        again.dispose();
      }
    }
    expect(flushes).toBeGreaterThan(20);
    expect(deltas).toBeGreaterThan(5); // most flushes continue the chain rather than rewrite it
    await store.stop(); // flushes
    const last = await ElexStore.open({ index, engine: e, store: bytes, now, ttl });
    expect(await state(last)).toEqual(await state(store));
    last.dispose();
    store.dispose();
    e.dispose();
  }, 60_000);

  test('a delta holds the changes only; past half the full record a flush writes a full one', async () => {
    const e = await engine(simd);
    const embeddings = new HashEmbeddings(DIMS);
    const bytes = new MemoryStore();
    const store = new ElexStore({ index: { dims: DIMS, embeddings, fields: ['text'] }, engine: e, store: bytes });
    for (let i = 0; i < 200; i++) await store.put(['docs'], `k${i}`, { text: `text ${i} ${'x'.repeat(100)}` });
    await store.flush();
    const [full] = await recordKeys(bytes);
    const fullBytes = (await bytes.read(full))!.length;
    await store.put(['docs'], 'k5', { text: 'changed' });
    await store.delete(['docs'], 'k6');
    await store.flush();
    const chain = await recordKeys(bytes);
    expect(chain).toHaveLength(2);
    const delta = chain.find((k) => k !== full)!;
    expect((await bytes.read(delta))!.length).toBeLessThan(fullBytes / 20);
    expect(await store.flush()).toBeUndefined(); // nothing changed: nothing written
    for (let i = 0; i < 120; i++) await store.put(['docs'], `k${i}`, { text: `again ${i} ${'y'.repeat(100)}` });
    await store.flush();
    expect(await recordKeys(bytes)).toHaveLength(1); // a new full record; the old chain deleted
    const again = await ElexStore.open({
      index: { dims: DIMS, embeddings, fields: ['text'] },
      engine: e,
      store: bytes,
    });
    expect(await again.get(['docs'], 'k5')).toMatchObject({ value: { text: `again 5 ${'y'.repeat(100)}` } });
    expect(await again.get(['docs'], 'k6')).toMatchObject({ value: { text: `again 6 ${'y'.repeat(100)}` } });
    expect(await again.get(['docs'], 'k150')).toMatchObject({ value: { text: `text 150 ${'x'.repeat(100)}` } });
    expect(again.size).toBe(200);
    again.dispose();
    store.dispose();
    e.dispose();
  });

  test('a flush that fails leaves the previous one; the next flush writes what it missed', async () => {
    const e = await engine(simd);
    const embeddings = new HashEmbeddings(DIMS);
    const index = { dims: DIMS, embeddings };
    const bytes = new FlakyStore();
    const store = new ElexStore({ index, engine: e, store: bytes });
    await store.put(['a'], 'one', { text: 'one' });
    await store.flush();
    await store.put(['a'], 'two', { text: 'two' });
    bytes.failing = true;
    await expect(store.flush()).rejects.toMatchObject({ code: 'E_STORE' });
    bytes.failing = false;
    const before = await ElexStore.open({ index, engine: e, store: bytes });
    expect((await before.search(['a'])).map((i) => i.key)).toEqual(['one']);
    before.dispose();
    await store.flush();
    const after = await ElexStore.open({ index, engine: e, store: bytes });
    expect((await after.search(['a'])).map((i) => i.key)).toEqual(['one', 'two']);
    after.dispose();
    store.dispose();
    e.dispose();
  });

  test('autoFlush whose write fails: the put rejects, stays in memory, and the next flush writes it', async () => {
    const e = await engine(simd);
    const bytes = new FlakyStore();
    const store = new ElexStore({ engine: e, store: bytes, autoFlush: true });
    await store.put(['a'], 'one', { n: 1 });
    bytes.failing = true;
    await expect(store.put(['a'], 'two', { n: 2 })).rejects.toMatchObject({ code: 'E_STORE' });
    expect(await store.get(['a'], 'two')).toMatchObject({ value: { n: 2 } });
    bytes.failing = false;
    await store.flush();
    const again = await ElexStore.open({ engine: e, store: bytes });
    expect((await again.search(['a'])).map((i) => i.key)).toEqual(['one', 'two']);
    again.dispose();
    // A new store (not opened from the save) flushing there is another writer: StoreError.
    const other = new ElexStore({ engine: e, store: bytes });
    await other.put(['b'], 'x', { n: 3 });
    await expect(other.flush()).rejects.toMatchObject({ code: 'E_STORE' });
    other.dispose();
    store.dispose();
    e.dispose();
  });

  test('autoFlush: a put is stored when it resolves; a store without index persists too', async () => {
    const e = await engine(simd);
    const bytes = new MemoryStore();
    const store = new ElexStore({ engine: e, store: bytes, name: 'plain', autoFlush: true });
    await store.put(['p'], 'k', { n: 1 });
    await store.put(['p', 'q'], 'k', { n: 2 });
    await store.delete(['p'], 'k');
    const again = await ElexStore.open({ engine: e, store: bytes, name: 'plain' });
    expect(await again.listNamespaces()).toEqual([['p', 'q']]);
    expect(await again.get(['p', 'q'], 'k')).toMatchObject({ value: { n: 2 } });
    again.dispose();
    store.dispose();
    e.dispose();
  });

  test('provenance: another model or dimension is EmbeddingModelMismatchError; reembed re-embeds', async () => {
    const e = await engine(simd);
    const bytes = new MemoryStore();
    const v1 = new HashEmbeddings(DIMS, 'model-a');
    const store = new ElexStore({ index: { dims: DIMS, embeddings: v1, fields: ['text'] }, engine: e, store: bytes });
    for (const [key, text] of [
      ['tea', 'green tea'],
      ['rome', 'rome trip'],
      ['code', 'code review'],
    ])
      await store.put(['m'], key, { text });
    await store.put(['m'], 'quiet', { text: 'not embedded' }, false);
    await store.stop();
    const v2 = new HashEmbeddings(DIMS + 8, 'model-b');
    const used = e.usedBytes;
    for (const given of [
      { dims: DIMS, embeddings: new HashEmbeddings(DIMS, 'model-b') },
      { dims: DIMS + 8, embeddings: v2 },
    ]) {
      await expect(
        ElexStore.open({ index: { ...given, fields: ['text'] }, engine: e, store: bytes }),
      ).rejects.toMatchObject({
        code: 'E_EMBEDDINGS',
        saved: { model: 'model-a', dims: DIMS },
        given: { model: 'model-b', dims: given.dims },
      });
      expect(e.usedBytes).toBe(used); // nothing kept
    }
    const moved = await ElexStore.open({
      index: { dims: DIMS + 8, embeddings: v2, fields: ['text'] },
      engine: e,
      store: bytes,
      reembed: true,
    });
    expect(moved.provenance).toEqual({ model: 'model-b', dims: DIMS + 8 });
    const hits = await moved.search(['m'], { query: 'rome trip', limit: 4 });
    expect(hits[0]).toMatchObject({ key: 'rome' });
    expect(hits[0].score).toBeCloseTo(1, 5);
    expect(hits[3]).toMatchObject({ key: 'quiet', score: undefined }); // still not embedded
    await moved.flush();
    moved.dispose();
    const reopened = await ElexStore.open({
      index: { dims: DIMS + 8, embeddings: v2, fields: ['text'] },
      engine: e,
      store: bytes,
    });
    expect((await reopened.search(['m'], { query: 'code review', limit: 1 }))[0]).toMatchObject({ key: 'code' });
    // reembed() on a live store: back to model-a, the store saved with it at the next flush.
    await reopened.reembed(v1, { dims: DIMS });
    expect((await reopened.search(['m'], { query: 'green tea', limit: 1 }))[0].score).toBeCloseTo(1, 5);
    await reopened.stop();
    reopened.dispose();
    const back = await ElexStore.open({
      index: { dims: DIMS, embeddings: v1, fields: ['text'] },
      engine: e,
      store: bytes,
    });
    expect(back.size).toBe(4);
    back.dispose();
    store.dispose();
    e.dispose();
  });
});
