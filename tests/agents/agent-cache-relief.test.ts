/**
 * A leased agent's call that runs out of budget frees the least recently used unpinned agents at
 * once (their snapshots written in the background, kept until durable) and is tried again:
 *   - the call succeeds, and every agent reads back exactly, from the cache and from a fresh
 *     engine over the store (checked against plain-JS Q-learners);
 *   - a failing store keeps the snapshots: a get reads them back, flush reports the error and
 *     writes them again, close too; the leases' receipts follow;
 *   - over a versioned store, a snapshot another writer overtook is refused and reported;
 *   - a storm of tasks growing their agents in a tight budget over a store that delays,
 *     reorders and fails writes, several seeds: nothing acknowledged is lost.
 */
import {
  BudgetExceededError,
  ConflictError,
  DisposedError,
  Engine,
  MemoryStore,
  type AgentCache,
  type AgentStore,
} from '../../src/index';
import { ReferenceQLearner } from '../helpers/qlearner';
import { rng } from '../helpers/random';
import { HookedStore } from '../helpers/hooked-store';
import { ScriptedStore, sleep } from '../helpers/stores';

const QT = { actions: 16, alpha: 0.5, gamma: 0.9, epsilon: 0.2, seed: 5 };
const OPTIONS = { maxAgents: 1000, qtable: QT, trajectoryCapacity: 8 };
const BUDGET = 2 << 20;

/** A plain-JS twin per agent id. */
class Twins {
  readonly of = new Map<string, ReferenceQLearner>();
  get(id: string): ReferenceQLearner {
    let twin = this.of.get(id);
    if (twin === undefined) {
      twin = new ReferenceQLearner(QT);
      this.of.set(id, twin);
    }
    return twin;
  }

  /** Checks every agent of `cache` against its twin (Q values and visits of every state the twin has). */
  async check(cache: AgentCache): Promise<void> {
    for (const [id, twin] of this.of) {
      const read = (q: { values(s: number): Float32Array; visits(s: number, a: number): number }) =>
        Array.from(twin.rows.keys(), (s) => [
          ...q.values(s),
          ...Array.from({ length: QT.actions }, (_, a) => q.visits(s, a)),
        ]);
      await cache.use(id, (agent) => {
        expect([id, agent.q.size]).toEqual([id, twin.rows.size]);
        expect(read(agent.q)).toEqual(read(twin));
      });
    }
  }
}

/** `rows` new states on agent `id` (states from `from`), through a lease, mirrored on its twin. */
async function learn(cache: AgentCache, twins: Twins, id: string, from: number, rows: number): Promise<void> {
  await cache.use(id, (agent) => {
    for (let s = from; s < from + rows; s++) {
      agent.q.update(s, s % 16, 1 + s / 1000, s + 1);
      twins.get(id).update(s, s % 16, 1 + s / 1000, s + 1);
    }
  });
}

test('a leased update out of budget frees the least recently used unpinned agents and succeeds; all read back exactly', async () => {
  const store = new MemoryStore();
  const engine = await Engine.create({ budgetBytes: BUDGET });
  const cache = engine.createAgentCache({ store, ...OPTIONS });
  const twins = new Twins();
  const ids = Array.from({ length: 14 }, (_, i) => `a${i}`);
  for (const id of ids) await learn(cache, twins, id, 0, 600);

  // a0 grows far past what the budget leaves beside the others, inside one lease.
  const lease = await cache.get('a0');
  const twin = twins.get('a0');
  for (let s = 1000; s < 4000; s++) {
    lease.q.update(s, s % 16, 0.5, s - 1);
    twin.update(s, s % 16, 0.5, s - 1);
  }
  expect(lease.q.size).toBe(3600);
  expect(engine.reservedBytes).toBeLessThanOrEqual(BUDGET);
  const { evictions } = cache.stats;
  expect(evictions).toBeGreaterThan(0);
  // Least recently used first: a1 .. a(evictions) are out, the rest resident.
  expect(cache.resident.sort()).toEqual(['a0', ...ids.slice(1 + evictions)].sort());
  lease.release();

  await twins.check(cache); // read back from their snapshots (or the store) in this engine
  await cache.close();
  const engine2 = await Engine.create({ budgetBytes: 64 << 20 });
  await twins.check(engine2.createAgentCache({ store, ...OPTIONS }));
  engine.dispose();
  engine2.dispose();
});

