/**
 * The FileStore crash test's child: `node agent-store-child.cjs <dir> <base>` runs an agent
 * cache (AGENTS agents, MAX_AGENTS resident) over the FileStore <dir> in rounds r = 1, 2, ...:
 * each agent in turn gets the value base + r (its Q(0, 0), with alpha 1) and a transition, and
 * the round ends with a flush. Its store is the FileStore behind a wrapper that prints
 * `s <id> <value>` when a write starts and `d <id> <value>` once it resolved (durable), the value
 * read out of the bytes written. The test SIGKILLs it at random moments. Uses the package by
 * name, as an app would.
 */
'use strict';

const { Engine, FileStore } = require('elex-wasm');

const AGENTS = 200;
const MAX_AGENTS = 40;

/** Q(0, 0) in an agent's EXAG bytes: its EXQT section follows the id; one row (state 0), its first value. */
function firstValueOf(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = 20 + view.getUint32(8, true);
  const rows = view.getUint32(q + 12, true);
  return view.getFloat32(q + 80 + 4 * rows, true);
}

const print = (line) => process.stdout.write(`${line}\n`);

async function main() {
  const [dir, baseArg] = process.argv.slice(2);
  const base = Number(baseArg);
  const files = new FileStore(dir);
  const store = {
    read: (id) => files.read(id),
    delete: (id) => files.delete(id),
    keys: () => files.keys(),
    async write(id, bytes) {
      const value = firstValueOf(bytes);
      print(`s ${id} ${value}`);
      await files.write(id, bytes);
      print(`d ${id} ${value}`);
    },
  };
  const engine = await Engine.create({ budgetBytes: 32 << 20 });
  const agents = engine.createAgentCache({
    store,
    maxAgents: MAX_AGENTS,
    qtable: { actions: 4, alpha: 1 },
    trajectoryCapacity: 64,
  });
  print('ready');
  for (let r = 1; ; r++) {
    const value = base + r;
    for (let i = 0; i < AGENTS; i++) {
      await agents.use(`agent-${i}`, (agent) => {
        agent.q.update(0, 0, value, 0, true);
        agent.trajectory.push(i, 0, value, 0, true);
      });
    }
    await agents.flush();
    print(`flushed ${value}`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack}\n`);
  process.exit(1);
});
