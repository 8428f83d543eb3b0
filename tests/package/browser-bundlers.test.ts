/**
 * The package through Vite 8 and webpack 5, as an application would use it: a small page doing
 * `import { Engine, parseFvecs } from 'elex-wasm'` in a temporary project (node_modules/elex-wasm
 * is a symlink to this repository) is built by each bundler, then run in every browser engine.
 * The builds must resolve the package through its "browser" export condition to dist/browser,
 * keep each embedded wasm build in its own lazily loaded chunk (the page downloads only the one
 * the SIMD probe picks), and search exactly like the same workload run in Node.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { Engine, type EngineOptions } from '../../src/index';
import { describeEngines, startBrowser, type Browser } from '../helpers/browser';
import { readFvecs } from '../helpers/data';

const ROOT = join(__dirname, '..', '..');
const BUNDLERS = ['vite', 'webpack'] as const;
type Bundler = (typeof BUNDLERS)[number];

/** The page's workload: the first `base` SIFT vectors under l2, `queries` queries, top `k`. */
const WORKLOAD = {
  base: 400,
  queries: 25,
  k: 10,
  index: { dim: 128, metric: 'l2', M: 12, efConstruction: 64, efSearch: 48, seed: 7 },
} as const;

/** The application page: runs the workload with ?simd=<mode> (default auto) and sets window.result. */
const MAIN_JS = `import { Engine, parseFvecs } from 'elex-wasm';

const W = ${JSON.stringify(WORKLOAD)};
const load = async (file) => parseFvecs(new Uint8Array(await (await fetch('/data/' + file)).arrayBuffer())).data;

async function run() {
  const base = (await load('sift128_base.fvecs')).subarray(0, W.base * 128);
  const queries = (await load('sift128_query.fvecs')).subarray(0, W.queries * 128);
  const engine = await Engine.create({ simd: new URLSearchParams(location.search).get('simd') ?? 'auto' });
  const index = engine.createIndex(W.index);
  index.addBatch(Uint32Array.from({ length: W.base }, (_, i) => i), base);
  const ids = Array.from(index.searchBatch(queries, W.k).ids);
  const simd = engine.simd;
  engine.dispose();
  return { simd, ids };
}

run().then(
  (result) => { window.result = result; },
  (error) => { window.result = { error: String(error && error.stack || error) }; },
);
`;
const INDEX_HTML =
  '<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<script type="module" src="./main.js"></script>\n';

/** The workload in Node (src/) with `options`. */
async function runInNode(options: EngineOptions): Promise<{ simd: boolean; ids: number[] }> {
  const base = readFvecs('sift128_base.fvecs').data.subarray(0, WORKLOAD.base * 128);
  const queries = readFvecs('sift128_query.fvecs').data.subarray(0, WORKLOAD.queries * 128);
  const engine = await Engine.create(options);
  const index = engine.createIndex(WORKLOAD.index);
  index.addBatch(
    Uint32Array.from({ length: WORKLOAD.base }, (_, i) => i),
    base,
  );
  const ids = Array.from(index.searchBatch(queries, WORKLOAD.k).ids);
  const simd = engine.simd;
  engine.dispose();
  return { simd, ids };
}

/** One bundler's output: its entry script, and which output file holds each wasm build. */
interface Output {
  ms: number;
  entry: string;
  modules: string[];
  files: string[];
  simdChunk: string[];
  scalarChunk: string[];
}

/** Output files (relative to `dir`, recursively) whose text contains `needle`. */
function filesContaining(dir: string, files: string[], needle: string): string[] {
  return files.filter((file) => readFileSync(join(dir, file), 'utf8').includes(needle));
}

let work: string;
const out: Partial<Record<Bundler, Output>> = {};
let simdNode: { simd: boolean; ids: number[] };
let scalarNode: { simd: boolean; ids: number[] };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'elex-bundlers-'));
  const project = join(work, 'project');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(project, 'node_modules', 'elex-wasm'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bundler-app', private: true, type: 'module' }));
  writeFileSync(join(project, 'main.js'), MAIN_JS);
  writeFileSync(join(project, 'index.html'), INDEX_HTML);

  const simdBase64 = readFileSync(join(ROOT, 'build/elex.simd.wasm')).toString('base64');
  const scalarBase64 = readFileSync(join(ROOT, 'build/elex.scalar.wasm')).toString('base64');
  for (const bundler of BUNDLERS) {
    const dir = join(work, 'out', bundler);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(__dirname, '../helpers/bundle.mjs'), bundler, project, dir],
      {
        cwd: project,
        timeout: 60_000,
      },
    );
    const built = JSON.parse(stdout.trim().split('\n').pop()!) as Pick<Output, 'ms' | 'entry' | 'modules'>;
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    out[bundler] = {
      ...built,
      modules: built.modules.map((m) => relative(ROOT, m)),
      files,
      simdChunk: filesContaining(dir, files, simdBase64),
      scalarChunk: filesContaining(dir, files, scalarBase64),
    };
    process.stdout.write(`browser-bundlers: ${bundler} built in ${built.ms} ms: ${files.join(', ')}\n`);
  }
  simdNode = await runInNode({ simd: 'on' });
  scalarNode = await runInNode({ simd: 'off' });
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(BUNDLERS)('the %s build', (bundler) => {
  test("resolves 'elex-wasm' through the browser condition to dist/browser", () => {
    const { modules } = out[bundler]!;
    expect(modules).toContain('dist/browser/elex.js');
    expect(modules.filter((m) => /^(dist\/(esm|cjs|types)|src)\//.test(m) || m.startsWith('node:'))).toEqual([]);
  });

  test('puts each wasm build in its own chunk, apart from the entry', () => {
    const { entry, simdChunk, scalarChunk } = out[bundler]!;
    expect(simdChunk).toHaveLength(1);
    expect(scalarChunk).toHaveLength(1);
    expect(simdChunk[0]).not.toBe(scalarChunk[0]);
    expect([...simdChunk, ...scalarChunk]).not.toContain(entry);
  });
});

describeEngines('bundled pages', (engine) => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await startBrowser(engine, join(work, 'out'));
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the `bundler` page with ?simd=`mode`; its result and the chunk files it downloaded. */
  async function runPage(bundler: Bundler, mode: string) {
    const page = await browser.open({ path: `/${bundler}/index.html?simd=${mode}`, ready: () => 'result' in window });
    const run = await page.evaluate(() => ({
      ...(window as unknown as { result: { simd?: boolean; ids?: number[]; error?: string } }).result,
      loaded: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
    }));
    await page.close();
    const { simdChunk, scalarChunk } = out[bundler]!;
    const fetched = (file: string) => run.loaded.includes(`/${bundler}/${file}`);
    return { ...run, simdLoaded: fetched(simdChunk[0]), scalarLoaded: fetched(scalarChunk[0]) };
  }

  test.each(BUNDLERS)("%s: auto picks SIMD, downloads only its chunk, and returns Node's ids", async (bundler) => {
    const run = await runPage(bundler, 'auto');
    expect(run.error).toBeUndefined();
    expect(run).toMatchObject({ simd: true, simdLoaded: true, scalarLoaded: false });
    expect(run.ids).toEqual(simdNode.ids);
  });

  test.each(BUNDLERS)(
    "%s: simd 'off' downloads only the scalar chunk and returns Node's scalar ids",
    async (bundler) => {
      const run = await runPage(bundler, 'off');
      expect(run.error).toBeUndefined();
      expect(run).toMatchObject({ simd: false, simdLoaded: false, scalarLoaded: true });
      expect(run.ids).toEqual(scalarNode.ids);
    },
  );
});
