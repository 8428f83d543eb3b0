/** The published entry points: ESM import and CJS require of 'elex-wasm' both work, with types. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const script = `
  const { Engine, VectorIndex, ElexError } = M;
  const e = await Engine.create({ budgetBytes: 8 << 20 });
  const index = e.createIndex({ dim: 3, metric: 'l2' });
  index.addBatch([1, 2], new Float32Array([0, 0, 1, 5, 5, 5]));
  const r = index.search([0, 0, 0.9], 1);
  console.log(JSON.stringify({ id: r.ids[0], index: index instanceof VectorIndex, err: typeof ElexError }));
`;

function run(args: string[]): { id: number; index: boolean; err: string } {
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }));
}

test('ESM import works', () => {
  const out = run(['--input-type=module', '-e', `import * as M from 'elex-wasm'; ${script}`]);
  expect(out).toEqual({ id: 1, index: true, err: 'function' });
});

test('CJS require works', () => {
  const out = run(['-e', `const M = require('elex-wasm'); (async () => { ${script} })()`]);
  expect(out).toEqual({ id: 1, index: true, err: 'function' });
});

test('type declarations are emitted for the entry point', () => {
  expect(existsSync(join(root, 'dist/types/index.d.ts'))).toBe(true);
});
