/**
 * A store's plain Error reaches every agent cache path typed: get, use, flush, evict, close and
 * an eviction a get starts all throw StoreError (E_STORE) with the store's error as `cause`,
 * whether the store rejects or throws synchronously; a store's own StoreQuotaError stays as it
 * is. After the store recovers the cache carries on and nothing was lost.
 */
import { Engine, MemoryStore, StoreError, StoreQuotaError, type AgentStore } from '../../src/index';
import { rejection } from '../helpers/errors';

const QT = { actions: 4 };

type Method = 'read' | 'write' | 'delete' | 'keys';

/** A MemoryStore whose methods fail on demand: a rejected promise, or a synchronous throw. */
class FailingStore implements AgentStore {
  readonly inner = new MemoryStore();
  failing = new Set<Method>();
  sync = false;
  error: unknown = new Error('disk on fire');

  private guard(method: Method): Promise<never> | undefined {
    if (!this.failing.has(method)) return undefined;
    if (this.sync) throw this.error;
    return Promise.reject(this.error);
  }

  read(key: string): Promise<Uint8Array | undefined> {
    return this.guard('read') ?? this.inner.read(key);
  }

  write(key: string, bytes: Uint8Array): Promise<void> {
    return this.guard('write') ?? this.inner.write(key, bytes);
  }

  delete(key: string): Promise<void> {
    return this.guard('delete') ?? this.inner.delete(key);
  }

  keys(): Promise<string[]> {
    return this.guard('keys') ?? this.inner.keys();
  }
}

function expectStoreError(error: unknown, cause: unknown): void {
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('E_STORE');
  expect((error as StoreError).cause).toBe(cause);
}

describe.each([false, true])('agent cache store errors (synchronous throw: %s)', (sync) => {
  let e: Engine;
  let store: FailingStore;
  beforeEach(async () => {
    e = await Engine.create();
    store = new FailingStore();
    store.sync = sync;
    // Every method fails: the cache must not call one whose failure it would pass on untyped.
    store.failing = new Set(['read', 'write', 'delete', 'keys']);
  });
  afterEach(() => e.dispose());

  test('get and use: a failed read is StoreError; the cache is usable once the store is back', async () => {
    const cache = e.createAgentCache({ store, maxAgents: 4, qtable: QT });
    expectStoreError(await rejection(cache.get('a')), store.error);
    expectStoreError(await rejection(cache.use('a', () => 1)), store.error);
    expect(cache.has('a')).toBe(false);
    expect(cache.stats.leases).toBe(0);
    store.failing.clear();
    expect(
      await cache.use('a', (agent) => {
        agent.q.update(0, 0, 1, 1);
        return agent.q.get(0, 0);
      }),
    ).toBeGreaterThan(0);
    await cache.close();
  });

  test('flush, evict, close, and an eviction a get starts: a failed write is StoreError, the agent kept', async () => {
    store.failing = new Set(['write', 'delete', 'keys']);
    const cache = e.createAgentCache({ store, maxAgents: 2, qtable: QT });
    const values: number[] = [];
    for (const id of ['a', 'b']) {
      values.push(
        await cache.use(id, (agent) => {
          agent.q.update(1, 1, id === 'a' ? 2 : 3, 0);
          return agent.q.get(1, 1);
        }),
      );
    }
    expectStoreError(await rejection(cache.flush()), store.error);
    expectStoreError(await rejection(cache.evict(1)), store.error);
    expect(cache.has('a') && cache.has('b')).toBe(true);
    // A third agent passes maxAgents: the get evicts, the write fails, the get throws.
    expectStoreError(await rejection(cache.get('c')), store.error);
    expect(cache.stats.leases).toBe(0);
    expectStoreError(await rejection(cache.close()), store.error);
    // The store recovers: close() again writes what it kept, and a new cache reads it back.
    store.failing.clear();
    await cache.close();
    const again = e.createAgentCache({ store, qtable: QT });
    for (const [i, id] of ['a', 'b'].entries())
      expect(await again.use(id, (agent) => agent.q.get(1, 1))).toBe(values[i]);
    await again.close();
  });

  test("a store's own StoreError (StoreQuotaError) passes through as it is", async () => {
    store.error = new StoreQuotaError('quota', new Error('full'));
    store.failing = new Set(['write']);
    const cache = e.createAgentCache({ store, qtable: QT });
    await cache.use('a', (agent) => agent.q.update(0, 0, 1, 0));
    expect(await rejection(cache.flush())).toBe(store.error);
    store.failing.clear();
    await cache.close();
  });
});
