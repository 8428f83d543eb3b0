// Builds the bundler-test project (tests/package/browser-bundlers.test.ts) with Vite or webpack. Run as
// a child process: Vite 8 is ES-module-only, which jest's CommonJS module runtime cannot load.
//
//   node tests/helpers/bundle.mjs <vite|webpack> <projectDir> <outDir>
//
// <projectDir> holds index.html, main.js and node_modules/elex-wasm (a symlink to the package).
// Prints one JSON line: { ms, entry, modules } - the page's entry script (relative to outDir) and
// the bundled modules' real paths. webpack emits no HTML here, so this writes outDir/index.html.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [bundler, project, outDir] = process.argv.slice(2);
const started = Date.now();

async function vite() {
  const { build } = await import('vite');
  const output = await build({
    root: project,
    base: './',
    configFile: false,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, reportCompressedSize: false },
  });
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output).filter((o) => o.type === 'chunk');
  return {
    entry: chunks.find((c) => c.isEntry).fileName,
    modules: chunks.flatMap((c) => c.moduleIds),
  };
}

async function webpack() {
  const { default: webpack } = await import('webpack');
  const compiler = webpack({
    mode: 'production',
    context: project,
    entry: './main.js',
    output: {
      path: outDir,
      filename: 'main.[contenthash:8].js',
      chunkFilename: '[id].[contenthash:8].js',
      clean: true,
    },
    devtool: false,
    performance: { hints: false },
    infrastructureLogging: { level: 'error' },
  });
  const stats = await new Promise((resolve, reject) =>
    compiler.run((error, result) => (error ? reject(error) : resolve(result))),
  );
  await new Promise((resolve) => compiler.close(resolve));
  const json = stats.toJson({
    all: false,
    errors: true,
    warnings: true,
    entrypoints: true,
    modules: true,
    nestedModules: true,
  });
  if (stats.hasErrors()) throw new Error(json.errors.map((e) => e.message).join('\n'));
  const entry = json.entrypoints.main.assets.map((a) => a.name).find((name) => name.endsWith('.js'));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'index.html'),
    `<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<script src="./${entry}"></script>\n`,
  );
  const paths = (m) => [m.nameForCondition, ...(m.modules ?? []).flatMap(paths)].filter(Boolean);
  return { entry, modules: json.modules.flatMap(paths) };
}

const result = bundler === 'vite' ? await vite() : bundler === 'webpack' ? await webpack() : null;
if (result === null) throw new Error(`unknown bundler '${bundler}'`);
process.stdout.write(`${JSON.stringify({ ms: Date.now() - started, ...result })}\n`);
