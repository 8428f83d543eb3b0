/**
 * A lease's receipt, `agent.outcome`: 'leased' while held, 'unsaved' once released, 'saved' once
 * a flush, an eviction or close wrote a state holding its changes, 'dropped' when a versioned
 * store refused the copy holding them (another cache wrote the agent first). It answers for the
 * task that made the lease, whichever flush found the conflict: with several tasks flushing one
 * cache, a task whose flush resolved after another task's flush was told of the conflict still
 * learns its update was dropped. A storm of tasks in two caches over one versioned store that
 * delays and fails writes, acknowledging ops by their leases' outcomes: every acknowledged op is
 * in its agent exactly once (several seeds).
 */
import { ConflictError, Engine, MemoryStore, type Agent, type AgentCache, type ByteStore } from '../../src/index';
import type { StoreVersion } from '../../src/stores/byte-store';
import { rng } from '../helpers/random';

const opts = (store: ByteStore) => ({ store, qtable: { actions: 2 }, trajectoryCapacity: 4096 });

/** Runs fn on a lease of `id` and returns the lease (released). */
async function leaseOf(cache: AgentCache, id: string, fn: (agent: Agent) => void = () => undefined): Promise<Agent> {
  let lease!: Agent;
  await cache.use(id, (agent) => {
    lease = agent;
    fn(agent);
  });
  return lease;
}

test('a lease is leased, unsaved, then saved by a flush, an eviction or close', async () => {
  const e = await Engine.create();
  const store = new MemoryStore();
  const cache = e.createAgentCache(opts(store));
  const held = await cache.get('a');
  expect(held.outcome).toBe('leased');
  held.trajectory.push(1, 0, 0, 0);
  await cache.flush(); // a held lease's changes may go on: it stays leased
  expect(held.outcome).toBe('leased');
  held.release();
  expect(held.outcome).toBe('unsaved');
  await cache.flush();
  expect(held.outcome).toBe('saved');
  const later = await leaseOf(cache, 'a', (agent) => agent.trajectory.push(2, 0, 0, 0));
  expect([held.outcome, later.outcome]).toEqual(['saved', 'unsaved']);
  expect(await cache.evict(1)).toBe(1);
  expect(later.outcome).toBe('saved');
  const open = await cache.get('b');
  open.trajectory.push(3, 0, 0, 0);
  await cache.close();
  expect(open.outcome).toBe('saved');
  e.dispose();
});

