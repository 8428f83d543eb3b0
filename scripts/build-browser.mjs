// Bundles src/ with esbuild into dist/browser/: elex.js (ES module, no Node built-ins: FileStore
// is swapped for src/stores/file-store-browser.ts) plus one lazily imported chunk per embedded
// .wasm build, so a page, a worker or a CDN loads only the build the SIMD probe picks.
// The package's "browser" export condition points here. Prints raw and Brotli sizes.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/browser');
rmSync(out, { recursive: true, force: true }); // no stale chunks from an earlier build ship

/** Resolves the Node FileStore to its browser twin. */
const browserFileStore = {
  name: 'browser-file-store',
  setup(b) {
    b.onResolve({ filter: /^\.{1,2}\/(stores\/)?file-store\.js$/ }, () => ({
      path: join(root, 'src/stores/file-store-browser.ts'),
    }));
  },
};

await build({
  entryPoints: { elex: join(root, 'src/index.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  keepNames: true,
  sourcemap: true,
  chunkNames: '[name]-[hash]',
  plugins: [browserFileStore],
  logLevel: 'warning',
});

// The package is "type": "commonjs"; these .js files are ES modules. Without this marker webpack
// parses them as CommonJS ('import' and 'export' may appear only with 'sourceType: module').
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');

const brotli = (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
for (const name of readdirSync(out).filter((n) => n.endsWith('.js'))) {
  const bytes = readFileSync(join(out, name));
  console.log(`dist/browser/${name}  ${bytes.length} B raw, ${brotli(bytes)} B brotli`);
}
