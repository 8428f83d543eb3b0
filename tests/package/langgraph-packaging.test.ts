/**
 * elex-wasm/langgraph from the packed tarball: E_PEER without its peers; with them, the example
 * of docs/memory-store.md runs as written in Node, Bun and Deno, the agent example remembers
 * across two runs, ESM and CJS each extend their own BaseStore over one elex-wasm, and the
 * declarations type-check from .mts and .cts.
 */
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  docsExample,
  failureOf,
  OTHER_RUNTIMES,
  type Packed,
  packAndInstall,
  ROOT,
  removePacked,
  run,
  runtimeBin,
  typecheckProject,
} from '../helpers/packed';

const root = ROOT;
let packed: Packed | undefined;
let app: string;

/** What the example prints. */
function expectExampleOutput(out: string): void {
  const lines = out.trim().split('\n');
  expect(lines[0]).toMatch(/^tea 0\.\d{3}$/);
  expect(lines.slice(1)).toEqual([
    'is planning a trip to Rome in May',
    'user-42/memories,user-42/scratch',
    'is planning a trip to Rome in May',
    '4 toy-words-256',
  ]);
}

beforeAll(() => {
  packed = packAndInstall('elex-lgpack-');
  app = packed.app;
}, 180_000);

afterAll(() => removePacked(packed));

test('without its peers: require throws E_PEER naming them, import fails naming one', () => {
  const cjs = failureOf(
    ['-e', "try { require('elex-wasm/langgraph') } catch (e) { console.error(e.code, e.message); process.exit(1) }"],
    app,
  );
  expect(cjs).toMatch(
    /^E_PEER elex-wasm\/langgraph needs the optional peer dependency '@langchain\/core'.*npm install @langchain\/langgraph-checkpoint @langchain\/core/,
  );
  const esm = failureOf(['--input-type=module', '-e', "import 'elex-wasm/langgraph';"], app);
  expect(esm).toMatch(/Cannot find package '@langchain\/langgraph-checkpoint'/);
  expect(run(process.execPath, ['-e', "require('elex-wasm'); console.log('ok')"], app).trim()).toBe('ok');
});

test('the browser bundle of the main entry holds nothing of LangGraph', () => {
  const bundle = readFileSync(join(root, 'dist/browser/elex.js'), 'utf8');
  expect(bundle).not.toMatch(/langgraph|ElexStore|EXLM/);
});

