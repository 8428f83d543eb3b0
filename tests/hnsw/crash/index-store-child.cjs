/**
 * The crash test's child: `node index-store-child.cjs <dir> <from> <simd>` opens the index saved
 * in the FileStore <dir> (at step <from>; 0: creates it), then forever applies the next step and
 * saves, printing `committed <step> <generation> <sha256 of serialize()>` once each save has
 * resolved. The test SIGKILLs it at random moments. Uses the package by name, as an app would.
 */
'use strict';

const { createHash } = require('node:crypto');
const { Engine, FileStore } = require('elex-wasm');
const { OPTIONS, SAVE, applyStep } = require('./index-store-workload.cjs');

async function main() {
  const [dir, fromArg, simd] = process.argv.slice(2);
  const from = Number(fromArg);
  const engine = await Engine.create({ simd });
  const store = new FileStore(dir);
  const index = from === 0 ? engine.createIndex(OPTIONS) : await engine.openIndex(store, 'crash');
  process.stdout.write('ready\n');
  for (let step = from + 1; step < 1e6; step++) {
    applyStep(index, step);
    const { generation } = await index.save(store, 'crash', SAVE);
    const digest = createHash('sha256').update(index.serialize()).digest('hex');
    process.stdout.write(`committed ${step} ${generation} ${digest}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack}\n`);
  process.exit(1);
});
