/**
 * An agent that takes ~60% of the engine's budget is evicted and loaded back by the same cache:
 * loading its Q-table and trajectory costs no engine memory beyond them (the snapshots used to be
 * staged whole beside the objects, so such an agent could be written out but never read back).
 */
import { Engine, MemoryStore } from '../../src/index';
import { QTABLE, agentState } from '../helpers/agents';
import { BUILDS } from '../helpers/engines';
import { rng } from '../helpers/random';

const BUDGET = 4 << 20;
const CAPACITY = 150_000; // 2.4 MB of records

test.each(BUILDS)('an agent of ~60%% of the budget comes back after an eviction (simd %s)', async (simd) => {
  const engine = await Engine.create({ simd, budgetBytes: BUDGET });
  const store = new MemoryStore();
  const cache = engine.createAgentCache({ store, maxAgents: 4, qtable: QTABLE, trajectoryCapacity: CAPACITY });
  const next = rng(21);
  const agent = await cache.get('big');
  for (let i = 0; i < CAPACITY + 999; i++) {
    const s = Math.floor(next() * 12); // rows within the table's first blocks: it does not grow after the ring
    const a = agent.q.selectAction(s);
    const r = next() * 2 - 1;
    agent.trajectory.push(s, a, r, s + 1, next() < 0.1);
    if (i % 10 === 0) agent.q.update(s, a, r, s + 1);
  }
  expect(engine.usedBytes / BUDGET).toBeGreaterThan(0.55);
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
