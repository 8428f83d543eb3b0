/**
 * The package as a user gets it: the tarball `npm pack` makes (from the dist/ that `npm test`
 * builds first) installed into a fresh project with install scripts forbidden, then used from
 * ES modules, CommonJS and TypeScript. Also attw and publint over the same tarball.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Packed, packAndInstall, ROOT, removePacked, run } from '../helpers/packed';

const root = ROOT;
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
let packed: Packed | undefined;
let tarball: string;
let app: string;
let packedFiles: string[];

/** The fenced code blocks of the README's "Quick example" section, in order. */
function quickExamples(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Quick example'),
    readme.indexOf('\n## ', readme.indexOf('## Quick example') + 3),
  );
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

beforeAll(() => {
  packed = packAndInstall('elex-pack-');
  ({ tarball, app, files: packedFiles } = packed);
}, 180_000);

afterAll(() => removePacked(packed));

test('the tarball installs with install scripts forbidden, and brings no dependency', () => {
  const installed = readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'));
  expect(installed).toEqual(['elex-wasm']);
  const pkg = JSON.parse(readFileSync(join(app, 'node_modules/elex-wasm/package.json'), 'utf8'));
  expect(Object.keys(pkg.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
  expect(pkg.dependencies ?? {}).toEqual({});
});

test('every link in the README points at a file that ships, and no URL points off this machine', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(0);
  for (const link of links) expect(packedFiles).toContain(link.replace(/^\.\//, ''));
  const urls = [...readme.matchAll(/https?:\/\/[^\s)'"`]+/g)].map((m) => m[0]);
  for (const url of urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1[:/]/);
});

test('attw finds no problem in the tarball', () => {
  // attw exits non-zero (so run throws) when it finds a problem; the report lists none.
  const { analysis } = JSON.parse(run(bin('attw'), [tarball, '--format', 'json'], packed!.work));
  expect(analysis.types.kind).toBe('included');
  expect(Object.keys(analysis.entrypoints)).toEqual(expect.arrayContaining(['.', './package.json']));
  expect(analysis.problems).toEqual([]);
});

test('publint reports nothing, warnings included', () => {
  const out = run(bin('publint'), ['run', tarball, '--strict', '--level', 'suggestion'], packed!.work);
  expect(out).toMatch(/All good/);
});

test("the README's quick examples run as written, as an ES module and in CommonJS", () => {
  const [esm, cjs] = quickExamples();
  expect(esm).toMatch(/^import \{ Engine \} from 'elex-wasm';/);
  expect(cjs).toMatch(/^const \{ Engine \} = require\('elex-wasm'\);/);
  writeFileSync(join(app, 'example.mjs'), esm);
  writeFileSync(join(app, 'example.cjs'), cjs);
  const esmLines = run(process.execPath, ['example.mjs'], app).trim().split('\n');
  expect(esmLines[0]).toMatch(/^\[ 1, 3 \] \[ [\d.e-]+, [\d.e-]+ \]$/);
  // cosine distance of [0.2, 0.8, 0] to id 1 ([0.1, 0.9, 0]) and id 3 ([0.7, 0.7, 0]), in float64
  const cos = (a: number[], b: number[]) => 1 - (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(...a) * Math.hypot(...b));
  const distances = esmLines[0]
    .match(/\] \[ (.*) \]$/)![1]
    .split(', ')
    .map(Number);
  expect(distances[0]).toBeCloseTo(cos([0.2, 0.8], [0.1, 0.9]), 5);
  expect(distances[1]).toBeCloseTo(cos([0.2, 0.8], [0.7, 0.7]), 5);
  expect(esmLines[1]).toMatch(/^Uint32Array\(2\) \[ 3, 1 \]$/); // id 2 filtered out
  expect(Number(esmLines[2])).toBeGreaterThan(0);
  expect(run(process.execPath, ['example.cjs'], app).trim()).toBe('[ 1, 3 ]');
});

test('import and require share one implementation: errors are instanceof across both', () => {
  writeFileSync(
    join(app, 'hazard.mjs'),
    `
    import { createRequire } from 'node:module';
    import * as esm from 'elex-wasm';
    const cjs = createRequire(import.meta.url)('elex-wasm');
    const engine = await esm.Engine.create({ budgetBytes: 4 << 20 });
    let error;
    try { engine.createIndex({ dim: 0 }); } catch (e) { error = e; }
    console.log(JSON.stringify({
      sameClass: esm.ElexError === cjs.ElexError && esm.Engine === cjs.Engine,
      esmInstance: error instanceof esm.ElexError,
      cjsInstance: error instanceof cjs.ElexError && error instanceof cjs.InvalidArgumentError,
      names: Object.keys(esm).sort().join() === Object.keys(cjs).filter((k) => k !== '__esModule').sort().join(),
    }));
  `,
  );
  expect(JSON.parse(run(process.execPath, ['hazard.mjs'], app))).toEqual({
    sameClass: true,
    esmInstance: true,
    cjsInstance: true,
    names: true,
  });
});

describe('the declarations type-check in a Node-only project (lib es2023, @types/node, skipLibCheck false)', () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const source = (importLine: string) => `${importLine}
    export async function demo(): Promise<number> {
      const engine: Engine = await Engine.create({ budgetBytes: 8 << 20, simd: 'auto' });
      const index = engine.createIndex({ dim: 2, metric: 'l2' });
      index.addBatch([1, 2], new Float32Array([0, 0, 1, 1]));
      const hit: number = index.search([0, 0], 1).ids[0];
      const store: AgentStore = new MemoryStore();
      void new IndexedDBStore('db');
      const cache = engine.createAgentCache({ store, qtable: { actions: 2 } });
      await cache.close();
      try { index.search([0], 1); } catch (e) { if (e instanceof ElexError) return e.code.length; }
      return hit;
    }
  `;

  function typecheck(dir: string, module: 'nodenext', files: Record<string, string>, lib: string[]): string {
    const project = join(app, dir);
    mkdirSync(project, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(project, name), text);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          lib,
          module,
          moduleResolution: module,
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: Object.keys(files),
      }),
    );
    try {
      return run(process.execPath, [tsc, '-p', project], project);
    } catch (error) {
      return String((error as { stdout?: string }).stdout) + String((error as { stderr?: string }).stderr);
    }
  }

  const imports = "import { Engine, ElexError, MemoryStore, IndexedDBStore, type AgentStore } from 'elex-wasm';";
  const requires =
    "import elex = require('elex-wasm');\nimport Engine = elex.Engine; import ElexError = elex.ElexError;\n" +
    'import MemoryStore = elex.MemoryStore; import IndexedDBStore = elex.IndexedDBStore; type AgentStore = elex.AgentStore;';

  test('from an ES module (.mts) and from CommonJS (.cts), without the DOM lib', () => {
    expect(
      typecheck('types-node', 'nodenext', { 'esm.mts': source(imports), 'cjs.cts': source(requires) }, ['es2023']),
    ).toBe('');
  });

  test('and with the DOM lib loaded too (the WebAssembly and IDB declarations merge)', () => {
    expect(typecheck('types-dom', 'nodenext', { 'esm.mts': source(imports) }, ['es2023', 'dom'])).toBe('');
  });

  test("a default import, which does not exist at run time, is a type error (no 'masquerading as CJS')", () => {
    const out = typecheck(
      'types-default',
      'nodenext',
      { 'bad.mts': "import elex from 'elex-wasm';\nexport const e = elex;\n" },
      ['es2023'],
    );
    expect(out).toMatch(/has no default export/);
  });
});
