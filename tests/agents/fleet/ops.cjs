/**
 * The fleet workload's op loop, shared by the worker processes (fleet-worker.cjs) and the
 * in-process run of tests/agents/agent-cache-fleet.test.ts. Op n of worker w has the id
 * w * 100000 + n; it picks an agent `agent-<k>` (k from a generator seeded by seed and w),
 * appends the op id to it (`use`: a transition whose state is the op id), then `flush`es. A flush
 * rejecting with ConflictError (E_CONFLICT) that names the op's agent means the op was refused
 * and dropped with the stale copy: the op is done again on a fresh lease, same id. Once a flush
 * resolves for it (or names only other agents) the op is acknowledged: `onAck(op, agent)`.
 * A ConflictError marking the agent `uncertain` (an outage the store could not settle) means the
 * op may be stored already: the reloaded agent is looked at before the op is done again.
 * A StoreError (the server away) is waited out: a failed `use` is tried again (its get applied
 * nothing), a failed `flush` is flushed again, never the op redone (the cache still holds it).
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `call` until it does not reject with StoreError (E_STORE: the server away), 20 ms apart. */
async function untilStored(call) {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (error?.code !== 'E_STORE') throw error;
      await sleep(20);
    }
  }
}

async function fleetOps({ cache, worker, ops, seed, agents, onAck, between }) {
  const next = rng(seed * 7919 + worker);
  for (let n = 0; n < ops; n++) {
    const op = worker * 100000 + n;
    const agent = `agent-${Math.floor(next() * agents)}`;
    for (let done = false; !done; ) {
      // A get that fails applies nothing; a flush that fails keeps the op in the cache: flush again, never redo.
      await untilStored(() => cache.use(agent, (lease) => lease.trajectory.push(op, 0, 0, 0)));
      if (between) await between();
      try {
        await untilStored(() => cache.flush());
        done = true;
      } catch (error) {
        if (error?.code !== 'E_CONFLICT') throw error;
        done = !error.agents.includes(agent); // named: refused and dropped, do it again; else written
        // Uncertain (a lost answer the store could not settle): the op may be in the store already.
        if (!done && error.uncertain.includes(agent))
          done = await untilStored(() => cache.use(agent, (lease) => lease.trajectory.toBatch().states.includes(op)));
      }
    }
    onAck(op, agent);
  }
}

module.exports = { fleetOps };
