/**
 * A storm over one agent cache: hundreds of concurrent tasks doing get / use / release (twice,
 * sometimes) / flush / evict over a few hundred agents, against a store whose calls complete
 * after random delays (so out of order) and whose writes fail at random, with close() called
 * while the tasks are still running. Per seed:
 *   - every update a task saw succeed is what a fresh engine and cache over the same store read
 *     back after close (each update adds one visit, so a lost or rolled-back write shows);
 *   - the cache never holds more than maxAgents (tasks hold few leases across awaits), and the
 *     engine stays within its budget;
 *   - after close no lease touches engine memory: an index created then keeps exact vectors
 *     while every lease is released (again).
 */
import { DisposedError, Engine, type Agent } from '../../src/index';
import { rng } from '../helpers/random';
import { ScriptedStore, sleep } from '../helpers/stores';

const SEEDS = [1, 2, 3, 4, 5];
const AGENTS = 300;
const TASKS = 400;
const OPS_PER_TASK = 8;
const MAX_AGENTS = 24;
const HOLDERS = 8; // tasks that may hold a lease across an await at once
const QT = { actions: 4, alpha: 0.5, gamma: 0.9, epsilon: 0.2, seed: 3 };

/** Errors a storm op may meet: the store's scripted failures, and DisposedError once close() was called. */
function expected(error: unknown): void {
  if (error instanceof DisposedError) return;
  expect(String(error)).toMatch(/scripted write failure/);
}

test.each(SEEDS)(
  'storm, seed %i: nothing lost or rolled back, within maxAgents and the budget, inert after close',
  async (seed) => {
    const next = rng(seed);
    let failing = true;
    const store = new ScriptedStore({
      readDelay: () => next() * 3,
      writeDelay: () => next() * 4,
      failWrite: () => failing && next() < 0.08,
    });
    const engine = await Engine.create({ budgetBytes: 8 << 20 });
    const agents = engine.createAgentCache({ store, maxAgents: MAX_AGENTS, qtable: QT, trajectoryCapacity: 16 });
    const committed = new Map<string, number>();
    const leases: Agent[] = [];
    let holders = 0;
    let ops = 0;
    let most = 0;
    let mostReserved = 0;
    const sample = () => {
      most = Math.max(most, agents.size);
      mostReserved = Math.max(mostReserved, engine.reservedBytes);
    };
    const sampler = setInterval(sample, 1);

    // close() starts from inside the storm once this many ops have begun; a close whose store
    // writes fail keeps those snapshots, and is called again until it resolves.
    const closeAt = Math.floor(TASKS * OPS_PER_TASK * (0.4 + 0.4 * next()));
    let closeAttempts = 0;
    let closed: Promise<void> | undefined;
    const closeUntilDone = async () => {
      for (;;) {
        closeAttempts++;
        try {
          return await agents.close();
        } catch (error) {
          expected(error);
          if (closeAttempts > 20) failing = false;
        }
      }
    };

    const update = (agent: Agent) => {
      agent.q.update(0, 0, 1, 0, true); // throws DisposedError once the cache closed: then it did not happen
      agent.trajectory.push(0, 0, 1, 0, true);
      committed.set(agent.id, (committed.get(agent.id) ?? 0) + 1);
    };

    const task = async (t: number) => {
      const pick = rng(seed * 1000 + t);
      await sleep(pick() * 20);
      for (let op = 0; op < OPS_PER_TASK; op++) {
        const id = `s${Math.floor(AGENTS * pick() ** 1.5)}`;
        const r = pick();
        if (++ops === closeAt) closed = closeUntilDone();
        try {
          if (r < 0.45) {
            await agents.use(id, update);
          } else if (r < 0.75 && holders < HOLDERS) {
            holders++;
            try {
              const lease = await agents.get(id);
              leases.push(lease);
              await sleep(pick() * 3);
              update(lease);
              lease.release();
              if (pick() < 0.3) lease.release(); // a second release is a no-op
              expect(() => lease.q).toThrow(DisposedError);
            } finally {
              holders--;
            }
          } else if (r < 0.87) {
            await agents.flush();
          } else {
            await agents.evict(1 + Math.floor(pick() * 6));
          }
        } catch (error) {
          expected(error);
        }
        sample();
        if (pick() < 0.3) await sleep(pick() * 2);
      }
    };

    const started = Date.now();
    await Promise.all(Array.from({ length: TASKS }, (_, t) => task(t)));
    expect(closed).toBeDefined(); // the close was started mid-storm
    await expect(closed).resolves.toBeUndefined(); // and it settled cleanly
    clearInterval(sampler);
    failing = false;
    expect(most).toBeLessThanOrEqual(MAX_AGENTS);
    expect(mostReserved).toBeLessThanOrEqual(engine.budgetBytes);
    expect(agents.size).toBe(0);
    expect(agents.stats).toMatchObject({ pinned: 0, leases: 0, residentBytes: 0 });

    // Nothing touches engine memory now: an index keeps exact vectors while every lease is released again.
    const index = engine.createIndex({ dim: 4, metric: 'l2' });
    const vectors = Array.from({ length: 64 }, (_, i) => [i, i + 1, i * 2, -i]);
    index.addBatch(
      vectors.map((_, i) => i),
      new Float32Array(vectors.flat()),
    );
    for (const lease of leases) lease.release();
    index.add(1000, [9, 8, 7, 6]);
    for (const [i, v] of vectors.entries()) expect(Array.from(index.get(i)!)).toEqual(v);
    expect(Array.from(index.get(1000)!)).toEqual([9, 8, 7, 6]);

    // A fresh engine and cache over the same store read back every committed update.
    const engine2 = await Engine.create({ budgetBytes: 64 << 20 });
    const fresh = engine2.createAgentCache({ store, maxAgents: AGENTS, qtable: QT, trajectoryCapacity: 16 });
    for (const [id, count] of committed)
      expect([id, await fresh.use(id, (a) => a.q.visits(0, 0))]).toEqual([id, count]);
    const total = [...committed.values()].reduce((a, b) => a + b, 0);
    process.stdout.write(
      `storm seed ${seed}: ${ops} ops by ${TASKS} tasks (close() called at op ${closeAt}) in ${Date.now() - started} ms, ${total} updates on ${committed.size} agents, ` +
        `${store.writes} store writes, most resident ${most}, close attempts ${closeAttempts}, stats ${JSON.stringify(agents.stats)}\n`,
    );
    expect(total).toBeGreaterThan(100);
    engine.dispose();
    engine2.dispose();
  },
  60_000,
);
