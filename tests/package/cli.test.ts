/**
 * The elex-bench CLI (bench/cli.js): --version, progress on stderr with stdout left clean, the
 * tables' captions, the persist suite's measurements, --data (named sets, folders with their
 * ground truth, errors before anything runs), the filter suite on a small GloVe set with its
 * metadata (--against), and a clear message (no stack trace) when the
 * optional 'benchmark' package is missing, checked in a copy of the package installed into a
 * temp dir without it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'bench', 'cli.js');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const env = { ...process.env, NODE_PATH: '' };

// Whole benchmark runs on a loaded two-core CI machine: generous limits (a hang still ends).
const SPAWN_MS = 300_000;
jest.setTimeout(2 * SPAWN_MS);

function run(script: string, args: string[], cwd = root): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { cwd, env, encoding: 'utf8', timeout: SPAWN_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'elex-cli-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test('--version prints the package version; --help mentions it', () => {
  for (const flag of ['--version', '-v']) {
    const r = run(cli, [flag]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `${version}\n`, '']);
  }
  const help = run(cli, ['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('--version');
  expect(help.stdout).toContain('npm install benchmark');
});

test('a quick suite reports progress on stderr, at most a line a second, and keeps --json on stdout clean', () => {
  const out = join(tmp, 'results');
  const r = run(cli, ['cycle', '--quick', '--json', '--out', out]);
  expect(r.status).toBe(0);
  const json = JSON.parse(r.stdout);
  expect(Object.keys(json.suites)).toEqual(['cycle']);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('[cycle] '));
  expect(lines.length).toBeGreaterThanOrEqual(2);
  for (const line of lines) expect(line).toMatch(/^\[cycle\] .+ \(\d+\.\d s\)$/);
  const stamps = lines.map((l) => Number(/\((\d+\.\d) s\)$/.exec(l)![1]));
  for (let i = 1; i < stamps.length; i++) expect(stamps[i] - stamps[i - 1]).toBeGreaterThanOrEqual(0.9);
  expect(r.stderr).toContain('elex-bench: cycle done in');
  // The Markdown says what the bracketed range is.
  expect(readFileSync(join(out, 'cycle.md'), 'utf8')).toMatch(/median \(min-max\) over 2 passes/);

  const quiet = run(cli, ['cycle', '--quick', '--json', '--quiet', '--out', out]);
  expect(quiet.status).toBe(0);
  expect(quiet.stderr).not.toContain('[cycle]');
});

test('persist --quick measures both stores on the vendored 10K: bytes written and the engine peaks', () => {
  const r = run(cli, ['persist', '--quick', '--json', '--quiet', '--out', join(tmp, 'results')]);
  expect(r.status).toBe(0);
  const [size] = JSON.parse(r.stdout).suites.persist.results;
  expect(size.count).toBe(10000);
  expect(size.rows.map((row: { kind: string }) => row.kind)).toEqual(['FileStore', 'MemoryStore']);
  for (const { m } of size.rows) {
    expect(m.fullBytes).toBeGreaterThanOrEqual(size.checkpointBytes);
    expect(m.incBytes).toBeLessThan(0.02 * m.fullBytes);
    expect(m.open.length).toBe(3);
    // Saving copies out of linear memory: its peak is scratch; loading allocates the index once.
    for (const peak of [...m.fullPeak, ...m.incPeak]) expect(peak).toBeLessThan(64 * 1024);
    for (const peak of m.loadPeak) expect(peak).toBeLessThan(size.indexBytes * 1.05);
  }
});

/** Writes rows (arrays of numbers) as .fvecs (float32) or .ivecs (int32) records. */
function writeVecs(path: string, rows: ArrayLike<number>[], kind: 'f' | 'i') {
  const dim = rows[0].length;
  const buf = Buffer.alloc(rows.length * (4 + 4 * dim));
  rows.forEach((row, r) => {
    const at = r * (4 + 4 * dim);
    buf.writeInt32LE(dim, at);
    for (let j = 0; j < dim; j++) {
      if (kind === 'f') buf.writeFloatLE(row[j], at + 4 + 4 * j);
      else buf.writeInt32LE(row[j], at + 4 + 4 * j);
    }
  });
  writeFileSync(path, buf);
}