test('with every other agent leased the call still throws BudgetExceededError, changing nothing', async () => {
  const engine = await Engine.create({ budgetBytes: BUDGET });
  const cache = engine.createAgentCache({ store: new MemoryStore(), ...OPTIONS });
  const twins = new Twins();
  const ids = Array.from({ length: 6 }, (_, i) => `p${i}`);
  for (const id of ids) await learn(cache, twins, id, 0, 100);
  const leases = await Promise.all(ids.map((id) => cache.get(id)));
  let failed: unknown;
  let s = 1000;
  try {
    for (; s < 100_000; s++) {
      leases[0].q.update(s, s % 16, 0.5, s - 1);
      twins.get('p0').update(s, s % 16, 0.5, s - 1);
    }
  } catch (error) {
    failed = error;
  }
  expect(failed).toBeInstanceOf(BudgetExceededError);
  expect(cache.stats.evictions).toBe(0);
  expect(cache.size).toBe(ids.length);
  for (const lease of leases) lease.release();
  await twins.check(cache);
  await cache.close();
  engine.dispose();
});

test("a merge from a released lease's table that relieve frees throws DisposedError; it never merges nothing", async () => {
  const engine = await Engine.create({ budgetBytes: BUDGET });
  const cache = engine.createAgentCache({ store: new MemoryStore(), ...OPTIONS });
  const twins = new Twins();
  await learn(cache, twins, 'b', 10_000, 3000);
  const fillers = [];
  for (let i = 0; i < 3; i++) {
    await learn(cache, twins, `f${i}`, 0, 1400);
    fillers.push(await cache.get(`f${i}`)); // held: relieve can free only b
  }
  await learn(cache, twins, 'a', 0, 600);
  const a = await cache.get('a');
  const b = await cache.get('b');
  const kept = b.q; // kept past release, which the docs tell not to do
  b.release();
  expect(() => a.q.merge(kept, 0.5)).toThrow(DisposedError); // b was freed to make room, then the merge retried
  expect(cache.has('b')).toBe(false);
  a.release();
  for (const lease of fillers) lease.release();
  await twins.check(cache); // a unchanged by the refused merge; b read back from its snapshot
  await cache.close();
  engine.dispose();
});

/** A store whose writes fail while `failing()`: plain (ScriptedStore), or versioned over a MemoryStore (HookedStore). */
function failingStore(kind: 'plain' | 'versioned', failing: () => boolean): AgentStore {
  if (kind === 'plain') return new ScriptedStore({ failWrite: failing });
  const store = new HookedStore(new MemoryStore());
  store.hooks.writeIfVersion = (key, _bytes, _expected, real) =>
    failing() ? Promise.reject(new Error(`scripted write failure of '${key}'`)) : real();
  return store;
}

