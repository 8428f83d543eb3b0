/** The three stores on their own: round trips, atomic file writes, IndexedDB (fake-indexeddb) and quota errors. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import {
  Engine, FileStore, IndexedDBStore, InvalidArgumentError, MemoryStore, StoreError, StoreQuotaError, type AgentStore,
} from '../src/index';
import { QTABLE, agentState, work } from './helpers/agents';
import { rng } from './helpers/random';

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
  const store = new IndexedDBStore('none', { indexedDB: undefined });
  if ((globalThis as { indexedDB?: unknown }).indexedDB === undefined) {
    await expect(store.read('a')).rejects.toThrow(/not available/);
  }
  expect(() => new IndexedDBStore('')).toThrow(InvalidArgumentError);
});
