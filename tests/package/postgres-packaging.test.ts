import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Packed, packAndInstall, ROOT, removePacked, run } from '../helpers/packed';

const root = ROOT;
let packed: Packed | undefined;
let app: string;

beforeAll(() => {
  packed = packAndInstall('elex-pgpack-');
  app = packed.app;
}, 180_000);

afterAll(() => removePacked(packed));

test("without pg: require and import of elex-wasm/postgres throw E_PEER naming 'pg'; the root loads", () => {
  const probe = (code: string, module: boolean) =>
    JSON.parse(run(process.execPath, [...(module ? ['--input-type=module'] : []), '-e', code], app));
  const cjs = probe(
    "try { require('elex-wasm/postgres'); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }",
    false,
  );
  expect(cjs.code).toBe('E_PEER');
  expect(cjs.message).toMatch(/elex-wasm\/postgres needs the optional peer dependency 'pg'.*npm install pg/);
  // import: the ES module entry loads the CommonJS one, so the same error ends the process.
  let stderr = '';
  try {
    run(process.execPath, ['--input-type=module', '-e', "import 'elex-wasm/postgres';"], app);
  } catch (error) {
    stderr = String((error as { stderr?: string }).stderr);
  }
  expect(stderr).toMatch(/ElexError: elex-wasm\/postgres needs the optional peer dependency 'pg'/);
  expect(stderr).toMatch(/code: 'E_PEER'/);
  expect(
    probe("const { FileStore } = require('elex-wasm'); console.log(JSON.stringify({ ok: typeof FileStore }))", false),
  ).toEqual({ ok: 'function' });
});

describe('with pg installed', () => {
  beforeAll(() => {
    // Node resolves pg's own dependencies from its real path (the repository's node_modules).
    symlinkSync(realpathSync(join(root, 'node_modules', 'pg')), join(app, 'node_modules', 'pg'), 'dir');
  });

  test("import and require share one PostgresStore over one elex-wasm; its errors are the root's", () => {
    writeFileSync(
      join(app, 'pg.mjs'),
      `
      import { createRequire } from 'node:module';
      import { PostgresStore } from 'elex-wasm/postgres';
      import * as elex from 'elex-wasm';
      const require = createRequire(import.meta.url);
      const cjs = require('elex-wasm/postgres');
      const store = new PostgresStore({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' }, { timeoutMs: 2000 });
      let error;
      try { new PostgresStore({}); } catch (e) { error = e; }
      let failed;
      try { await store.keys(); } catch (e) { failed = e; }
      await store.close();
      console.log(JSON.stringify({
        same: PostgresStore === cjs.PostgresStore,
        invalid: error instanceof elex.InvalidArgumentError && error instanceof require('elex-wasm').ElexError,
        store: failed instanceof elex.StoreError && failed.code,
        names: Object.keys(cjs).filter((k) => k !== '__esModule'),
      }));
    `,
    );
    expect(JSON.parse(run(process.execPath, ['pg.mjs'], app))).toEqual({
      same: true,
      invalid: true,
      store: 'E_STORE',
      names: ['PostgresStore'],
    });
  });

  test('the declarations type-check from .mts and .cts without @types/pg', () => {
    const body = `
      export async function demo(store: ByteStore): Promise<number> {
        const pg = new PostgresStore({ connectionString: 'postgresql://localhost/db' }, { table: 'agents', timeoutMs: 5000 });
        const asStore: ByteStore = pg;
        await asStore.write('k', new Uint8Array(1));
        await pg.close();
        return (await store.keys()).length;
      }
    `;
    const files: Record<string, string> = {
      'a.mts': `import { PostgresStore } from 'elex-wasm/postgres';\nimport type { ByteStore } from 'elex-wasm';\n${body}`,
      'b.cts': `import pgm = require('elex-wasm/postgres');\nimport type { ByteStore } from 'elex-wasm';\nconst PostgresStore = pgm.PostgresStore;\n${body}`,
    };
    const project = join(packed!.work, 'types');
    mkdirSync(project, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(project, name), text);
    symlinkSync(join(app, 'node_modules'), join(project, 'node_modules'), 'dir');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2023'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(root, 'node_modules/@types')],
          types: ['node'], // not 'pg': the declarations must not need @types/pg
        },
        files: Object.keys(files),
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    expect(() => run(process.execPath, [tsc, '-p', project], project)).not.toThrow();
  });
});