test.each(['plain', 'versioned'] as const)(
  'a failing %s store keeps the snapshots: a get reads them back, flush reports and retries, receipts follow',
  async (kind) => {
    let failing = true;
    const store = failingStore(kind, () => failing);
    const engine = await Engine.create({ budgetBytes: BUDGET });
    const cache = engine.createAgentCache({ store, ...OPTIONS });
    const twins = new Twins();
    const ids = Array.from({ length: 14 }, (_, i) => `f${i}`);
    const receipts = [];
    for (const id of ids) {
      const lease = await cache.get(id);
      for (let s = 0; s < 600; s++) {
        lease.q.update(s, s % 16, 1, s + 1);
        twins.get(id).update(s, s % 16, 1, s + 1);
      }
      lease.release();
      receipts.push(lease);
    }
    // f0 grows until it frees others; every write of their snapshots fails.
    await learn(cache, twins, 'f0', 1000, 3000);
    const out = ids.filter((id) => !cache.has(id));
    expect(out.length).toBeGreaterThan(1);
    await sleep(5);
    for (const lease of receipts) expect(lease.outcome).toBe('unsaved');

    // One comes back from its snapshot (freeing others again as it needs room), exactly.
    await learn(cache, twins, out[0], 9000, 10);
    await expect(cache.flush()).rejects.toThrow(/scripted write failure/);
    for (const lease of receipts) expect(lease.outcome).toBe('unsaved');

    failing = false;
    await cache.flush();
    for (const lease of receipts) expect(lease.outcome).toBe('saved');
    await twins.check(cache);
    failing = true;
    const evictions = cache.stats.evictions;
    for (let s = 20_000; cache.stats.evictions === evictions; s += 100) {
      expect(s).toBeLessThan(26_000);
      await learn(cache, twins, ids[ids.length - 1], s, 100); // frees some again (f0 among them), unwritten
    }
    await expect(cache.close()).rejects.toThrow(/scripted write failure/);
    failing = false;
    await cache.close(); // retries what failed
    const engine2 = await Engine.create({ budgetBytes: 64 << 20 });
    await twins.check(engine2.createAgentCache({ store, ...OPTIONS }));
    engine.dispose();
    engine2.dispose();
  },
);

test('over a versioned store, a freed snapshot another writer overtook is refused and reported', async () => {
  const store = new MemoryStore();
  const engine = await Engine.create({ budgetBytes: BUDGET });
  const cache = engine.createAgentCache({ store, ...OPTIONS });
  const twins = new Twins();
  for (const id of ['v0', 'v1']) await learn(cache, twins, id, 0, 600);
  await cache.flush();
  const stale = await cache.get('v1');
  stale.q.update(7, 7, 9, 7);
  stale.release();

  // Another process changes v1 in the store meanwhile.
  const other = await Engine.create({ budgetBytes: 16 << 20 });
  const otherCache = other.createAgentCache({ store, ...OPTIONS });
  await otherCache.use('v1', (agent) => {
    agent.q.update(8, 8, 2, 8);
    twins.get('v1').update(8, 8, 2, 8);
  });
  await otherCache.close();

  // More agents, then v0 grows: it frees the least recently used first, v1, whose snapshot the store refuses.
  for (let i = 2; i < 14; i++) await learn(cache, twins, `v${i}`, 0, 600);
  await learn(cache, twins, 'v0', 1000, 3000);
  expect(cache.has('v1')).toBe(false);
  const flushed = cache.flush();
  await expect(flushed).rejects.toBeInstanceOf(ConflictError);
  await flushed.catch((error: ConflictError) => expect(error.agents).toEqual(['v1']));
  expect(stale.outcome).toBe('dropped');
  // The next get reads the other writer's v1; the twin skipped the dropped update (state 7).
  await twins.check(cache);
  await cache.close();
  engine.dispose();
  other.dispose();
});

test.each(['evict', 'close'] as const)(
  'relief frees agents also while an eviction writes them out, and while close() waits (%s in flight)',
  async (during) => {
    // Relief skipped agents an eviction was writing, and refused once close() was called.
    // Writes wait at a gate until the leased call has run: none lands before it.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const inner = new MemoryStore();
    const store: AgentStore = {
      read: (key) => inner.read(key),
      write: async (key, bytes) => {
        const copy = bytes.slice();
        await gate;
        await inner.write(key, copy);
      },
      delete: (key) => inner.delete(key),
      keys: () => inner.keys(),
    };
    const engine = await Engine.create({ budgetBytes: BUDGET });
    const options = { maxAgents: 1000, qtable: { ...QT, actions: 4 }, trajectoryCapacity: 8 };
    const cache = engine.createAgentCache({ store, ...options });
    for (let i = 0; i < 16; i++)
      await cache.use(`f${i}`, (agent) => {
        for (let s = 0; s < 1500; s++) agent.q.update(s, s % 4, 1, s + 1);
      });
    const driver = await cache.get('driver');
    driver.trajectory.push(1, 1, 1, 1);
    const inFlight = during === 'evict' ? cache.evict(1000) : cache.flush();
    const closed = during === 'close' ? cache.close() : undefined;
    await sleep(1); // the writes have started
    const before = cache.stats.evictions;
    driver.q.update(77, 0, 1, 77);
    expect(driver.trajectory.sample(60_000).states.length).toBe(60_000); // staging 1.1 MB: relief
    expect(cache.stats.evictions).toBeGreaterThan(before);
    driver.release();
    open();
    await inFlight;
    await (closed ?? cache.close());
    const engine2 = await Engine.create({ budgetBytes: 64 << 20 });
    const fresh = engine2.createAgentCache({ store, ...options });
    for (let i = 0; i < 16; i++) expect([i, await fresh.use(`f${i}`, (a) => a.q.size)]).toEqual([i, 1500]);
    expect(await fresh.use('driver', (a) => [a.q.visits(77, 0), a.trajectory.size])).toEqual([1, 1]);
    engine.dispose();
    engine2.dispose();
  },
);

