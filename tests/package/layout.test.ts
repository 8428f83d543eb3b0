/**
 * The source tree's layout (issue 21): src/ and assembly/ have no import circle, no import in src/
 * runs upward (or sideways, between two features of one floor) through the floors
 *   langchain/, langgraph/ -> index.ts -> engine.ts -> agents/ -> hnsw/, qlearn/, kernels/ -> runtime/
 *   -> stores/ -> util/ -> errors.ts
 * (assembly/: index.ts -> agents/ -> hnsw/, qlearn/ -> kernels/, util/ -> runtime/ -> status.ts),
 * and tests/ and src/ have a folder for every feature folder of assembly/. The import graph is
 * read with a regex over the import lines (type-only imports count: they are circles for a
 * reader too); a specifier that names no file of the tree is itself a failure.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

/** Every .ts file under `dir`, as a path relative to the repository's root. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) {
      if (path !== 'src/generated') out.push(...sources(path));
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;

/** The files `file` imports (repository paths); a specifier naming no file is thrown. */
function importsOf(file: string, files: Set<string>): string[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const base = relative(root, join(root, dirname(file), m[1])).replace(/\\/g, '/');
    if (base.startsWith('src/generated/')) continue; // written by the wasm build
    const found = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`].find((c) => files.has(c));
    if (found === undefined) throw new Error(`${file}: '${m[1]}' names no source file`);
    out.push(found);
  }
  return out;
}

function graphOf(dir: string): Map<string, string[]> {
  const files = new Set(sources(dir));
  return new Map([...files].map((f) => [f, importsOf(f, files)]));
}

/** Every circle of the graph, each once (as found by a depth-first walk). */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') found.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}

/** The floor of a file of src/ (higher imports lower) and its feature (imports within one are free). */
function floorOf(file: string): { floor: number; feature: string } {
  const path = file.slice('src/'.length);
  const top = path.includes('/') ? path.slice(0, path.indexOf('/')) : path;
  const floors: Record<string, number> = {
    'errors.ts': 0,
    util: 1,
    stores: 1.5, // its checks are util's (PostgresStore's options)
    runtime: 2,
    hnsw: 3,
    qlearn: 3,
    kernels: 3,
    agents: 4,
    'engine.ts': 5,
    'index.ts': 6,
    langchain: 7,
    langgraph: 7, // the elex-wasm/langgraph entry, beside langchain's
    'postgres.ts': 7, // the elex-wasm/postgres entry, beside langchain's
  };
  if (!(top in floors))
    throw new Error(`${file}: src/${top} is on no floor of the layering (add it to tests/package/layout.test.ts)`);
  return { floor: floors[top], feature: top };
}

/**
 * The floor of a file of assembly/: index.ts -> agents -> hnsw, qlearn -> kernels, util -> runtime
 * -> status.ts. The arena is the bottom here (util's id map allocates in it), and hnsw uses the kernels.
 */
function assemblyFloorOf(file: string): { floor: number; feature: string } {
  const path = file.slice('assembly/'.length);
  const top = path.includes('/') ? path.slice(0, path.indexOf('/')) : path;
  const floors: Record<string, number> = {
    'status.ts': 0,
    runtime: 1,
    util: 2,
    kernels: 2,
    hnsw: 3,
    qlearn: 3,
    agents: 4,
    'index.ts': 5,
  };
  if (!(top in floors))
    throw new Error(`${file}: assembly/${top} is on no floor of the layering (add it to tests/package/layout.test.ts)`);
  return { floor: floors[top], feature: top };
}

function wrongWay(graph: Map<string, string[]>, floor: (f: string) => { floor: number; feature: string }): string[] {
  const out: string[] = [];
  for (const [file, imports] of graph) {
    const from = floor(file);
    for (const to of imports) {
      const target = floor(to);
      if (target.feature !== from.feature && target.floor >= from.floor) out.push(`${file} -> ${to}`);
    }
  }
  return out.sort();
}

/** Sideways imports of assembly/ still waiting for assembly/status.ts (the status codes' own module). */
const ASSEMBLY_PENDING = new Set(['assembly/hnsw/snapshot.ts -> assembly/qlearn/snapshot.ts']);

describe('source layout', () => {
  const src = graphOf('src');
  const assembly = graphOf('assembly');

  test('src/ has no import circle', () => {
    expect(circles(src).map((c) => c.join(' -> '))).toEqual([]);
  });

  test('assembly/ has no import circle', () => {
    expect(circles(assembly).map((c) => c.join(' -> '))).toEqual([]);
  });

  test('no import of src/ runs upward or sideways through the floors', () => {
    expect(wrongWay(src, floorOf)).toEqual([]);
  });

  test('no import of assembly/ runs upward or sideways through the floors', () => {
    expect(wrongWay(assembly, assemblyFloorOf).filter((e) => !ASSEMBLY_PENDING.has(e))).toEqual([]);
  });

  test('the walker sees circles and wrong-way imports (a made-up graph)', () => {
    const g = new Map([
      ['src/hnsw/a.ts', ['src/hnsw/b.ts', 'src/errors.ts']],
      ['src/hnsw/b.ts', ['src/hnsw/a.ts', 'src/agents/c.ts']],
      ['src/agents/c.ts', []],
      ['src/errors.ts', []],
    ]);
    expect(circles(g)).toEqual([['src/hnsw/a.ts', 'src/hnsw/b.ts', 'src/hnsw/a.ts']]);
    expect(wrongWay(g, floorOf)).toEqual(['src/hnsw/b.ts -> src/agents/c.ts']);
  });

  test('src/ and tests/ have a folder for every feature folder of assembly/', () => {
    const folders = (dir: string) =>
      readdirSync(join(root, dir)).filter((n) => statSync(join(root, dir, n)).isDirectory());
    for (const feature of folders('assembly')) {
      if (feature !== 'kernels' || existsSync(join(root, 'src', 'kernels'))) expect(folders('src')).toContain(feature);
      expect(folders('tests')).toContain(feature);
    }
    expect(readdirSync(join(root, 'tests')).filter((n) => !statSync(join(root, 'tests', n)).isDirectory())).toEqual([]);
  });
});
