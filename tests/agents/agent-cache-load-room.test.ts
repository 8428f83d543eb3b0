/**
 * An agent that takes ~60% of the engine's budget is evicted and loaded back by the same cache:
 * loading its Q-table and trajectory costs no engine memory beyond them (the snapshots used to be
 * staged whole beside the objects, so such an agent could be written out but never read back),
 * and its larger object is loaded first, into the hole its eviction left (the table first took
 * the start of that hole when the table had grown after the ring).
 */
import { Engine, MemoryStore } from '../../src/index';
import { QTABLE, agentState } from '../helpers/agents';
import { BUILDS } from '../helpers/engines';
import { rng } from '../helpers/random';

const BUDGET = 4 << 20;
const CAPACITY = 150_000; // 2.4 MB of records

/** An engine, a cache of big-ring agents, and agent 'big' worked on: `states` states, `pushes` transitions. */
async function bigAgent(simd: 'on' | 'off', states: number, pushes: number) {
  const engine = await Engine.create({ simd, budgetBytes: BUDGET });
  const store = new MemoryStore();
  const cache = engine.createAgentCache({ store, maxAgents: 4, qtable: QTABLE, trajectoryCapacity: CAPACITY });
  const next = rng(21);
  const agent = await cache.get('big');
  for (let i = 0; i < pushes; i++) {
    const s = Math.floor(next() * states);
    const a = agent.q.selectAction(s);
    const r = next() * 2 - 1;
    agent.trajectory.push(s, a, r, s + 1, next() < 0.1);
    if (i % 10 === 0) agent.q.update(s, a, r, s + 1);
  }
  for (let s = 0; s < states; s++) agent.q.update(s, s % 4, 1, s + 1); // every state a row
  expect(engine.usedBytes / BUDGET).toBeGreaterThan(0.55);
  return { engine, cache, agent };
}

describe.each(BUILDS)('an agent of ~60%% of the budget comes back after an eviction (simd %s)', (simd) => {
  // 12 states: the table keeps its first blocks. 500: it grows after the ring, above it. 100
  // transitions: the ring's snapshot is smaller than the table's, its memory still 60%.
  test.each([
    [12, CAPACITY + 999],
    [500, CAPACITY + 999],
    [500, 100],
  ])('over %i states, %i transitions', async (states, pushes) => {
    const { engine, cache, agent } = await bigAgent(simd, states, pushes);
    const state = agentState(agent);
    agent.release();
    expect(await cache.evict()).toBe(1);
    expect(cache.has('big')).toBe(false);
    const back = await cache.get('big');
    expect(agentState(back)).toBe(state);
    back.release();
    await cache.close();
    engine.dispose();
  });
});
