/**
 * The fleet workload's op loop, shared by the worker processes (fleet-worker.cjs) and the
 * in-process run of tests/agents/agent-cache-fleet.test.ts. Op n of worker w has the id
 * w * 100000 + n; it picks an agent `agent-<k>` (k from a generator seeded by seed and w),
 * appends the op id to it (`use`: a transition whose state is the op id), then `flush`es. A flush
 * rejecting with ConflictError (E_CONFLICT) that names the op's agent means the op was refused
 * and dropped with the stale copy: the op is done again on a fresh lease, same id. Once a flush
 * resolves for it (or names only other agents) the op is acknowledged: `onAck(op, agent)`.
 * `between()`, if given, is awaited between the use and the flush.
 */
'use strict';

/** mulberry32 (as tests/helpers/random.ts): a seeded generator in [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fleetOps({ cache, worker, ops, seed, agents, onAck, between }) {
  const next = rng(seed * 7919 + worker);
  for (let n = 0; n < ops; n++) {
    const op = worker * 100000 + n;
    const agent = `agent-${Math.floor(next() * agents)}`;
    for (;;) {
      await cache.use(agent, (lease) => lease.trajectory.push(op, 0, 0, 0));
      if (between) await between();
      try {
        await cache.flush();
        break;
      } catch (error) {
        if (error?.code !== 'E_CONFLICT') throw error;
        if (!error.agents.includes(agent)) break; // this op's agent was written; another was dropped
      }
    }
    onAck(op, agent);
  }
}

module.exports = { fleetOps };
