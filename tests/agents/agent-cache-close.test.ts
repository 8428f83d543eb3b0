/** Closing an agent cache: leases go inert, nothing in flight is lost, later gets are refused. */
import { DisposedError, Engine, MemoryStore, type Agent, type AgentStore } from '../../src/index';
import { QTABLE } from '../helpers/agents';
import { ScriptedStore, sleep } from '../helpers/stores';

/** Visits of (0, 0) of every agent in `store`, read back through a fresh engine and cache. */
async function storedVisits(store: AgentStore, ids: Iterable<string>): Promise<Map<string, number>> {
  const engine = await Engine.create({ budgetBytes: 64 << 20 });
  const cache = engine.createAgentCache({ store, maxAgents: 1000, qtable: QTABLE });
  const out = new Map<string, number>();
  for (const id of ids) out.set(id, await cache.use(id, (a) => a.q.visits(0, 0)));
  engine.dispose();
  return out;
}

test('a lease released after close() touches no engine memory (an index created afterwards keeps exact vectors)', async () => {
  const engine = await Engine.create({ budgetBytes: 16 << 20 });
  const agents = engine.createAgentCache({ maxAgents: 200, qtable: QTABLE, trajectoryCapacity: 8 });
  const held: Agent[] = [];
  for (let i = 0; i < 171; i++) held.push(await agents.get(`p${i}`));
  await agents.close();
  const index = engine.createIndex({ dim: 4, metric: 'l2' });
  index.addBatch([1, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
  // Releases that wrote their slots' pin words after close() would overwrite the engine's static data (the staging pointers).
  for (const lease of held) lease.release();
  index.addBatch([3], new Float32Array([1, 1, 1, 1]));
  expect(Array.from(index.get(3)!)).toEqual([1, 1, 1, 1]);
  expect(Array.from(index.get(1)!)).toEqual([1, 2, 3, 4]);
  const q = engine.createQTable({ actions: 2 });
  q.update(1, 0, 1, 2, true);
  expect(engine.loadQTable(q.serialize()).get(1, 0)).toBeCloseTo(0.1, 6);
  // Every lease is inert: release does nothing, q and trajectory throw DisposedError.
  expect(held[85].released).toBe(true);
  expect(() => held[85].q).toThrow(DisposedError);
  expect(() => held[85].trajectory).toThrow(DisposedError);
  engine.dispose();
});

test('close() inside use(): the lease use() releases afterwards is inert, the update before close is stored', async () => {
  const store = new MemoryStore();
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ store, qtable: QTABLE });
  await agents.use('a', async (agent) => {
    agent.q.update(0, 0, 1, 0, true);
    await agents.close();
    expect(() => agent.q).toThrow(DisposedError);
  });
  const index = engine.createIndex({ dim: 4, metric: 'l2' });
  index.add(7, [4, 3, 2, 1]);
  expect(Array.from(index.get(7)!)).toEqual([4, 3, 2, 1]);
  expect(await storedVisits(store, ['a'])).toEqual(new Map([['a', 1]]));
  engine.dispose();
});

test('a get once close() was called is refused with DisposedError; what was resident is written before close resolves', async () => {
  const store = new ScriptedStore({ writeDelay: () => 30 });
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ store, qtable: QTABLE });
  await agents.use('a', (agent) => agent.q.update(0, 0, 1, 0, true));
  const closing = agents.close();
  await expect(agents.get('b')).rejects.toThrow(DisposedError);
  await expect(agents.flush()).rejects.toThrow(DisposedError);
  await closing;
  expect(await store.keys()).toEqual(['a']);
  expect(await storedVisits(store, ['a'])).toEqual(new Map([['a', 1]]));
  await agents.close(); // a second close does nothing
  engine.dispose();
});

test('300 concurrent use() with close() 0-3 ms in: every update a task completed is in the store', async () => {
  for (let round = 0; round < 4; round++) {
    const store = new ScriptedStore({ writeDelay: () => Math.random() * 4, readDelay: () => Math.random() * 2 });
    const engine = await Engine.create();
    const agents = engine.createAgentCache({ store, maxAgents: 40, qtable: QTABLE, trajectoryCapacity: 8 });
    const done = new Map<string, number>();
    const tasks = Array.from({ length: 300 }, async (_, i) => {
      const id = `c${i % 120}`;
      if (i % 2 === 1) await sleep(Math.random() * 3);
      await agents
        .use(id, async (agent) => {
          await sleep(Math.random() * 2);
          agent.q.update(0, 0, 1, 0, true);
          done.set(id, (done.get(id) ?? 0) + 1);
        })
        .catch((error) => expect(error).toBeInstanceOf(DisposedError));
    });
    await sleep(round);
    await agents.close();
    await Promise.all(tasks);
    expect(done.size).toBeGreaterThan(0);
    const stored = await storedVisits(store, done.keys());
    for (const [id, count] of done) expect([id, stored.get(id)]).toEqual([id, count]);
    engine.dispose();
  }
});

test('an engine disposed before close(): leases go inert, close() says why, nothing throws from release', async () => {
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ qtable: QTABLE });
  const lease = await agents.get('d');
  lease.q.update(0, 0, 1, 0, true);
  engine.dispose();
  expect(() => lease.release()).not.toThrow();
  await expect(agents.close()).rejects.toThrow(DisposedError);
  expect(lease.released).toBe(true);
  expect(agents.size).toBe(0);
  await expect(agents.get('d')).rejects.toThrow(DisposedError);
});
