/**
 * The package as a browser bundler sees it: esbuild with platform 'browser' resolves
 * 'elex-wasm' through the "browser" export condition to dist/browser and bundles it without
 * errors and without a Node built-in.
 */
import { build } from 'esbuild';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test("esbuild (platform 'browser') bundles the package's browser entry with no Node built-ins", async () => {
  const result = await build({
    stdin: { contents: "export { Engine, IndexedDBStore, FileStore } from 'elex-wasm';", resolveDir: root },
    bundle: true,
    splitting: true,
    outdir: join(root, 'dist/bundle-test'),
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toContain('dist/browser/elex.js');
  expect(
    inputs.filter((path) => path.startsWith('node:') || path.includes('dist/esm') || path.includes('dist/cjs')),
  ).toEqual([]);
  // No output imports a Node built-in (statically or dynamically). The threads' worker source is a
  // string that reaches node:worker_threads only when Node runs it, and the host asks Node for it
  // through process.getBuiltinModule: neither is an import a bundler resolves.
  for (const output of Object.values(result.metafile.outputs))
    expect(output.imports.filter((i) => i.path.startsWith('node:') || i.external)).toEqual([]);
  for (const file of result.outputFiles) expect(file.text).not.toMatch(/\bfrom\s*["']node:|\bimport\s*\(\s*["']node:/);
});
