// Compiles src/ with tsc into dist/esm (ES modules), dist/cjs (CommonJS) and dist/types.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.esm.json', 'tsconfig.cjs.json', 'tsconfig.types.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
}
writeFileSync(join(root, 'dist/esm/package.json'), '{ "type": "module" }\n');
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
console.log('dist/esm, dist/cjs, dist/types written');
