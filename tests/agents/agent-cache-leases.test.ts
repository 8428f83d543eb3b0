/** Leases: one per get, released once, counted in stats; concurrent misses stay within maxAgents. */
import { BudgetExceededError, DisposedError, Engine, MemoryStore, type Agent } from '../../src/index';
import { QTABLE } from '../helpers/agents';
import { ScriptedStore } from '../helpers/stores';

test('200 concurrent misses with maxAgents 10: never more than 10 resident, every get counted', async () => {
  const store = new ScriptedStore({ readDelay: () => Math.random() * 3, writeDelay: () => Math.random() * 3 });
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ store, maxAgents: 10, qtable: QTABLE, trajectoryCapacity: 8 });
  let most = 0;
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      agents.use(`m${i}`, (agent) => {
        most = Math.max(most, agents.size);
        agent.q.update(0, 0, 1, 0, true);
      }),
    ),
  );
  expect(most).toBeLessThanOrEqual(10);
  expect(agents.size).toBeLessThanOrEqual(10);
  expect(agents.stats.misses).toBe(200);
  expect(agents.stats.evictions).toBeGreaterThanOrEqual(190);
  expect(agents.stats.pinned).toBe(0);
  engine.dispose();
});

test('100 concurrent gets of one id: one load, 100 counted (99 hits that joined it), 100 leases', async () => {
  const store = new ScriptedStore({ readDelay: () => 5 });
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ store, qtable: QTABLE });
  const leases = await Promise.all(Array.from({ length: 100 }, () => agents.get('same')));
  expect(new Set(leases).size).toBe(100);
  expect(agents.stats).toMatchObject({ misses: 1, hits: 99, pinned: 1, leases: 100, hitRate: 0.99 });
  for (const lease of leases) lease.release();
  expect(agents.stats).toMatchObject({ pinned: 0, leases: 0 });
  engine.dispose();
});

test('each get is its own lease: a double release ends only that lease, and a released lease refuses q and trajectory', async () => {
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ qtable: QTABLE });
  const first = await agents.get('x');
  const second = await agents.get('x');
  expect(first).not.toBe(second);
  first.release();
  first.release(); // a no-op: second still holds x
  expect(first.released).toBe(true);
  expect(() => first.q).toThrow(DisposedError);
  expect(() => first.trajectory).toThrow(DisposedError);
  expect(agents.stats).toMatchObject({ pinned: 1, leases: 1 });
  expect(await agents.evict(100)).toBe(0);
  second.q.update(0, 0, 1, 0, true); // still resident and usable
  expect(second.q.visits(0, 0)).toBe(1);
  second.release();
  expect(agents.stats).toMatchObject({ pinned: 0, leases: 0 });
  expect(await agents.evict(100)).toBe(1);
  expect(await agents.use('x', (a) => a.q.visits(0, 0))).toBe(1);
  engine.dispose();
});

test('a budget error while every resident agent is pinned says so', async () => {
  const engine = await Engine.create({ budgetBytes: 2 << 20 });
  const agents = engine.createAgentCache({
    maxAgents: 1000,
    evictAt: 1,
    qtable: { actions: 16 },
    trajectoryCapacity: 2000,
  });
  const held: Agent[] = [];
  let failure: unknown;
  for (let i = 0; i < 200 && failure === undefined; i++) {
    await agents.get(`big-${i}`).then(
      (lease) => held.push(lease),
      (error) => {
        failure = error;
      },
    );
  }
  expect(failure).toBeInstanceOf(BudgetExceededError);
  expect((failure as Error).message).toMatch(
    new RegExp(`every resident agent is pinned \\(${held.length} agents, ${held.length} leases\\)`),
  );
  expect((failure as Error).message).not.toMatch(/createTrajectoryBuffer|loadQTable|createQTable/);
  for (const lease of held) lease.release();
  (await agents.get('big-again')).release(); // released: evictable again
  engine.dispose();
});

test('a get whose agent can never fit gives back every byte it took (the slot array grown for it stayed)', async () => {
  const engine = await Engine.create({ budgetBytes: 1 << 20 });
  // A 16 MiB replay ring: no agent fits a 1 MiB engine.
  const agents = engine.createAgentCache({ maxAgents: 10, qtable: QTABLE, trajectoryCapacity: 1 << 20 });
  const before = [engine.usedBytes, engine.reservedBytes];
  for (const id of ['a', 'b', 'a']) {
    await expect(agents.get(id)).rejects.toThrow(BudgetExceededError);
    expect([engine.usedBytes, engine.reservedBytes]).toEqual(before);
  }
  expect(agents.stats).toMatchObject({ pinned: 0, leases: 0, residentBytes: 0 });
  engine.dispose();
});

test('a get of a stored agent that does not fit gives back every byte (the load staged its snapshot)', async () => {
  const BUDGET = 2 << 20;
  let refused = 0;
  // Headroom swept across the stored agent's size: some gets fit, the rest must change nothing.
  for (let gap = 60_000; gap < 100_000; gap += 1733) {
    const engine = await Engine.create({ budgetBytes: BUDGET });
    const store = new MemoryStore();
    const options = { store, maxAgents: 10, qtable: { actions: 8 }, trajectoryCapacity: 2000 };
    const first = engine.createAgentCache(options);
    await first.use('stored', (a) => {
      for (let s = 0; s < 500; s++) a.q.update(s, 1, 1, s + 1);
      for (let i = 0; i < 2000; i++) a.trajectory.push(i, 0, 0, 0);
    });
    await first.close();
    const agents = engine.createAgentCache(options);
    const pinned = [];
    for (let i = 0; i < 3; i++) pinned.push(await agents.get(`p${i}`)); // nothing to evict
    try {
      for (;;) {
        const room = BUDGET - engine.reservedBytes;
        if (room <= gap + 64) break;
        engine.createTrajectoryBuffer({ capacity: Math.max(1, Math.floor(Math.min(room - gap, 100_000) / 40)) });
      }
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
    }
    const before = [engine.usedBytes, engine.reservedBytes];
    try {
      (await agents.get('stored')).release();
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      refused++;
      expect([engine.usedBytes, engine.reservedBytes]).toEqual(before);
    }
    engine.dispose();
  }
  expect(refused).toBeGreaterThan(3);
});
