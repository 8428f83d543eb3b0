/**
 * The elex-bench CLI (bench/cli.js): --version, progress on stderr with stdout left clean, the
 * tables' captions, the persist suite's measurements, and a clear message (no stack trace) when the optional 'benchmark' package
 * is missing, checked in a copy of the package installed into a temp dir without it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const cli = join(root, 'bench', 'cli.js');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const env = { ...process.env, NODE_PATH: '' };

function run(script: string, args: string[], cwd = root): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { cwd, env, encoding: 'utf8', timeout: 60000 });
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
      expect(r.stderr).not.toContain('elex-bench: cache');   // checked before any suite ran
    }
  });

  test('the timing helper itself raises the same error when called directly', () => {
    const r = spawnSync(process.execPath, ['-e', `
      try { require(${JSON.stringify(join(pkg, 'bench', 'lib', 'timing.js'))}).micro(() => {}); }
      catch (e) { console.log(JSON.stringify({ name: e.name, packageName: e.packageName, install: e.install })); }`],
    { cwd: join(tmp, 'app'), env, encoding: 'utf8' });
    expect(JSON.parse(r.stdout)).toEqual({ name: 'MissingDependencyError', packageName: 'benchmark', install: 'npm install benchmark' });
  });

  test('--version and the suites that do not need it still run', () => {
    const v = run(join(pkg, 'bench', 'cli.js'), ['--version'], join(tmp, 'app'));
    expect([v.status, v.stdout]).toEqual([0, `${version}\n`]);
    const r = run(join(pkg, 'bench', 'cli.js'), ['cache', '--quick', '--json', '--out', join(tmp, 'app-results')], join(tmp, 'app'));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).suites.cache.results.latencies.hit.median).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/^\[cache\] /m);
  });
});
