/**
 * One process of the fleet test (tests/agents/agent-cache-fleet.test.ts):
 * `node fleet-worker.cjs <connectionString> <table> <worker> <ops> <seed> <agents> <maxAgents>`
 * runs its own engine and agent cache over one PostgresStore table. It prints `ready`, waits for
 * a line on stdin (so every worker starts together), then runs the workload of ops.cjs, printing
 * `ack <op> <agent>` for each acknowledged op, and at the end `done <conflicts>` (the cache's
 * stats.conflicts). Uses the package by name, as an app would.
 */
'use strict';

const { Engine } = require('elex-wasm');
const { PostgresStore } = require('elex-wasm/postgres');
const { fleetOps } = require('./ops.cjs');

const print = (line) => process.stdout.write(`${line}\n`);

async function main() {
  const [connectionString, table, worker, ops, seed, agents, maxAgents] = process.argv.slice(2);
  const store = new PostgresStore({ connectionString, max: 2 }, { table });
  const engine = await Engine.create({ budgetBytes: 16 << 20 });
  const cache = engine.createAgentCache({
    store,
    maxAgents: Number(maxAgents),
    qtable: { actions: 2 },
    trajectoryCapacity: 4096,
  });
  print('ready');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  await fleetOps({
    cache,
    worker: Number(worker),
    ops: Number(ops),
    seed: Number(seed),
    agents: Number(agents),
    onAck: (op, agent) => print(`ack ${op} ${agent}`),
  });
  const { conflicts } = cache.stats;
  await cache.close();
  await store.close();
  engine.dispose();
  print(`done ${conflicts}`);
  process.stdin.destroy();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack}\n`);
  process.exit(1);
});
