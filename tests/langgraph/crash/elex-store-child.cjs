/**
 * The ElexStore crash test's child: `node elex-store-child.cjs <dir> <simd>` opens the ElexStore
 * saved in the FileStore <dir> (autoFlush: each batch is written before it resolves), then
 * forever runs step after step (see elex-store-workload.cjs) from the one after the last it
 * finds, printing `acked <step>` once each step's batch has resolved. The test SIGKILLs it at
 * random moments. Uses the package by name, as an app would.
 */
'use strict';

const { Engine, FileStore } = require('elex-wasm');
const { ElexStore } = require('elex-wasm/langgraph');
const { INDEX, lastStep, stepOps } = require('./elex-store-workload.cjs');

async function main() {
  const [dir, simd] = process.argv.slice(2);
  const engine = await Engine.create({ simd });
  const store = await ElexStore.open({ store: new FileStore(dir), index: INDEX, engine, autoFlush: true });
  const from = await lastStep(store);
  process.stdout.write('ready\n');
  for (let step = from + 1; step < 1e6; step++) {
    await store.batch(stepOps(step));
    process.stdout.write(`acked ${step}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack}\n`);
  process.exit(1);
});
