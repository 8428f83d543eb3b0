/** Eviction follows the cache's own limits (maxAgents, maxBytes); other components' memory does not make it thrash. */
import { type Agent, type ByteStore, Engine, MemoryStore, StoreError } from '../../src/index';
import { QTABLE, agentState, work } from '../helpers/agents';
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

test("an index's scan codes taking the engine past evictAt are freed before any agent is evicted", async () => {
  const engine = await Engine.create({ budgetBytes: 16 << 20 });
  // An f32 index of about 68% of the budget, in rows.
  const dim = 64;
  const index = engine.createIndex({ dim, metric: 'cosine', M: 8, efConstruction: 16, seed: 2 });
  const next = rng(8);
  const rows: number[] = [];
  while (engine.usedBytes < 0.68 * engine.budgetBytes) {
    const batch = Float32Array.from({ length: 200 * dim }, () => next() * 2 - 1);
    index.addBatch(
      Uint32Array.from({ length: 200 }, (_, i) => rows.length * 200 + i),
      batch,
    );
    rows.push(rows.length);
  }
  const agents = engine.createAgentCache({ maxAgents: 30, qtable: QTABLE, trajectoryCapacity: 50 });
  for (let i = 0; i < 20; i++) await agents.use(`g${i}`, (a) => work(a, next));
  const before = engine.usedBytes;
  // A filtered exact search over every row makes the index's scan codes: past evictAt (0.8).
  const all = Uint32Array.from({ length: rows.length * 200 }, (_, i) => i);
  index.search(
    Float32Array.from({ length: dim }, () => next()),
    10,
    { filter: all, plan: 'exact' },
  );
  expect(engine.usedBytes).toBeGreaterThan(0.8 * engine.budgetBytes);
  await agents.use('newcomer', (a) => work(a, next));
  expect(agents.stats.evictions).toBe(0);
  expect(agents.size).toBe(21);
  expect(engine.usedBytes).toBeLessThan(before + 0.02 * engine.budgetBytes); // the codes went
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

/** The user's store: a Map whose writes fail while `fails(key)` says so. */
class FlakyStore implements ByteStore {
  readonly inner = new Map<string, Uint8Array>();
  fails: (key: string) => boolean = () => false;
  async read(key: string) {
    return this.inner.get(key);
  }
  async write(key: string, bytes: Uint8Array) {
    if (this.fails(key)) throw new Error('disk gone');
    this.inner.set(key, bytes.slice());
  }
  async delete(key: string) {
    this.inner.delete(key);
  }
  async keys() {
    return Array.from(this.inner.keys());
  }
}

const IDS = Array.from({ length: 10 }, (_, i) => `a${i}`);

/** Ten agents worked (their states recorded), then an index takes the engine to 90%. */
async function pressed() {
  const engine = await Engine.create({ budgetBytes: 16 << 20 });
  const store = new FlakyStore();
  const agents = engine.createAgentCache({ store, maxAgents: 100, qtable: QTABLE, trajectoryCapacity: 50 });
  const states = new Map<string, string>();
  for (const [i, id] of IDS.entries()) {
    const next = rng(100 + i);
    await agents.use(id, (a) => {
      for (let k = 0; k < 5; k++) work(a, next);
      states.set(id, agentState(a));
    });
  }
  indexHolding(engine, 0.9); // past evictAt (0.8): the next miss evicts a batch
  return { engine, store, agents, states };
}

/** What a get gave: 'ok', or its error. */
function outcome(get: Promise<Agent>): Promise<unknown> {
  return get.then(
    (agent) => {
      agent.release();
      return 'ok';
    },
    (error) => error,
  );
}

test('a pressure batch a store error stopped is evicted by the next miss, as it would have been without the error', async () => {
  const runs = [];
  for (const failOnce of [false, true]) {
    const { engine, store, agents, states } = await pressed();
    if (failOnce) store.fails = () => true;
    const first = await outcome(agents.get('newcomer'));
    store.fails = () => false;
    const evictedByFirst = agents.stats.evictions;
    await agents.use('next', () => undefined);
    const run = {
      first,
      evictedByFirst,
      evictions: agents.stats.evictions,
      evicted: IDS.filter((id) => !agents.has(id)),
      usage: engine.usedBytes / engine.budgetBytes,
    };
    // The rise was evicted for: later misses evict no more.
    await agents.use('later', () => undefined);
    expect(agents.stats.evictions).toBe(run.evictions);
    // Every agent reads back as it was worked: evicted ones from the store, the others resident.
    for (const id of IDS) await agents.use(id, (a) => expect([id, agentState(a)]).toEqual([id, states.get(id)]));
    expect(agents.has('newcomer')).toBe(!failOnce);
    runs.push(run);
    engine.dispose();
  }
  const [control, failed] = runs;
  expect(control.first).toBe('ok');
  expect(control.evictedByFirst).toBeGreaterThan(0);
  expect(failed.first).toBeInstanceOf(StoreError);
  expect(failed.evictedByFirst).toBe(0);
  // The next miss: the same batch (least recently used first), with the engine still past evictAt.
  expect(failed.evictions).toBe(control.evictions);
  expect(failed.evicted).toEqual(control.evicted);
  expect(failed.evicted).toEqual(IDS.slice(0, control.evictions));
  expect(control.usage).toBeGreaterThan(0.8);
  expect(failed.usage).toBeGreaterThan(0.8);
});

test("one victim's write failing: the others of the batch are written and evicted, the next miss evicts it", async () => {
  const { engine, store, agents, states } = await pressed();
  store.fails = (key) => key === 'a0';
  await expect(agents.get('newcomer')).rejects.toThrow(StoreError);
  store.fails = () => false;
  const written = agents.stats.evictions;
  expect(written).toBeGreaterThan(0);
  expect(agents.has('a0')).toBe(true); // its write failed: kept, still changed
  for (const id of IDS.slice(1, 1 + written)) {
    expect(agents.has(id)).toBe(false);
    expect(store.inner.has(id)).toBe(true);
  }
  expect(store.inner.has('a0')).toBe(false);
  await agents.use('next', () => undefined);
  expect(agents.has('a0')).toBe(false);
  expect(store.inner.has('a0')).toBe(true);
  expect(agents.stats.evictions).toBeGreaterThan(written);
  for (const id of IDS) await agents.use(id, (a) => expect([id, agentState(a)]).toEqual([id, states.get(id)]));
  engine.dispose();
});
