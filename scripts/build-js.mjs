// Compiles src/ with tsc into dist/cjs (CommonJS, with .d.ts declarations): the one
// implementation. dist/esm/index.mjs is a thin ES module over it that re-exports every name, so
// `import` and `require` in one process share one copy (one ElexError class, one set of
// engines); dist/esm/index.d.mts gives `import` its own declarations.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
for (const dir of ['dist/cjs', 'dist/esm', 'dist/types']) rmSync(join(root, dir), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');

const names = Object.keys(createRequire(import.meta.url)(join(root, 'dist/cjs/index.js'))).filter(
  (n) => n !== '__esModule',
);
mkdirSync(join(root, 'dist/esm'), { recursive: true });
writeFileSync(
  join(root, 'dist/esm/index.mjs'),
  `// elex-wasm for ES modules: re-exports the CommonJS implementation (one copy per process).\n` +
    `import elex from '../cjs/index.js';\n\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = elex;\n`,
);
writeFileSync(join(root, 'dist/esm/index.d.mts'), `export * from '../cjs/index.js';\n`);
// elex-wasm/postgres: the same thin ES module over its CommonJS entry (which requires `pg`).
writeFileSync(
  join(root, 'dist/esm/postgres.mjs'),
  `// elex-wasm/postgres for ES modules: re-exports the CommonJS implementation.\n` +
    `import postgres from '../cjs/postgres.js';\n\nexport const { PostgresStore } = postgres;\n`,
);
writeFileSync(join(root, 'dist/esm/postgres.d.mts'), `export * from '../cjs/postgres.js';\n`);
console.log(`dist/cjs (implementation, ${names.length} exports) and dist/esm (re-export) written`);
