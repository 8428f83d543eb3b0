/** Eviction follows the cache's own limits (maxAgents, maxBytes); other components' memory does not make it thrash. */
import { Engine, MemoryStore } from '../../src/index';
import { QTABLE, work } from '../helpers/agents';
import { rng } from '../helpers/random';

/** A new index reserved (in one step) until the engine's usage reaches about `share` of its budget. */
function indexHolding(engine: Engine, share: number): void {
  const probe = engine.createIndex({ dim: 64, metric: 'l2' });
  const before = engine.usedBytes;
  probe.reserve(1024);
  const perSlot = (engine.usedBytes - before) / 1024;
  probe.dispose();
  const index = engine.createIndex({ dim: 64, metric: 'l2' });
  index.reserve(Math.ceil((share * engine.budgetBytes - engine.usedBytes) / perSlot));
}

test('an index holding 84% of the budget: the cache keeps its agents (no thrash)', async () => {
  const engine = await Engine.create({ budgetBytes: 16 << 20 });
  indexHolding(engine, 0.84);
  const agents = engine.createAgentCache({ maxAgents: 20, qtable: QTABLE, trajectoryCapacity: 50 });
  const next = rng(5);
  for (let i = 0; i < 400; i++) await agents.use(`p${Math.floor(next() * 20)}`, (a) => work(a, next));
  expect(agents.stats.hitRate).toBeGreaterThan(0.9);
  expect(agents.stats.evictions).toBe(0);
  expect(agents.size).toBe(20);
  engine.dispose();
});

test('other components growing past evictAt shrink the cache by a batch; staying there does not shrink it further', async () => {
  const engine = await Engine.create({ budgetBytes: 16 << 20 });
  indexHolding(engine, 0.5);
  const agents = engine.createAgentCache({ maxAgents: 20, qtable: QTABLE, trajectoryCapacity: 50 });
  const next = rng(6);
  for (let i = 0; i < 20; i++) await agents.use(`g${i}`, (a) => work(a, next));
  expect(agents.size).toBe(20);
  indexHolding(engine, 0.9); // another index takes the engine past evictAt (0.8)
  await agents.use('newcomer', (a) => work(a, next));
  const shrunk = agents.size;
  expect(shrunk).toBeLessThan(20);
  const evictions = agents.stats.evictions;
  for (let i = 0; i < 200; i++)
    await agents.use(agents.resident[Math.floor(next() * agents.size)], (a) => work(a, next));
  for (let i = 0; i < 3; i++) await agents.use(`late${i}`, (a) => work(a, next));
  expect(agents.stats.evictions).toBe(evictions); // no new high of the index: no more pressure evictions
  expect(agents.size).toBe(shrunk + 3);
  engine.dispose();
});

test("maxBytes caps the cache's own bytes, which stats.residentBytes reports", async () => {
  const engine = await Engine.create({ budgetBytes: 64 << 20 });
  const store = new MemoryStore();
  const probe = engine.createAgentCache({ qtable: QTABLE, trajectoryCapacity: 200 });
  await probe.use('probe', () => undefined);
  const one = probe.stats.residentBytes;
  expect(one).toBeGreaterThan(200 * 16);
  await probe.close();
  const agents = engine.createAgentCache({
    store,
    maxAgents: 1000,
    maxBytes: 8 * one,
    qtable: QTABLE,
    trajectoryCapacity: 200,
  });
  const next = rng(8);
  for (let i = 0; i < 300; i++) {
    await agents.use(`b${Math.floor(next() * 40)}`, (a) => work(a, next));
    expect(agents.stats.residentBytes).toBeLessThanOrEqual(8 * one * 1.2); // learning grows a resident agent a little
  }
  expect(agents.size).toBeLessThanOrEqual(8);
  expect(agents.size).toBeGreaterThanOrEqual(6);
  expect(agents.stats.evictions).toBeGreaterThan(100);
  expect(() => engine.createAgentCache({ maxBytes: 0, qtable: QTABLE })).toThrow(/maxBytes/);
  engine.dispose();
});