/** Exact top-k ids by squared L2 (plain JS, float64), ties to the lower id. */
function bruteL2(base: Float32Array[], query: Float32Array, k: number): number[] {
  const d = base.map((b, i) => [b.reduce((s, x, j) => s + (x - query[j]) ** 2, 0), i]);
  return d
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

describe('--data', () => {
  let dir: string;
  beforeAll(() => {
    // A small set laid out like data/sift128: the first 600 SIFT rows, 30 SIFT queries, an exact
    // L2 ground truth computed here, and no cosine ground truth.
    const read = (file: string, rows: number) => {
      const bytes = readFileSync(join(root, 'data', 'sift128', file));
      return Array.from(
        { length: rows },
        (_, r) =>
          new Float32Array(bytes.buffer.slice(bytes.byteOffset + r * 516 + 4, bytes.byteOffset + (r + 1) * 516)),
      );
    };
    const base = read('sift128_base.fvecs', 600);
    const queries = read('sift128_query.fvecs', 30);
    dir = join(tmp, 'tiny');
    mkdirSync(dir);
    writeVecs(join(dir, 'tiny_base.fvecs'), base, 'f');
    writeVecs(join(dir, 'tiny_query.fvecs'), queries, 'f');
    writeVecs(
      join(dir, 'tiny_groundtruth_l2.ivecs'),
      queries.map((q) => bruteL2(base, q, 10)),
      'i',
    );
  });

  test('an unknown dataset, metric or --runs exits 2 with the reason before any suite runs', () => {
    for (const [args, message] of [
      [
        ['hnsw', '--data', 'nope'],
        "unknown dataset 'nope': name one of sift, glove, a folder of .fvecs/.ivecs files or an .fvecs file",
      ],
      [['hnsw', '--data', 'glove', '--metric', 'dot'], "unknown metric 'dot' (l2, cosine)"],
      [['peers', '--data=glove', '--metric=l2,manhattan'], "unknown metric 'manhattan' (l2, cosine)"],
      [['peers', '--runs', '0'], "--runs takes a whole number >= 1, not '0'"],
      [['peers', '--runs=2.5'], "--runs takes a whole number >= 1, not '2.5'"],
      // A value option given last without its value was called unknown.
      ...['--data', '--metric', '--quantization', '--runs', '--pg', '--against', '--out'].map(
        (option): [string[], string] => [['hnsw', option], `${option} needs a value`],
      ),
    ] as Array<[string[], string]>) {
      const r = run(cli, args);
      expect([r.status, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toContain(`elex-bench: ${message}\n`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toMatch(/^elex-bench: (hnsw|peers)\.\.\./m);
    }
  });

  test('a folder must hold the ground truth of every metric asked for', () => {
    const r = run(cli, ['hnsw', '--data', dir, '--metric', 'l2,cosine']);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe('elex-bench: tiny has no *_groundtruth_cosine.ivecs (ground truth for cosine)\n');
    // The cycle suite reads cosine ground truth whatever --metric says: refused before it runs
    // (it crashed mid-run, after the suites before it).
    const cycle = run(cli, ['hnsw', 'cycle', '--quick', '--data', dir, '--metric', 'l2']);
    expect([cycle.status, cycle.stdout, cycle.stderr]).toEqual([
      2,
      '',
      'elex-bench: the cycle suite: tiny has no *_groundtruth_cosine.ivecs (ground truth for cosine)\n',
    ]);
    const bare = join(tmp, 'bare');
    mkdirSync(bare);
    cpSync(join(dir, 'tiny_base.fvecs'), join(bare, 'x_base.fvecs'));
    cpSync(join(dir, 'tiny_query.fvecs'), join(bare, 'x_query.fvecs'));
    const none = run(cli, ['peers', '--data', bare]);
    expect([none.status, none.stderr]).toEqual([
      2,
      `elex-bench: ${bare} holds no ground truth (*_groundtruth_l2.ivecs or *_groundtruth_cosine.ivecs)\n`,
    ]);
    const empty = run(cli, ['peers', '--data', tmp]);
    expect([empty.status, empty.stderr]).toEqual([
      2,
      `elex-bench: ${tmp} holds no single *_base.fvecs and *_query.fvecs\n`,
    ]);
  });

  test('a bad vector file is refused before any suite runs, naming the file and what is wrong', () => {
    // Each ended in a stack trace (exit 1) from the suite's loader, after 'elex-bench: hnsw...'.
    const cases: Array<[string, string, (path: string) => void, (path: string) => string]> = [
      ['empty', 'tiny_base.fvecs', (p) => writeFileSync(p, ''), (p) => `${p} is empty (no vectors)`],
      [
        'garbage',
        'tiny_query.fvecs',
        (p) => writeFileSync(p, 'this is not an fvecs file\n'),
        (p) =>
          `${p}: 26 bytes is not a whole number of 1936287860-d records of 7745151444 bytes (truncated, or not a .fvecs file)`,
      ],
      [
        'truncated',
        'tiny_base.fvecs',
        (p) => writeFileSync(p, readFileSync(p).subarray(0, 600 * 516 - 6)),
        (p) =>
          `${p}: 309594 bytes is not a whole number of 128-d records of 516 bytes (truncated, or not a .fvecs file)`,
      ],
      [
        'dim0',
        'tiny_base.fvecs',
        (p) => writeFileSync(p, Buffer.alloc(8)),
        (p) => `${p} declares dim 0 in its first record (a dim must be at least 1)`,
      ],
      [
        'short-truth',
        'tiny_groundtruth_l2.ivecs',
        (p) => writeFileSync(p, readFileSync(p).subarray(0, 29 * 44)),
        (p) => `${p} holds ground truth for 29 queries, ${join(tmp, 'short-truth', 'tiny_query.fvecs')} has 30`,
      ],
      [
        'bad-id',
        'tiny_groundtruth_l2.ivecs',
        (p) => {
          const bytes = readFileSync(p);
          bytes.writeInt32LE(600, 2 * 44 + 4 + 4 * 5);
          writeFileSync(p, bytes);
        },
        (p) => `${p}: record 2 names vector 600, outside 0..599`,
      ],
      [
        'nan',
        'tiny_query.fvecs',
        (p) => {
          const bytes = readFileSync(p);
          bytes.writeFloatLE(Number.NaN, 3 * 516 + 4 + 4 * 7);
          writeFileSync(p, bytes);
        },
        (p) => `${p}: record 3 has a non-finite value (NaN) at 7`,
      ],
    ];
    for (const [name, file, spoil, message] of cases) {
      const folder = join(tmp, name);
      cpSync(dir, folder, { recursive: true });
      const path = join(folder, file);
      spoil(path);
      const r = run(cli, ['hnsw', '--quick', '--data', folder, '--metric', 'l2']);
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', `elex-bench: ${message(path)}\n`]);
    }
    // One .fvecs file, and the glove set's queries given as the sift set's (another dim).
    const empty = join(tmp, 'empty.fvecs');
    writeFileSync(empty, '');
    const one = run(cli, ['hnsw', '--quick', '--data', empty]);
    expect([one.status, one.stdout, one.stderr]).toEqual([2, '', `elex-bench: ${empty} is empty (no vectors)\n`]);
    const mixed = join(tmp, 'mixed');
    cpSync(dir, mixed, { recursive: true });
    cpSync(join(root, 'data', 'glove100', 'glove100k_query.fvecs'), join(mixed, 'tiny_query.fvecs'));
    const other = run(cli, ['hnsw', '--quick', '--data', mixed, '--metric', 'l2']);
    expect([other.status, other.stdout, other.stderr]).toEqual([
      2,
      '',
      `elex-bench: ${join(mixed, 'tiny_query.fvecs')} holds 100-d vectors, ${join(mixed, 'tiny_base.fvecs')} 128-d\n`,
    ]);
  });

  test('the named sets resolve to their vendored files; glove measures cosine unless told', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `
      const { resolveDataset, datasetMetrics } = require(${JSON.stringify(join(root, 'bench', 'lib', 'dataset.js'))});
      const out = {};
      for (const name of ['sift', 'glove']) {
        const s = resolveDataset(name);
        out[name] = { base: s.base, query: s.query, truth: s.truth, metrics: s.metrics, l2: datasetMetrics(s, ['l2']).metrics };
      }
      console.log(JSON.stringify(out));`,
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
    const at = (set: string, file: string) => join(root, 'data', set, file);
    expect(JSON.parse(r.stdout)).toEqual({
      sift: {
        base: at('sift128', 'sift128_base.fvecs'),
        query: at('sift128', 'sift128_query.fvecs'),
        metrics: ['l2', 'cosine'],
        l2: ['l2'],
        truth: {
          l2: at('sift128', 'sift128_groundtruth_l2.ivecs'),
          cosine: at('sift128', 'sift128_groundtruth_cosine.ivecs'),
        },
      },
      glove: {
        base: at('glove100', 'glove100k_base.fvecs'),
        query: at('glove100', 'glove100k_query.fvecs'),
        metrics: ['cosine'],
        l2: ['l2'],
        truth: {
          l2: at('glove100', 'glove100k_groundtruth_l2.ivecs'),
          cosine: at('glove100', 'glove100k_groundtruth_cosine.ivecs'),
        },
      },
    });
  });

  test('a folder runs with its own queries and ground truth', () => {
    const out = join(tmp, 'tiny-results');
    const r = run(cli, ['hnsw', '--quick', '--data', dir, '--metric', 'l2', '--json', '--quiet', '--out', out]);
    expect(r.status).toBe(0);
    const runs = JSON.parse(r.stdout).suites.hnsw.results.runs;
    expect(
      runs.map((x: { dataset: string; metric: string; vectors: number; queries: number }) => [
        x.dataset,
        x.metric,
        x.vectors,
        x.queries,
      ]),
    ).toEqual(runs.map(() => ['tiny', 'l2', 600, 30]));
    // Against the truth computed above: at ef 128 over 600 vectors the walk finds the exact top 10.
    for (const x of runs) expect(x.sweep.find((s: { ef: number }) => s.ef === 128).recall).toBeGreaterThanOrEqual(0.99);
  });
});

describe('filter --quick', () => {
  let dir: string;
  const rows = 2000;
  beforeAll(() => {
    // A small GloVe set with its metadata: the first 2,000 base words and every 25th query word,
    // their WordNet category bytes, and an exact cosine ground truth computed here.
    const glove = (file: string) => readFileSync(join(root, 'data', 'glove100', file));
    const record = (bytes: Buffer, r: number) =>
      new Float32Array(bytes.buffer.slice(bytes.byteOffset + r * 404 + 4, bytes.byteOffset + (r + 1) * 404));
    const baseBytes = glove('glove100k_base.fvecs');
    const queryBytes = glove('glove100k_query.fvecs');
    const picks = Array.from({ length: 40 }, (_, j) => j * 25);
    const base = Array.from({ length: rows }, (_, r) => record(baseBytes, r));
    const queries = picks.map((q) => record(queryBytes, q));
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const cosineTop10 = (q: Float32Array) =>
      base
        .map((b, i) => [-b.reduce((s, x, j) => s + x * q[j], 0) / (norm(b) * norm(q)), i])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .slice(0, 10)
        .map(([, i]) => i);
    dir = join(tmp, 'glove-small');
    mkdirSync(dir);
    writeVecs(join(dir, 'small_base.fvecs'), base, 'f');
    writeVecs(join(dir, 'small_query.fvecs'), queries, 'f');
    writeVecs(join(dir, 'small_groundtruth_cosine.ivecs'), queries.map(cosineTop10), 'i');
    writeFileSync(join(dir, 'small_base_lexname.u8'), glove('glove100k_base_lexname.u8').subarray(0, rows));
    const queryLex = glove('glove100k_query_lexname.u8');
    writeFileSync(
      join(dir, 'small_query_lexname.u8'),
      Uint8Array.from(picks, (q) => queryLex[q]),
    );
  });

  /** `elex-bench filter --quick` on the small set with `options`, JSON on stdout, results to `out`. */
  const runQuick = (out: string, ...options: string[]) =>
    run(cli, ['filter', '--quick', '--data', dir, ...options, '--json', '--quiet', '--out', out]);

  test('measures every filter kind and selectivity on real metadata, against the JS scan and LangChain', () => {
    const out = join(tmp, 'filter-results');
    const r = runQuick(out, '--against', 'langchain');
    expect(r.status).toBe(0);
    const { params, results } = JSON.parse(r.stdout).suites.filter;
    expect([params.vectors, params.metric, params.M, params.efConstruction]).toEqual([rows, 'cosine', 16, 200]);
    const kinds = ['random', 'rank range', 'rank band', 'category'];
    const shares = [0.5, 0.1, 0.01, 0.001];
    expect(results.map((x: { kind: string; share: number }) => [x.kind, x.share])).toEqual(
      kinds.flatMap((kind) => shares.map((share) => [kind, share])),
    );
    for (const x of results) {
      // Every kind but random allows exactly share * rows (at least 1); random about as many.
      const m = Math.max(1, Math.round(x.share * rows));
      if (x.kind === 'random') expect(Math.abs(x.allowed - m)).toBeLessThanOrEqual(Math.max(3, 4 * Math.sqrt(m)));
      else expect(x.allowed).toBe(m);
      expect(x.correlated).toBe(x.kind === 'rank band' || x.kind === 'category');
      for (const plan of Object.keys(x.plans)) expect(['exact', 'filtered-walk', 'walk']).toContain(plan);
      // Recall against the exact top 10 of the allowed rows (the JS scan): the bar is 0.95.
      expect(x.recall).toBeGreaterThanOrEqual(0.95);
      const langchain = x.stores['LangChain MemoryVectorStore'];
      expect(langchain.queries).toBe(10);
      expect(langchain.recall).toBeGreaterThanOrEqual(0.9);
      expect(x.setQps === null).toBe(x.kind === 'rank band' || x.kind === 'category');
      // The same filter as a where on the attributes: the allow-list's ids and plan for every
      // query, the predicate's ids where forced to its walk, and as fast as measured.
      const where = x.where;
      expect([where.differAllowList, where.differPredicate]).toEqual([0, 0]);
      expect(where.plans).toEqual(x.plans);
      expect(where.recall).toBe(x.recall);
      expect(where.qps).toBeGreaterThan(0);
      expect(x.predicate.qps).toBeGreaterThan(0);
      expect(x.predicate.recall).toBeGreaterThanOrEqual(0.5);
      // searchBatch of every query: for the filters the same for every query only.
      const shared = x.kind === 'random' || x.kind === 'rank range';
      expect([where.batchQps > 0, x.predicate.batchQps > 0]).toEqual([shared, shared]);
      const field = { random: 'u', 'rank range': 'rank', 'rank band': 'rank', category: '$or' }[x.kind as string]!;
      expect(JSON.stringify(where.where)).toContain(x.kind === 'category' ? 'category' : field);
    }
    const md = readFileSync(join(out, 'filter.md'), 'utf8');
    expect(md).toContain('| category (correlated)');
    expect(md).toContain('LangChain MemoryVectorStore: recall@10');
    expect(md).toMatch(
      /\| where \/ predicate +\| where \/ allow-list +\| searchBatch: where \/ predicate +\| ids differ: allow-list/,
    );
  });

  test('--quantization f32,i8 measures an index of each stored form on the same filters', () => {
    const out = join(tmp, 'filter-quantized');
    const r = runQuick(out, '--against', 'none', '--quantization', 'f32,i8');
    expect(r.status).toBe(0);
    const { params, results } = JSON.parse(r.stdout).suites.filter;
    expect(params.quantizations).toEqual(['f32', 'i8']);
    const forms = results.map((x: { quantization: string }) => x.quantization);
    expect(forms).toEqual([...Array(16).fill('f32'), ...Array(16).fill('i8')]);
    for (const x of results) {
      // Against the float64 scan of the rows as given: i8 adds its rounding.
      expect(x.recall).toBeGreaterThanOrEqual(x.quantization === 'f32' ? 0.95 : 0.9);
      expect(x.jsQps).toBeGreaterThan(0);
    }
    // The same filters: the same allowed counts in both forms.
    const allowed = (form: string) =>
      results
        .filter((x: { quantization: string }) => x.quantization === form)
        .map((x: { allowed: number }) => x.allowed);
    expect(allowed('i8')).toEqual(allowed('f32'));
    expect(readFileSync(join(out, 'filter.md'), 'utf8')).toContain(', quantization i8');
  });

  test('--against takes langchain, pglite or none; anything else exits 2 before the suite runs', () => {
    const r = run(cli, ['filter', '--against', 'langchain,chroma']);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toContain("elex-bench: unknown store 'chroma' for --against (langchain, pglite or none)\n");
    expect(r.stderr).not.toContain('elex-bench: filter...');
  });
});

describe('without the benchmark package', () => {
  let pkg: string;
  beforeAll(() => {
    // node_modules/elex-wasm as npm would install it (package.json, the CLI, dist, build) and
    // no benchmark anywhere on the resolution path.
    pkg = join(tmp, 'app', 'node_modules', 'elex-wasm');
    mkdirSync(join(pkg, 'bench'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    for (const dir of ['lib', 'suites']) cpSync(join(root, 'bench', dir), join(pkg, 'bench', dir), { recursive: true });
    cpSync(cli, join(pkg, 'bench', 'cli.js'));
    for (const dir of ['dist', 'build']) symlinkSync(join(root, dir), join(pkg, dir), 'dir');
    writeFileSync(join(tmp, 'app', 'package.json'), '{ "name": "app", "private": true }\n');
  });

  test('benchmark really cannot be resolved from the copy', () => {
    expect(() => require.resolve('benchmark', { paths: [join(pkg, 'bench', 'lib')] })).toThrow();
    expect(() => require.resolve('benchmark', { paths: [join(tmp, 'app')] })).toThrow();
  });

  test('a suite that needs it exits 1 with the package and the install command, no stack trace', () => {
    for (const suite of ['simd', 'qlearning']) {
      const r = run(join(pkg, 'bench', 'cli.js'), ['cache', suite, '--quick'], join(tmp, 'app'));
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`the ${suite} suite needs the 'benchmark' package, which is not installed`);
      expect(r.stderr).toContain('npm install benchmark');
      expect(r.stderr).toContain(`npx -p elex-wasm -p benchmark elex-bench cache ${suite} --quick`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toContain('elex-bench: cache'); // checked before any suite ran
    }
  });

  test('the timing helper itself raises the same error when called directly', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `
      try { require(${JSON.stringify(join(pkg, 'bench', 'lib', 'timing.js'))}).micro(() => {}); }
      catch (e) { console.log(JSON.stringify({ name: e.name, packageName: e.packageName, install: e.install })); }`,
      ],
      { cwd: join(tmp, 'app'), env, encoding: 'utf8' },
    );
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'MissingDependencyError',
      packageName: 'benchmark',
      install: 'npm install benchmark',
    });
  });

  test('a named set that is not there (data/ is not in the package) says where it lives', () => {
    const r = run(join(pkg, 'bench', 'cli.js'), ['hnsw', '--data', 'glove'], join(tmp, 'app'));
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(
      `elex-bench: dataset 'glove' needs ${join(pkg, 'data', 'glove100')}, which is in a clone of the repository (not in the npm package)\n`,
    );
  });

  test('--version and the suites that do not need it still run', () => {
    const v = run(join(pkg, 'bench', 'cli.js'), ['--version'], join(tmp, 'app'));
    expect([v.status, v.stdout]).toEqual([0, `${version}\n`]);
    const r = run(
      join(pkg, 'bench', 'cli.js'),
      ['cache', '--quick', '--json', '--out', join(tmp, 'app-results')],
      join(tmp, 'app'),
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).suites.cache.results.latencies.hit.median).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/^\[cache\] /m);
  });
});

test('compact --quick: half the vectors removed, compact gives back about half the bytes and keeps recall', () => {
  const r = run(cli, ['compact', '--quick', '--json', '--quiet', '--out', join(tmp, 'results')]);
  expect(r.status).toBe(0);
  const results = JSON.parse(r.stdout).suites.compact.results;
  expect(results.map((x: { share: number }) => x.share)).toEqual([0, 0.5]);
  const [none, half] = results;
  expect(none.live).toBe(10000);
  expect(half.live).toBeGreaterThan(4500);
  expect(half.live).toBeLessThan(5500);
  expect(half.bytesAfter).toBeLessThan(half.bytesBefore * 0.6);
  for (const x of results) {
    for (let i = 0; i < x.compacted.length; i++)
      expect(x.compacted[i].recall).toBeGreaterThanOrEqual(x.tombstoned[i].recall - 0.03);
  }
});