test.each([1, 2, 3])(
  'storm, seed %i: tasks growing their agents in a tight budget over a failing, reordering store lose nothing',
  async (seed) => {
    const next = rng(seed);
    let failing = true;
    const store = new ScriptedStore({
      readDelay: () => next() * 2,
      writeDelay: () => next() * 3,
      failWrite: () => failing && next() < 0.1,
    });
    const engine = await Engine.create({ budgetBytes: BUDGET });
    const cache = engine.createAgentCache({
      store,
      maxAgents: 1000,
      qtable: { ...QT, actions: 4 },
      trajectoryCapacity: 8,
    });
    const committed = new Map<string, number>();
    let relieved = 0;
    const expected = (error: unknown) => {
      if (error instanceof BudgetExceededError || error instanceof DisposedError) return;
      expect(String(error)).toMatch(/scripted write failure/);
    };
    const task = async (t: number) => {
      const pick = rng(seed * 1000 + t);
      for (let op = 0; op < 12; op++) {
        const id = `g${Math.floor(40 * pick() ** 2)}`;
        const r = pick();
        try {
          if (r < 0.8) {
            await cache.use(id, async (agent) => {
              if (pick() < 0.3) await sleep(pick() * 2);
              const n = committed.get(id) ?? 0;
              // One batch, all or nothing: a visit of (0, 0) counts it, and 40 new rows grow the table.
              const states = Uint32Array.from({ length: 41 }, (_, i) => (i === 0 ? 0 : 1 + n * 40 + i));
              const before = cache.stats.evictions;
              agent.q.batchUpdate({
                states,
                actions: new Uint32Array(41),
                rewards: new Float32Array(41).fill(1),
                nextStates: new Uint32Array(41),
                dones: new Uint8Array(41).fill(1),
              });
              if (cache.stats.evictions > before) relieved++;
              committed.set(id, n + 1);
            });
          } else if (r < 0.93) {
            await cache.flush();
          } else {
            await cache.evict(1 + Math.floor(pick() * 3));
          }
        } catch (error) {
          expected(error);
        }
        if (pick() < 0.3) await sleep(pick() * 2);
      }
    };
    await Promise.all(Array.from({ length: 120 }, (_, t) => task(t)));
    for (let attempt = 0; ; attempt++) {
      try {
        await cache.close();
        break;
      } catch (error) {
        expected(error);
        if (attempt > 20) failing = false;
      }
    }
    expect(relieved).toBeGreaterThan(0); // the budget was met inside leases
    const engine2 = await Engine.create({ budgetBytes: 64 << 20 });
    const fresh = engine2.createAgentCache({
      store,
      maxAgents: 1000,
      qtable: { ...QT, actions: 4 },
      trajectoryCapacity: 8,
    });
    for (const [id, count] of committed)
      expect([id, await fresh.use(id, (a) => [a.q.visits(0, 0), a.q.size])]).toEqual([id, [count, 1 + count * 40]]);
    engine.dispose();
    engine2.dispose();
  },
  60_000,
);
