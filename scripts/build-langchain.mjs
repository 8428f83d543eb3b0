// The ES module forms of the elex-wasm/langchain and elex-wasm/langgraph subpaths, after
// build-js.mjs has compiled src/<dir>/ into dist/cjs/<dir>/ (the CommonJS form). For langchain
// (langgraph likewise, with @langchain/langgraph-checkpoint as well):
//
//   dist/esm/langchain.mjs     src/langchain/ bundled as an ES module. It imports @langchain/core
//                              as an ES module (the user's own copy, not the CommonJS one) and
//                              elex-wasm by its own name, so the engine classes are the ones the
//                              package root gives (one implementation; a browser bundler picks
//                              the browser build). Only pure helper modules of src/ are inlined.
//   dist/esm/langchain/*.d.mts the CommonJS declarations re-emitted for ES module resolution, so
//                              their @langchain/core types are the ES module ones.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
/** Modules of src/ outside the entry's folder that hold no class and no state: safe to inline. */
const INLINED = new Set([
  'util/concat.ts',
  'util/crc32.ts',
  'util/validate.ts',
  'util/json-value.ts',
  'stores/store-key.ts',
  'util/json-record.ts',
  'hnsw/store/keys.ts',
  'hnsw/store/store-io.ts',
  'hnsw/store/manifest.ts',
  'hnsw/store/sidecar.ts',
]);
/** Modules that are the package's public API: imported by name, never inlined. */
const PUBLIC = new Set(['index.ts', 'errors.ts']);

/** The entries built here: elex-wasm/langchain and elex-wasm/langgraph, each with its peer dependencies. */
const ENTRIES = [
  { dir: 'langchain', external: ['@langchain/core', '@langchain/core/*'] },
  { dir: 'langgraph', external: ['@langchain/core', '@langchain/core/*', '@langchain/langgraph-checkpoint'] },
];

const packageApi = (dir) => ({
  name: 'elex-wasm-public-api',
  setup(b) {
    b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      const file = relative(src, join(args.resolveDir, args.path.replace(/\.js$/, '.ts'))).replace(/\\/g, '/');
      if (file === `${dir}/peer-check.ts`) return { path: file, namespace: 'empty' };
      if (file.startsWith(`${dir}/`) || INLINED.has(file)) return undefined;
      if (PUBLIC.has(file)) return { path: 'elex-wasm', external: true };
      return {
        errors: [
          { text: `src/${dir} may import ${file} only through ../index.js (the ES module would copy its classes)` },
        ],
      };
    });
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: '', loader: 'js' }));
  },
});

for (const { dir, external } of ENTRIES) {
  await build({
    entryPoints: [join(src, `${dir}/index.ts`)],
    outfile: join(root, `dist/esm/${dir}.mjs`),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    external,
    plugins: [packageApi(dir)],
    resolveExtensions: ['.ts'],
    logLevel: 'warning',
  });

  // Declarations: dist/cjs/<dir>/*.d.ts -> dist/esm/<dir>/*.d.mts, relative imports inside <dir>/
  // renamed to .mjs, the rest pointed back at dist/cjs.
  const from = join(root, `dist/cjs/${dir}`);
  const to = join(root, `dist/esm/${dir}`);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter((n) => n.endsWith('.d.ts'))) {
    const text = readFileSync(join(from, name), 'utf8')
      .replace(/(from|import) '\.\/([^']+)\.js'/g, "$1 './$2.mjs'")
      .replace(/from '\.\.\/([^']+)'/g, "from '../../cjs/$1'")
      .replace(/import\("\.\.\/([^"]+)"\)/g, 'import("../../cjs/$1")');
    writeFileSync(join(to, name.replace(/\.d\.ts$/, '.d.mts')), text);
  }
  console.log(`dist/esm/${dir}.mjs and its declarations written`);
}
