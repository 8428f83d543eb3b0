/**
 * One process of the index writers test (tests/hnsw/index-store-processes.test.ts):
 * `node index-writer.cjs <connectionString> <table> <worker> <rounds>` opens the index 'docs'
 * from one PostgresStore table, prints `ready`, waits for a line on stdin, then for each round
 * adds two ids of its own (worker * 100000 + n) and saves, printing `ack <id>` for each id a
 * save acknowledged. A conflicting save (another process saved first) reopens the index and
 * adds its unacknowledged ids again; any other StoreError is retried by the next save. At the
 * end it saves until its ids are acknowledged and prints `done <conflicts>`. Uses the package
 * by name, as an app would.
 */
'use strict';

const { Engine, StoreError } = require('elex-wasm');
const { PostgresStore } = require('elex-wasm/postgres');

const print = (line) => process.stdout.write(`${line}\n`);
const DIM = 8;
const row = (id) => Array.from({ length: DIM }, (_, j) => Math.sin(id * (j + 1) * 0.37));

async function main() {
  const [connectionString, table, worker, rounds] = process.argv.slice(2);
  const store = new PostgresStore({ connectionString, max: 2 }, { table });
  const engine = await Engine.create({ budgetBytes: 32 << 20 });
  const pending = new Set();
  let conflicts = 0;
  const open = async () => {
    for (;;) {
      try {
        const index = await engine.openIndex(store, 'docs');
        for (const id of pending) index.add(id, row(id));
        return index;
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
      }
    }
  };
  let index = await open();
  const save = async () => {
    const taken = [...pending];
    try {
      await index.save(store, 'docs');
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      if (/conflicting saves/.test(error.message)) {
        conflicts++;
        index.dispose();
        index = await open();
      }
      return false;
    }
    for (const id of taken) {
      pending.delete(id);
      print(`ack ${id}`);
    }
    return true;
  };
  print('ready');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.destroy(); // nothing more comes: let the process exit when done
  let n = 0;
  for (let round = 0; round < Number(rounds); round++) {
    for (let i = 0; i < 2; i++) {
      const id = Number(worker) * 100000 + n++;
      index.add(id, row(id));
      pending.add(id);
    }
    await save();
  }
  while (pending.size > 0) await save();
  print(`done ${conflicts}`);
  index.dispose();
  await store.close();
  engine.dispose();
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
