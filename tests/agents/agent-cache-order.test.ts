/** Store writes of one agent land in order: a slow old write never rolls a newer one back. */
import { Engine, type AgentStore } from '../../src/index';
import { QTABLE } from '../helpers/agents';
import { rng } from '../helpers/random';
import { ScriptedStore, sleep } from '../helpers/stores';

/** Visits of (0, 0) of agent `id` as `store` holds it, read through a fresh engine. */
async function storedVisits(store: AgentStore, id: string): Promise<number> {
  const engine = await Engine.create();
  const visits = await engine.createAgentCache({ store, qtable: QTABLE }).use(id, (a) => a.q.visits(0, 0));
  engine.dispose();
  return visits;
}

const bump =
  (times: number) => (agent: { q: { update(s: number, a: number, r: number, s2: number, d: boolean): number } }) => {
    for (let i = 0; i < times; i++) agent.q.update(0, 0, 1, 0, true);
  };

test('a slow flush write and a fast eviction write of one agent: the newer value stays', async () => {
  // The first write of x takes 60 ms, every later one lands at once.
  const store = new ScriptedStore({ writeDelay: (_id, n) => (n === 0 ? 60 : 0) });
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ store, qtable: QTABLE });
  await agents.use('x', bump(1));
  const flushed = agents.flush(); // writes visits 1, slowly
  await agents.use('x', bump(6)); // visits 7
  expect(await agents.evict(1)).toBe(1); // writes visits 7, then frees x
  await flushed;
  await sleep(80); // whatever was still on its way has landed
  expect(await agents.use('x', (a) => a.q.visits(0, 0))).toBe(7);
  expect(await storedVisits(store, 'x')).toBe(7);
  engine.dispose();
});

test('a slow eviction write and close(): close writes after it, so the newer value stays', async () => {
  const store = new ScriptedStore({ writeDelay: (_id, n) => (n === 0 ? 60 : 0) });
  const engine = await Engine.create();
  const agents = engine.createAgentCache({ store, qtable: QTABLE });
  await agents.use('y', bump(1));
  const evicting = agents.evict(1); // writes visits 1, slowly
  await agents.use('y', bump(6)); // a hit during the eviction: y stays, visits 7
  const closing = agents.close(); // while the eviction is still writing
  expect(await evicting).toBe(0);
  await closing;
  await sleep(80);
  expect(await storedVisits(store, 'y')).toBe(7);
  engine.dispose();
});

test('random write delays, flushes and evictions interleaved with updates: nothing is rolled back', async () => {
  for (const seed of [1, 2, 3]) {
    const next = rng(seed);
    const store = new ScriptedStore({ writeDelay: () => next() * 8 });
    const engine = await Engine.create();
    const agents = engine.createAgentCache({ store, maxAgents: 3, qtable: QTABLE, trajectoryCapacity: 4 });
    const counts = new Map<string, number>();
    const background: Promise<unknown>[] = [];
    for (let step = 0; step < 150; step++) {
      const id = `o${Math.floor(next() * 6)}`;
      await agents.use(id, bump(1));
      counts.set(id, (counts.get(id) ?? 0) + 1);
      const r = next();
      if (r < 0.3) background.push(agents.flush());
      else if (r < 0.6) background.push(agents.evict(1 + Math.floor(next() * 3)));
      if (next() < 0.2) await sleep(next() * 5);
    }
    await Promise.all(background);
    for (const [id, count] of counts) expect([id, await agents.use(id, (a) => a.q.visits(0, 0))]).toEqual([id, count]);
    await agents.close();
    await sleep(20);
    for (const [id, count] of counts) expect([id, await storedVisits(store, id)]).toEqual([id, count]);
    engine.dispose();
  }
});
