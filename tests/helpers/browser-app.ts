/**
 * A web app as a user would bundle it, for the browser suites of the LangChain and LangGraph
 * entries: `entry` (an ES module's source) bundled by esbuild with the browser condition, the
 * package's entries aliased to dist/ (elex-wasm to its browser build), its peers from the
 * repository's node_modules, and an index.html that loads it. Serve the returned folder.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const repo = join(__dirname, '..', '..');

/** Bundles `entry` into a new temporary folder (named `prefix`), and returns the folder. */
export async function bundleApp(prefix: string, entry: string): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(root, 'entry.mjs'), entry);
  await build({
    entryPoints: [join(root, 'entry.mjs')],
    outdir: join(root, 'out'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser'],
    alias: {
      'elex-wasm/langchain': join(repo, 'dist/esm/langchain.mjs'),
      'elex-wasm/langgraph': join(repo, 'dist/esm/langgraph.mjs'),
      'elex-wasm': join(repo, 'dist/browser/elex.js'),
    },
    nodePaths: [join(repo, 'node_modules')],
    logLevel: 'error',
  });
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<script type="module" src="./out/entry.js"></script>\n',
  );
  return root;
}
