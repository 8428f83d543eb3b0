// Type-checks assembly/ with TypeScript through assembly/tsconfig.json (which extends
// AssemblyScript's std config, so v128, usize, load<T>, memory.data and the std library are
// known). TypeScript rejects decorators on functions and globals (`@inline`, TS1206), which
// AssemblyScript accepts, so those are ignored; any other diagnostic fails. asc remains the
// real compiler: this catches wrong names, types and imports before a 40-second build, and is
// what an editor shows.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'assembly'), '--noEmit', '--pretty', 'false'], {
  encoding: 'utf8',
});
const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
const errors = lines.filter((l) => !l.includes('error TS1206'));
if (errors.length > 0 || (run.status !== 0 && lines.length === 0)) {
  console.error(errors.join('\n') || run.stderr);
  process.exit(1);
}
console.log(`assembly/ type-checks (${lines.length - errors.length} decorator notices ignored)`);
