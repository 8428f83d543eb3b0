// A FileStore process for tests/package/deno-file-lock.test.ts, run by Deno with --allow-read and
// --allow-write only: `hold <dir>` takes the store's lock by writing, prints LOCKED and keeps it
// until <dir>/release appears; `write <dir>` writes once and prints WROTE or the error's code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileStore } from 'elex-wasm';

const [mode, dir] = process.argv.slice(2);
const store = new FileStore(join(dir, 'store'));
if (mode === 'hold') {
  await store.write('a', new Uint8Array([1]));
  console.log('LOCKED');
  for (let i = 0; i < 600 && !existsSync(join(dir, 'release')); i++) await new Promise((r) => setTimeout(r, 50));
  await store.close();
} else {
  try {
    await store.write('b', new Uint8Array([2]));
    console.log('WROTE');
  } catch (error) {
    console.log(`ERR ${error.code}`);
  }
}
