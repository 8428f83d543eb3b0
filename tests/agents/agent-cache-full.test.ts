/** A cache whose agents' own learning filled the engine still evicts, flushes and closes. */
import { BudgetExceededError, Engine, MemoryStore, type Agent, type AgentCache } from '../../src/index';

const QT = { actions: 16, alpha: 0.5, gamma: 0.9, epsilon: 0.2, seed: 5 };
const OPTIONS = { maxAgents: 1000, evictAt: 1, qtable: QT, trajectoryCapacity: 64 };

/** What an agent holds, read without allocating in the engine: rows of its states, visits, epsilon. */
function fingerprint(agent: Agent, states: number[]): string {
  const rows = states.map((s) => `${Array.from(agent.q.values(s)).join(',')}/${agent.q.visits(s, s % 16)}`);
  return `${agent.q.size}|${agent.q.epsilon}|${agent.trajectory.size}|${rows.join(';')}`;
}

/**
 * Learns new states on every agent in turn until no agent can add a row (or be read back): the
 * engine is full. Each round holds a lease on every agent, so a call out of budget has no unpinned
 * agent to free.
 */
async function fillWithLearning(agents: AgentCache, ids: string[], states: Map<string, number[]>): Promise<void> {
  const full = new Set<string>();
  for (let round = 0; full.size < ids.length; round++) {
    const leases: Agent[] = [];
    for (const id of ids) {
      try {
        leases.push(await agents.get(id)); // a miss evicts agents not leased yet this round
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError); // every other agent is leased: none fits
        full.add(id);
      }
    }
    for (const agent of leases) {
      const id = agent.id;
      if (full.has(id)) continue;
      const s = 1000 * round + states.get(id)!.length;
      try {
        agent.q.update(s, s % 16, 1 + s / 1000, s + 1, false);
        agent.trajectory.push(s, s % 16, 0.5, s + 1, false);
        states.get(id)!.push(s);
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        full.add(id);
      }
    }
    for (const agent of leases) agent.release();
  }
}

test('learning fills the engine to its budget: a miss, evict(), flush() and close() still work and the data reads back', async () => {
  const store = new MemoryStore();
  const engine = await Engine.create({ budgetBytes: 2 << 20 });
  const agents = engine.createAgentCache({ store, ...OPTIONS });
  const ids = Array.from({ length: 12 }, (_, i) => `full-${i}`);
  const states = new Map(ids.map((id) => [id, [] as number[]]));
  await fillWithLearning(agents, ids, states);
  expect(engine.reservedBytes).toBeGreaterThan(0.97 * engine.budgetBytes);

  await agents.flush(); // needs no engine memory
  expect(await agents.evict(3)).toBe(3); // nor does writing victims out
  await fillWithLearning(agents, ids, states); // fill the freed memory again (reloading the victims)
  const lease = await agents.get('newcomer'); // a miss evicts what it needs
  lease.release();
  await fillWithLearning(agents, ids.slice(0, 6), states);
  const expected = new Map<string, string>();
  for (const id of ids) expected.set(id, await agents.use(id, (a) => fingerprint(a, states.get(id)!)));
  await agents.close();

  const engine2 = await Engine.create({ budgetBytes: 16 << 20 });
  const agents2 = engine2.createAgentCache({ store, ...OPTIONS });
  for (const id of ids)
    expect([id, await agents2.use(id, (a) => fingerprint(a, states.get(id)!))]).toEqual([id, expected.get(id)]);
  engine.dispose();
  engine2.dispose();
});
