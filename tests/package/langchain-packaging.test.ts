import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
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

beforeAll(() => {
  packed = packAndInstall('elex-lcpack-');
  app = packed.app;
}, 180_000);

afterAll(() => removePacked(packed));

test('without @langchain/core: require throws E_PEER naming it, import fails naming it', () => {
  const cjs = failureOf(
    ['-e', "try { require('elex-wasm/langchain') } catch (e) { console.error(e.code, e.message); process.exit(1) }"],
    app,
  );
  expect(cjs).toMatch(
    /^E_PEER elex-wasm\/langchain needs the optional peer dependency '@langchain\/core'.*npm install @langchain\/core/,
  );
  const esm = failureOf(['--input-type=module', '-e', "import 'elex-wasm/langchain';"], app);
  expect(esm).toMatch(/Cannot find package '@langchain\/core'/);
  // The main entry never needs it.
  expect(run(process.execPath, ['-e', "require('elex-wasm'); console.log('ok')"], app).trim()).toBe('ok');
});

test('the browser bundle of the main entry holds nothing of LangChain', () => {
  const bundle = readFileSync(join(root, 'dist/browser/elex.js'), 'utf8');
  expect(bundle).not.toMatch(/@langchain|ElexVectorStore|EXLC/);
});

describe('with @langchain/core installed', () => {
  beforeAll(() => {
    mkdirSync(join(app, 'node_modules/@langchain'), { recursive: true });
    symlinkSync(
      realpathSync(join(root, 'node_modules/@langchain/core')),
      join(app, 'node_modules/@langchain/core'),
      'dir',
    );
  });

  test('the LangChain example of docs/langchain.md runs as written', () => {
    writeFileSync(join(app, 'langchain-example.mjs'), docsExample('langchain.md', 'examples/langchain/example.mjs'));
    const lines = run(process.execPath, ['langchain-example.mjs'], app).trim().split('\n');
    expect(lines[0]).toMatch(/^cats purr and sleep all day 0\.\d{3}$/);
    expect(lines.slice(1)).toEqual([
      'pets,pets',
      '2',
      'dogs bark at the mail carrier',
      '4 cats purr and sleep all day',
    ]);
  });

  test.each(OTHER_RUNTIMES)('and under %s (from the devDependencies)', (name, argsFor) => {
    const bin = runtimeBin(name, 'langchain-packaging');
    if (bin === undefined) return;
    writeFileSync(join(app, 'langchain-example.mjs'), docsExample('langchain.md', 'examples/langchain/example.mjs'));
    const lines = run(bin, argsFor('langchain-example.mjs'), app).trim().split('\n');
    expect(lines[0]).toMatch(/^cats purr and sleep all day 0\.\d{3}$/);
    expect(lines.slice(1)).toEqual([
      'pets,pets',
      '2',
      'dogs bark at the mail carrier',
      '4 cats purr and sleep all day',
    ]);
  });

  test('ESM and CJS each extend their own @langchain/core VectorStore, over one elex-wasm', () => {
    writeFileSync(
      join(app, 'dual.mjs'),
      `
      import { createRequire } from 'node:module';
      import { ElexVectorStore } from 'elex-wasm/langchain';
      import { VectorStore } from '@langchain/core/vectorstores';
      import { Document } from '@langchain/core/documents';
      import * as elex from 'elex-wasm';
      const require = createRequire(import.meta.url);
      const cjs = require('elex-wasm/langchain');
      const cjsCore = require('@langchain/core/vectorstores');
      const embeddings = { embedDocuments: async (t) => t.map((s) => [s.length, 1]), embedQuery: async (s) => [s.length, 1] };
      const vs = new ElexVectorStore(embeddings, { budgetBytes: 4 << 20 });
      await vs.addDocuments([new Document({ pageContent: 'abc', metadata: {} })], { ids: ['x'] });
      let error;
      try { await vs.addVectors([[1, 2, 3]], [new Document({ pageContent: 'd', metadata: {} })]); } catch (e) { error = e; }
      console.log(JSON.stringify({
        esm: vs instanceof VectorStore,
        cjs: new cjs.ElexVectorStore(embeddings) instanceof cjsCore.VectorStore,
        oneEngine: vs.engine instanceof elex.Engine && vs.engine instanceof require('elex-wasm').Engine,
        errors: error instanceof elex.DimensionMismatchError,
        found: (await vs.similaritySearch('abc', 1))[0].id,
      }));
      vs.dispose();
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
        const vs = await ElexVectorStore.fromTexts(['a'], {}, embeddings, { metric: 'cosine', M: 8, budgetBytes: 4 << 20 });
        const asStore: VectorStore = vs;
        const retriever: VectorStoreRetriever<ElexVectorStore> = vs.asRetriever({ k: 1, filter: (d) => d.metadata.x !== 1 });
        const hits: [DocumentInterface, number][] = await vs.similaritySearchWithScore('a', 1, (d) => d.pageContent === 'a');
        const saved = await vs.save(new MemoryStore(), 'kb');
        void asStore; void retriever;
        return hits.length + saved.generation;
      }
    `;
    const files = {
      'lc.mts':
        `import { ElexVectorStore } from 'elex-wasm/langchain';\nimport { MemoryStore } from 'elex-wasm';\n` +
        `import { VectorStore, VectorStoreRetriever } from '@langchain/core/vectorstores';\nimport type { DocumentInterface } from '@langchain/core/documents';\n` +
        `import type { EmbeddingsInterface } from '@langchain/core/embeddings';\n${body}`,
      'lc.cts':
        `import lc = require('elex-wasm/langchain');\nimport elex = require('elex-wasm');\nimport ElexVectorStore = lc.ElexVectorStore;\nimport MemoryStore = elex.MemoryStore;\n` +
        `import { VectorStore, VectorStoreRetriever } from '@langchain/core/vectorstores';\nimport type { DocumentInterface } from '@langchain/core/documents';\n` +
        `import type { EmbeddingsInterface } from '@langchain/core/embeddings';\n${body}`,
    };
    const project = join(app, 'types-langchain');
    expect(typecheckProject(project, files)).toBe('');
  });
});
