/** The three stores on their own: round trips, atomic file writes, IndexedDB (fake-indexeddb) and quota errors. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import {
  Engine,
  FileStore,
  IndexedDBStore,
  InvalidArgumentError,
  MemoryStore,
  StoreError,
  StoreQuotaError,
  type AgentStore,
} from '../../src/index';
import { QTABLE, agentState, work } from '../helpers/agents';
import { rng } from '../helpers/random';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'elex-store-'));
  dirs.push(d);
  return d;
}

const stores: Array<[string, () => AgentStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['FileStore', () => new FileStore(join(tempDir(), 'nested', 'agents'))],
  ['IndexedDBStore', () => new IndexedDBStore(`db-${Math.random()}`, { indexedDB: new IDBFactory() })],
];

describe.each(stores)('%s', (_name, make) => {
  test('round trips bytes, replaces, deletes, lists, and hands out copies', async () => {
    const store = make();
    expect(await store.read('missing')).toBeUndefined();
    expect(await store.keys()).toEqual([]);
    const ids = ['a', 'b/../../etc', 'ünïcödé', '..', 'x'.repeat(50)];
    for (const [i, id] of ids.entries()) await store.write(id, new Uint8Array([i, 1, 2, 3]));
    expect((await store.keys()).sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) expect(Array.from((await store.read(id))!)).toEqual([i, 1, 2, 3]);
    const bytes = new Uint8Array([9, 9]);
    await store.write('a', bytes);
    bytes[0] = 0;
    const read = (await store.read('a'))!;
    expect(Array.from(read)).toEqual([9, 9]);
    await store.delete('a');
    await store.delete('never');
    expect(await store.read('a')).toBeUndefined();
    expect((await store.keys()).length).toBe(ids.length - 1);
  });

  test('backs an agent cache: agents come back exactly', async () => {
    const store = make();
    const engine = await Engine.create();
    const cache = engine.createAgentCache({ store, maxAgents: 3, qtable: QTABLE, trajectoryCapacity: 10 });
    const next = rng(4);
    const states = new Map<string, string>();
    for (let i = 0; i < 8; i++) {
      await cache.use(`s${i}`, (a) => work(a, next));
      states.set(`s${i}`, await cache.use(`s${i}`, agentState));
    }
    await cache.close();
    const cache2 = engine.createAgentCache({ store, maxAgents: 3, qtable: QTABLE, trajectoryCapacity: 10 });
    for (const [id, state] of states) expect(await cache2.use(id, agentState)).toBe(state);
    engine.dispose();
  });
});

test('FileStore writes atomically: no temp files left, a failed write keeps the old file', async () => {
  const dir = tempDir();
  const store = new FileStore(dir);
  await store.write('a', new Uint8Array([1, 2, 3]));
  expect(readdirSync(dir).sort()).toEqual(['.elex-lock', 'a.agent']); // the write lock this process holds
  // A write that cannot complete (the target is a directory) fails typed and leaves nothing behind.
  const blocked = new FileStore(join(dir, 'a.agent'));
  await expect(blocked.write('b', new Uint8Array([1]))).rejects.toThrow(StoreError);
  expect(Array.from((await store.read('a'))!)).toEqual([1, 2, 3]);
  expect(readdirSync(dir).sort()).toEqual(['.elex-lock', 'a.agent']); // the write lock this process holds
  expect(() => new FileStore('')).toThrow(InvalidArgumentError);
  await expect(store.write('y'.repeat(300), new Uint8Array(1))).rejects.toThrow(/too long/);
});

test('IndexedDBStore surfaces a quota failure as StoreQuotaError and an eviction keeps the agent', async () => {
  const store = new IndexedDBStore('quota', { indexedDB: new IDBFactory() });
  const put = IDBObjectStore.prototype.put;
  const spy = jest.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args) {
    if (args[1] === 'q1') throw new DOMException('over quota', 'QuotaExceededError');
    return put.apply(this, args as Parameters<typeof put>);
  });
  try {
    await store.write('ok', new Uint8Array([1]));
    const error = await store.write('q1', new Uint8Array([1])).catch((e) => e);
    expect(error).toBeInstanceOf(StoreQuotaError);
    expect(error.code).toBe('E_QUOTA');
    const engine = await Engine.create();
    const cache = engine.createAgentCache({ store, maxAgents: 1, qtable: QTABLE });
    const next = rng(1);
    await cache.use('q1', (a) => work(a, next));
    const state = await cache.use('q1', agentState);
    await expect(cache.get('q2')).rejects.toThrow(StoreQuotaError);
    expect(cache.has('q1')).toBe(true);
    expect(await cache.use('q1', agentState)).toBe(state);
    engine.dispose();
  } finally {
    spy.mockRestore();
  }
});

test('IndexedDBStore without IndexedDB fails typed', async () => {
  expect((globalThis as { indexedDB?: unknown }).indexedDB).toBeUndefined(); // Node has none
  const store = new IndexedDBStore('none', { indexedDB: undefined });
  await expect(store.read('a')).rejects.toThrow(StoreError);
  await expect(store.keys()).rejects.toThrow(/not available/);
  expect(() => new IndexedDBStore('')).toThrow(InvalidArgumentError);
  // A lone surrogate made encodeURIComponent throw a bare URIError.
  expect(() => new IndexedDBStore('db\uD800')).toThrow(/database name "db\\ud800" holds a lone surrogate/);
  expect(() => new IndexedDBStore('db', { storeName: 'a\uDC00' })).toThrow(InvalidArgumentError);
  expect(() => new IndexedDBStore('db', { storeName: '' })).toThrow(InvalidArgumentError);
  expect(new IndexedDBStore('db \uD83D\uDE42', { storeName: 'x/%' }).identity).toBeUndefined(); // no global indexedDB in Node
});

describe('IndexedDBStore, several object stores and closed connections', () => {
  test('a second store name in one database gets its own object store; both keep their keys', async () => {
    const factory = new IDBFactory();
    const agents = new IndexedDBStore('shared-db', { indexedDB: factory });
    await agents.write('a1', new Uint8Array([1, 2]));
    const indexes = new IndexedDBStore('shared-db', { indexedDB: factory, storeName: 'indexes' });
    await indexes.write('@index/x', new Uint8Array([3]));
    const third = new IndexedDBStore('shared-db', { indexedDB: factory, storeName: 'third' });
    await third.write('t', new Uint8Array([4]));
    // The first connection was asked to close for the upgrades; it reopens and still sees its data.
    expect(await agents.keys()).toEqual(['a1']);
    expect(Array.from((await agents.read('a1'))!)).toEqual([1, 2]);
    expect(await indexes.keys()).toEqual(['@index/x']);
    expect(await third.keys()).toEqual(['t']);
    await indexes.delete('@index/x');
    expect(await indexes.keys()).toEqual([]);
    expect(await agents.keys()).toEqual(['a1']);
    // A fresh object over the same database finds both stores without another upgrade.
    const again = new IndexedDBStore('shared-db', { indexedDB: factory, storeName: 'third' });
    expect(Array.from((await again.read('t'))!)).toEqual([4]);
    for (const s of [agents, indexes, third, again]) s.close();
  });

  test('every call on a connection closed under the store fails with StoreError, and the next call reopens', async () => {
    const factory = new IDBFactory();
    const store = new IndexedDBStore('closing', { indexedDB: factory });
    await store.write('k', new Uint8Array([9]));
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['keys', () => store.keys()],
      ['delete', () => store.delete('k')],
      ['read', () => store.read('k')],
      ['write', () => store.write('k', new Uint8Array([9]))],
    ];
    for (const [name, call] of calls) {
      const db = await (store as unknown as { db: Promise<{ close(): void }> }).db;
      db.close(); // as a browser does when the database is deleted or the tab is closing
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ name, error }).toEqual({ name, error: expect.any(StoreError) });
      expect((error as StoreError).code).toBe('E_STORE');
      expect((error as StoreError).cause).toBeInstanceOf(DOMException);
      expect(await store.keys()).toEqual(['k']); // reopened
    }
    store.close();
  });
});

test('IndexedDBStores over one object store of the global indexedDB are one save target', async () => {
  expect(new IndexedDBStore('given', { indexedDB: new IDBFactory() }).identity).toBeUndefined();
  const global = globalThis as { indexedDB?: unknown };
  global.indexedDB = new IDBFactory();
  try {
    const a = new IndexedDBStore('kb');
    const b = new IndexedDBStore('kb');
    expect(a.identity).toBe('indexeddb:kb/agents');
    expect(b.identity).toBe(a.identity);
    expect(new IndexedDBStore('kb', { storeName: 'other' }).identity).not.toBe(a.identity);
    const engine = await Engine.create({ budgetBytes: 8 << 20 });
    const index = engine.createIndex({ dim: 4, metric: 'l2' });
    index.addBatch(
      [1, 2, 3],
      new Float32Array(12).map((_, i) => i),
    );
    expect((await index.save(a, 'x')).kind).toBe('checkpoint');
    index.add(4, [1, 2, 3, 4]);
    // Through another object over the same object store: the log continues (a store object
    // without an identity would be a new place, and get a checkpoint).
    expect((await index.save(b, 'x')).kind).toBe('log');
    const again = await engine.openIndex(a, 'x');
    expect(Buffer.compare(again.serialize(), index.serialize())).toBe(0);
    a.close();
    b.close();
    engine.dispose();
  } finally {
    delete global.indexedDB;
  }
});