test('two tasks flushing one cache: both leases on a dropped copy are dropped, whichever flush was told', async () => {
  const [e1, e2] = await Promise.all([Engine.create(), Engine.create()]);
  const store = new MemoryStore();
  const mine = e1.createAgentCache(opts(store));
  const theirs = e2.createAgentCache(opts(store));
  await leaseOf(mine, 'x');
  await mine.flush();
  await leaseOf(theirs, 'x', (agent) => agent.trajectory.push(100, 0, 0, 0));
  await theirs.flush(); // the other process writes x first
  const task1 = await leaseOf(mine, 'x', (agent) => agent.trajectory.push(1, 0, 0, 0));
  const task2 = await leaseOf(mine, 'x', (agent) => agent.trajectory.push(2, 0, 0, 0));
  const flushes = await Promise.allSettled([mine.flush(), mine.flush()]);
  // One flush is told of the conflict, the other resolves: only the receipts tell task 2.
  expect(flushes.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  expect((flushes.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
  expect([task1.outcome, task2.outcome]).toEqual(['dropped', 'dropped']);
  // Done again on a fresh lease, then saved.
  const again = await leaseOf(mine, 'x', (agent) => agent.trajectory.push(1, 0, 0, 0));
  await mine.flush();
  expect(again.outcome).toBe('saved');
  expect(task1.outcome).toBe('dropped');
  await Promise.all([mine.close(), theirs.close()]);
  e1.dispose();
  e2.dispose();
});

test('close whose snapshot is refused: the lease it ended is dropped', async () => {
  const [e1, e2] = await Promise.all([Engine.create(), Engine.create()]);
  const store = new MemoryStore();
  const mine = e1.createAgentCache(opts(store));
  const theirs = e2.createAgentCache(opts(store));
  const held = await mine.get('y');
  held.trajectory.push(1, 0, 0, 0);
  await leaseOf(theirs, 'y', (agent) => agent.trajectory.push(2, 0, 0, 0));
  await theirs.flush();
  await expect(mine.close()).rejects.toBeInstanceOf(ConflictError);
  expect(held.outcome).toBe('dropped');
  await theirs.close();
  e1.dispose();
  e2.dispose();
});

/** A versioned store over `inner` whose calls wait 0-2 ms and whose writes fail at times (before landing). */
function flaky(inner: MemoryStore, next: () => number): ByteStore & { calm: boolean } {
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.floor(next() * 3)));
  const store = {
    calm: false,
    fail(): void {
      if (!store.calm && next() < 0.08) throw new Error('write failed');
    },
    async read(key: string) {
      await pause();
      return inner.read(key);
    },
    async write(key: string, bytes: Uint8Array) {
      await pause();
      store.fail();
      return inner.write(key, bytes);
    },
    async readVersioned(key: string) {
      await pause();
      return inner.readVersioned(key);
    },
    async writeIfVersion(key: string, bytes: Uint8Array, expected: StoreVersion | null) {
      await pause();
      store.fail();
      return inner.writeIfVersion(key, bytes, expected);
    },
    delete: (key: string) => inner.delete(key),
    keys: () => inner.keys(),
  };
  return store;
}

describe('a storm of tasks in two caches over one versioned store, acknowledging by receipts', () => {
  const CACHES = 2;
  const TASKS = 3;
  const OPS = 25;
  const AGENTS = 4;

  test.each([1, 2, 3])('seed %i: every acknowledged op in its agent exactly once', async (seed) => {
    const inner = new MemoryStore();
    const engines = await Promise.all(Array.from({ length: CACHES }, () => Engine.create()));
    const stores = engines.map((_, c) => flaky(inner, rng(seed * 10 + c)));
    const caches = engines.map((e, c) => e.createAgentCache({ ...opts(stores[c]), maxAgents: 3 }));
    const acked = new Map<number, string>();
    let dropped = 0;
    const task = async (c: number, t: number) => {
      const next = rng(seed * 1000 + c * 10 + t);
      const cache = caches[c];
      for (let n = 0; n < OPS; n++) {
        const op = (c * TASKS + t) * 1000 + n;
        const id = `agent-${Math.floor(next() * AGENTS)}`;
        for (;;) {
          let lease: Agent;
          try {
            lease = await leaseOf(cache, id, (agent) => agent.trajectory.push(op, 0, 0, 0));
          } catch (error) {
            expect((error as Error).message).toMatch(/write failed/); // an eviction's write failed: nothing applied
            continue;
          }
          for (let turns = Math.floor(next() * 3); turns > 0; turns--) await new Promise((r) => setImmediate(r));
          while (lease.outcome === 'unsaved') {
            await cache.flush().catch((error: unknown) => {
              if (!(error instanceof ConflictError) && !/write failed/.test(String(error))) throw error;
            });
          }
          if (lease.outcome === 'saved') break;
          if (lease.outcome === 'unknown') {
            // A write the store could not settle (it threw, then the other cache wrote): look
            // at the reloaded agent before doing the op again, as docs/agent-cache.md says.
            let stored: boolean | undefined;
            while (stored === undefined) {
              stored = await cache
                .use(id, (agent) => Array.from(agent.trajectory.toBatch().states).includes(op))
                .catch((error: unknown) => {
                  expect(String(error)).toMatch(/write failed/); // an eviction's write failed: look again
                  return undefined;
                });
            }
            if (stored) break;
          } else {
            expect(lease.outcome).toBe('dropped');
          }
          dropped++;
        }
        acked.set(op, id);
      }
    };
    await Promise.all(caches.flatMap((_, c) => Array.from({ length: TASKS }, (_, t) => task(c, t))));
    for (const s of stores) s.calm = true;
    for (const cache of caches) await cache.close().catch(() => undefined);
    for (const e of engines) e.dispose();
    expect(acked.size).toBe(CACHES * TASKS * OPS);
    expect(dropped).toBeGreaterThan(0);
    // Every acknowledged op once in its agent; no op anywhere twice.
    const reader = await Engine.create();
    const cache = reader.createAgentCache(opts(inner));
    const where = new Map<number, string[]>();
    for (const id of (await inner.keys()).sort()) {
      const ops = await cache.use(id, (agent) => Array.from(agent.trajectory.toBatch().states));
      for (const op of ops) where.set(op, [...(where.get(op) ?? []), id]);
    }
    expect([...acked].filter(([op, id]) => where.get(op)?.join() !== id)).toEqual([]);
    reader.dispose();
  });
});