describe('with @langchain/langgraph-checkpoint and @langchain/core installed', () => {
  beforeAll(() => {
    mkdirSync(join(app, 'node_modules/@langchain'), { recursive: true });
    for (const name of ['core', 'langgraph-checkpoint'])
      symlinkSync(
        realpathSync(join(root, `node_modules/@langchain/${name}`)),
        join(app, `node_modules/@langchain/${name}`),
        'dir',
      );
  });

  test('the example of docs/memory-store.md runs as written', () => {
    writeFileSync(join(app, 'langgraph-example.mjs'), docsExample('memory-store.md', 'examples/langgraph/example.mjs'));
    expectExampleOutput(run(process.execPath, ['langgraph-example.mjs'], app));
  });

  test.each(OTHER_RUNTIMES)('and under %s (from the devDependencies)', (name, argsFor) => {
    const bin = runtimeBin(name, 'langgraph-packaging');
    if (bin === undefined) return;
    writeFileSync(join(app, 'langgraph-example.mjs'), docsExample('memory-store.md', 'examples/langgraph/example.mjs'));
    expectExampleOutput(run(bin, argsFor('langgraph-example.mjs'), app));
  });

  test('the agent example writes memories in one run and recalls them in the next', () => {
    writeFileSync(join(app, 'agent-memory.mjs'), readFileSync(join(root, 'examples/langgraph/agent-memory.mjs')));
    rmSync(join(app, 'agent-memory'), { recursive: true, force: true });
    expect(run(process.execPath, ['agent-memory.mjs'], app).trim()).toBe('learned 3 facts');
    expect(run(process.execPath, ['agent-memory.mjs'], app).trim()).toBe(
      'recalled: I am allergic to peanuts, so no satay please.',
    );
  });

  test('ESM and CJS each extend their own BaseStore, over one elex-wasm', () => {
    writeFileSync(
      join(app, 'dual.mjs'),
      `
      import { createRequire } from 'node:module';
      import { ElexStore } from 'elex-wasm/langgraph';
      import { BaseStore } from '@langchain/langgraph-checkpoint';
      import * as elex from 'elex-wasm';
      const require = createRequire(import.meta.url);
      const cjs = require('elex-wasm/langgraph');
      const cjsBase = require('@langchain/langgraph-checkpoint').BaseStore;
      const embeddings = { embedDocuments: async (t) => t.map((s) => [s.length, 1]), embedQuery: async (s) => [s.length, 1] };
      const store = new ElexStore({ index: { dims: 2, embeddings, fields: ['t'] }, budgetBytes: 4 << 20 });
      await store.put(['a'], 'x', { t: 'abc' });
      let error;
      try { await store.put(['a'], 'y', { t: new Date() }); } catch (e) { error = e; }
      console.log(JSON.stringify({
        esm: store instanceof BaseStore,
        cjs: new cjs.ElexStore() instanceof cjsBase,
        oneEngine: store.engine instanceof elex.Engine && store.engine instanceof require('elex-wasm').Engine,
        errors: error instanceof elex.InvalidArgumentError,
        found: (await store.search(['a'], { query: 'abc', limit: 1 }))[0].key,
      }));
      store.dispose();
    `,
    );
    expect(JSON.parse(run(process.execPath, ['dual.mjs'], app))).toEqual({
      esm: true,
      cjs: true,
      oneEngine: true,
      errors: true,
      found: 'x',
    });
  });

  test('the declarations type-check from .mts and .cts (module nodenext)', () => {
    const body = `
      const embeddings: EmbeddingsInterface = { embedDocuments: async (t) => t.map(() => [1, 0]), embedQuery: async () => [1, 0] };
      export async function demo(): Promise<number> {
        const store = await ElexStore.open({ store: new MemoryStore(), index: { dims: 2, embeddings, fields: ['text'] }, ttl: { defaultTtl: 5 } });
        const asBase: BaseStore = store;
        await store.put(['u'], 'k', { text: 'a' }, false, { ttl: null });
        const hits: SearchItem[] = await store.search(['u'], { query: 'a', filter: { n: { $gt: 1 } } });
        const saved = await store.flush();
        const error: EmbeddingModelMismatchError | undefined = undefined;
        void asBase; void error;
        return hits.length + (saved?.generation ?? 0) + (store.provenance.dims ?? 0);
      }
    `;
    const files = {
      'lg.mts':
        `import { ElexStore } from 'elex-wasm/langgraph';\nimport { MemoryStore, EmbeddingModelMismatchError } from 'elex-wasm';\n` +
        `import { BaseStore, type SearchItem } from '@langchain/langgraph-checkpoint';\n` +
        `import type { EmbeddingsInterface } from '@langchain/core/embeddings';\n${body}`,
      'lg.cts':
        `import lg = require('elex-wasm/langgraph');\nimport elex = require('elex-wasm');\nimport ElexStore = lg.ElexStore;\nimport MemoryStore = elex.MemoryStore;\nimport EmbeddingModelMismatchError = elex.EmbeddingModelMismatchError;\n` +
        `import { BaseStore, type SearchItem } from '@langchain/langgraph-checkpoint';\n` +
        `import type { EmbeddingsInterface } from '@langchain/core/embeddings';\n${body}`,
    };
    const project = join(app, 'types-langgraph');
    expect(typecheckProject(project, files)).toBe('');
  });
});
