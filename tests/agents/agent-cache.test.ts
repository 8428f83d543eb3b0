/** The agent cache: LRU eviction under maxAgents and the budget, exact reloads, pinning, failures. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BudgetExceededError,
  CorruptSnapshotError,
  DisposedError,
  Engine,
  FileStore,
  InvalidArgumentError,
  MemoryStore,
  type AgentStore,
} from '../../src/index';
import { QTABLE, agentState, runWorkload, work } from '../helpers/agents';
import { BUILDS } from '../helpers/engines';
import { rng } from '../helpers/random';

const AGENTS = 300;
const STEPS = 3000;

/** The same workload on a cache that never evicts: the state every agent must end in. */
async function reference(simd: 'on' | 'off'): Promise<Map<string, string>> {
  const engine = await Engine.create({ simd });
  const cache = engine.createAgentCache({ maxAgents: 1000, qtable: QTABLE, trajectoryCapacity: 20 });
  await runWorkload(cache, AGENTS, STEPS, 1);
  const states = new Map<string, string>();
  for (const id of cache.resident) states.set(id, await cache.use(id, agentState));
  expect(cache.stats.evictions).toBe(0);
  engine.dispose();
  return states;
}

describe.each(BUILDS)('agent cache (simd %s)', (simd) => {
  let expected: Map<string, string>;
  let dir: string;
  beforeAll(async () => {
    expected = await reference(simd);
    expect(expected.size).toBeGreaterThan(200);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'elex-agents-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('hundreds of agents through maxAgents 10: every agent identical after eviction and reload', async () => {
    const engine = await Engine.create({ simd });
    const cache = engine.createAgentCache({
      store: new FileStore(dir),
      maxAgents: 10,
      qtable: QTABLE,
      trajectoryCapacity: 20,
    });
    await runWorkload(cache, AGENTS, STEPS, 1);
    expect(cache.size).toBeLessThanOrEqual(10);
    const stats = cache.stats;
    expect(stats.evictions).toBeGreaterThan(100);
    expect(stats.hits + stats.misses).toBe(STEPS);
    expect(stats.hitRate).toBeCloseTo(stats.hits / STEPS, 10);
    expect(stats.persistedBytes).toBeGreaterThan(0);
    for (const [id, state] of expected) expect(await cache.use(id, agentState)).toBe(state);
    // A new engine reading the same directory gets the same agents back.
    await cache.close();
    engine.dispose();
    const engine2 = await Engine.create({ simd });
    const cache2 = engine2.createAgentCache({
      store: new FileStore(dir),
      maxAgents: 10,
      qtable: QTABLE,
      trajectoryCapacity: 20,
    });
    for (const [id, state] of expected) expect(await cache2.use(id, agentState)).toBe(state);
    expect(cache2.stats.misses).toBe(expected.size);
    engine2.dispose();
  });

  test('evicts least recently used first, in batches of the monitor share, never a pinned agent', async () => {
    const engine = await Engine.create({ simd });
    const store = new MemoryStore();
    const cache = engine.createAgentCache({ store, maxAgents: 10, qtable: QTABLE });
    const pinned = await cache.get('a0');
    for (let i = 1; i < 10; i++) (await cache.get(`a${i}`)).release();
    (await cache.get('a1')).release(); // a1 is now the most recent
    expect(cache.size).toBe(10);
    // Pressure is low: the batch is ceil(0.1 * 10) = 1 agent, the least recent unpinned: a2.
    (await cache.get('a10')).release();
    expect(cache.has('a0')).toBe(true);
    expect(cache.has('a2')).toBe(false);
    expect(cache.has('a1')).toBe(true);
    expect(await store.keys()).toEqual(['a2']);
    expect(cache.stats.evictions).toBe(1);
    // Scripted high pressure: half of the resident agents go at once.
    for (let i = 0; i < 12; i++) engine.monitor.recordLevel(0.97);
    expect(await cache.evict()).toBe(5);
    expect(cache.has('a0')).toBe(true);
    expect(pinned.q.get(0, 0)).toBe(0);
    pinned.release();
    expect(await cache.evict(100)).toBe(5);
    expect(cache.size).toBe(0);
    engine.dispose();
  });

  test('an agent that does not fit the budget evicts others to make room', async () => {
    const engine = await Engine.create({ simd, budgetBytes: 2 << 20 });
    const cache = engine.createAgentCache({
      maxAgents: 1000,
      evictAt: 1,
      qtable: { actions: 16 },
      trajectoryCapacity: 2000,
    });
    for (let i = 0; i < 200; i++) (await cache.get(`big-${i}`)).release();
    // 200 agents of ~40 KB do not fit 2 MiB at once: every one not resident was evicted.
    expect(cache.size).toBeLessThan(200);
    expect(cache.stats.evictions).toBeGreaterThanOrEqual(200 - cache.size);
    expect(engine.usedBytes).toBeLessThanOrEqual(engine.budgetBytes);
    expect(engine.reservedBytes).toBeLessThanOrEqual(engine.budgetBytes);
    // With everything pinned, a new agent cannot fit: a typed error, nothing lost.
    const held = await Promise.all(cache.resident.map((id) => cache.get(id)));
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      await cache.get(`more-${i}`).catch((error) => {
        failure = error;
      });
    }
    expect(failure).toBeInstanceOf(BudgetExceededError);
    for (const agent of held) agent.release();
    expect((await cache.get('big-0')).id).toBe('big-0');
    engine.dispose();
  });

  test('a store that fails during eviction keeps the agent resident and loses nothing', async () => {
    const engine = await Engine.create({ simd });
    const inner = new MemoryStore();
    let failing = false;
    const store: AgentStore = {
      read: (id) => inner.read(id),
      write: async (id, bytes) => {
        if (failing) throw new Error('disk full');
        await inner.write(id, bytes);
      },
      delete: (id) => inner.delete(id),
      keys: () => inner.keys(),
    };
    const cache = engine.createAgentCache({ store, maxAgents: 10, qtable: QTABLE, trajectoryCapacity: 20 });
    const next = rng(3);
    for (let i = 0; i < 10; i++) await cache.use(`x${i}`, (a) => work(a, next));
    const before = new Map<string, string>();
    for (const id of cache.resident) before.set(id, await cache.use(id, agentState));
    failing = true;
    await expect(cache.get('x10')).rejects.toThrow('disk full');
    expect(cache.size).toBe(10);
    for (const [id, state] of before) expect(await cache.use(id, agentState)).toBe(state);
    failing = false;
    await cache.use('x10', (a) => work(a, next));
    for (const [id, state] of before) expect(await cache.use(id, agentState)).toBe(state);
    engine.dispose();
  });

  test('a torn file is rejected with E_CORRUPT and the other agents load', async () => {
    const engine = await Engine.create({ simd });
    const store = new FileStore(dir);
    const cache = engine.createAgentCache({ store, maxAgents: 50, qtable: QTABLE });
    const next = rng(9);
    for (let i = 0; i < 5; i++) await cache.use(`t${i}`, (a) => work(a, next));
    const states = new Map<string, string>();
    for (let i = 0; i < 5; i++) states.set(`t${i}`, await cache.use(`t${i}`, agentState));
    await cache.close();
    const files = readdirSync(dir).filter((f) => f.endsWith('.agent'));
    expect(files.length).toBe(5);
    const torn = join(dir, 't2.agent');
    writeFileSync(torn, readFileSync(torn).subarray(0, 100));
    const cache2 = engine.createAgentCache({ store, maxAgents: 50, qtable: QTABLE });
    await expect(cache2.get('t2')).rejects.toThrow(CorruptSnapshotError);
    for (const id of ['t0', 't1', 't3', 't4']) expect(await cache2.use(id, agentState)).toBe(states.get(id));
    // Bytes of another agent under this id are refused too.
    writeFileSync(torn, readFileSync(join(dir, 't1.agent')));
    await expect(cache2.get('t2')).rejects.toThrow(/holds agent 't1'/);
    engine.dispose();
  });

  test('evict/reload churn reaches a steady state: freed agent memory is reused', async () => {
    const engine = await Engine.create({ simd });
    const cache = engine.createAgentCache({ maxAgents: 10, qtable: QTABLE, trajectoryCapacity: 200 });
    const reserved: number[] = [];
    for (let round = 0; round < 8; round++) {
      await runWorkload(cache, 300, 400, 100 + round);
      reserved.push(engine.reservedBytes);
    }
    expect(cache.stats.evictions).toBeGreaterThan(2000);
    // A leak would add an agent's footprint (~7 KB) per eviction: tens of megabytes by now.
    expect(reserved[7]).toBeLessThanOrEqual(reserved[1] * 1.5);
    engine.dispose();
  });

  test('concurrent gets of the same and different agents: no duplicates, no lost updates, back under maxAgents', async () => {
    const engine = await Engine.create({ simd });
    const inner = new MemoryStore();
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
    const store: AgentStore = {
      read: async (id) => {
        await pause();
        return inner.read(id);
      },
      write: async (id, bytes) => {
        await pause();
        await inner.write(id, bytes);
      },
      delete: (id) => inner.delete(id),
      keys: () => inner.keys(),
    };
    const cache = engine.createAgentCache({ store, maxAgents: 10, qtable: QTABLE });
    const updates = new Map<string, number>();
    for (let round = 0; round < 15; round++) {
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const id = `c${(i * 7 + round * 3) % 40}`;
          await cache.use(id, async (agent) => {
            agent.q.update(0, 0, 1, 1, true);
            updates.set(id, (updates.get(id) ?? 0) + 1);
            await pause();
          });
        }),
      );
    }
    // Everything was pinned at once, so the cache went over maxAgents; the next gets bring it back.
    for (const [id, count] of updates) expect(await cache.use(id, (a) => a.q.visits(0, 0))).toBe(count);
    expect(cache.size).toBeLessThanOrEqual(10);
    expect(cache.stats.evictions).toBeGreaterThanOrEqual(updates.size - cache.size);
    engine.dispose();
  });

  test('bad arguments and a closed cache', async () => {
    const engine = await Engine.create({ simd });
    expect(() => engine.createAgentCache({ maxAgents: 0, qtable: QTABLE })).toThrow(InvalidArgumentError);
    expect(() => engine.createAgentCache({ evictAt: 1.5, qtable: QTABLE })).toThrow(/evictAt/);
    expect(() => engine.createAgentCache({ qtable: { actions: 0 } })).toThrow(InvalidArgumentError);
    expect(() => engine.createAgentCache({ store: {} as AgentStore, qtable: QTABLE })).toThrow(/read\(\)/);
    const cache = engine.createAgentCache({ qtable: QTABLE });
    await expect(cache.get('')).rejects.toThrow(InvalidArgumentError);
    await expect(cache.get(5 as unknown as string)).rejects.toThrow(InvalidArgumentError);
    await cache.close();
    await expect(cache.get('a')).rejects.toThrow(DisposedError);
    engine.dispose();
  });
});
