// One process of `elex-bench fleet`: `node fleet-worker.js <json>` with { store: 'pg' | 'file',
// connectionString, table | dir, worker, ops, agents, seed }. Its own engine and agent cache
// (every agent resident) over the store; prints `ready`, waits for a line on stdin (so every
// process starts together), then does `ops` ops: `use` (a transition pushed, a Q update) on an
// agent drawn uniformly, then `flush`, done again on ConflictError naming that agent. Prints one
// JSON line: { ms (from go to the last op), latencies (ms of each op, its retries included), conflicts }.
'use strict';
const { Engine, FileStore } = require('elex-wasm');
const { rng } = require('./dataset.js');

async function main() {
  const spec = JSON.parse(process.argv[2]);
  let store;
  if (spec.store === 'pg') {
    const { PostgresStore } = require('elex-wasm/postgres');
    store = new PostgresStore({ connectionString: spec.connectionString, max: 2 }, { table: spec.table });
  } else store = new FileStore(spec.dir);
  const engine = await Engine.create({ budgetBytes: 64 << 20 });
  const cache = engine.createAgentCache({ store, maxAgents: spec.agents, qtable: { actions: 4 } });
  const next = rng(spec.seed * 7919 + spec.worker);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const latencies = [];
  const t0 = performance.now();
  for (let n = 0; n < spec.ops; n++) {
    const agent = `agent-${Math.floor(next() * spec.agents)}`;
    const state = Math.floor(next() * 64);
    const start = performance.now();
    for (;;) {
      await cache.use(agent, (lease) => {
        lease.trajectory.push(state, n % 4, 1, (state + 1) % 64);
        lease.q.update(state, n % 4, 1, (state + 1) % 64);
      });
      try {
        await cache.flush();
        break;
      } catch (error) {
        if (error?.code !== 'E_CONFLICT' || !error.agents.includes(agent)) throw error;
      }
    }
    latencies.push(performance.now() - start);
  }
  const ms = performance.now() - t0;
  const { conflicts } = cache.stats;
  await cache.close();
  await store.close?.();
  engine.dispose();
  process.stdout.write(`${JSON.stringify({ ms, latencies, conflicts })}\n`);
  process.stdin.destroy();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
