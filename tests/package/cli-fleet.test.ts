/**
 * `elex-bench fleet` (bench/suites/fleet.js) against a real PostgreSQL (skipped with the reason
 * when no server can be started, a failure under CI=true): `--quick --json` measures one process
 * over a FileStore and 1 and 4 worker processes over PostgresStore, every op acknowledged, and
 * conflicts only where several processes share the agents; without `--pg` it starts a throw-away
 * cluster (bench/lib/postgres.js) and removes it; with `--pg` it runs in the given server and
 * drops its tables after. Not a default suite.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresServer, postgresOrSkip } from '../helpers/postgres';

const root = join(__dirname, '..', '..');
const cli = join(root, 'bench', 'cli.js');

interface Row {
  store: string;
  processes: number;
  agents: number;
  opsPerSecond: number;
  conflictsPerSecond: number;
  p50: number;
  p95: number;
}

function fleet(args: string[], out: string): Row[] {
  const r = spawnSync(process.execPath, [cli, 'fleet', '--quick', '--json', '--quiet', '--out', out, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`elex-bench fleet exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout).suites.fleet.results;
}

function expectRows(rows: Row[]): void {
  expect(rows.map((r) => [r.store, r.processes, r.agents])).toEqual([
    ['FileStore', 1, 12],
    ['PostgresStore', 1, 12],
    ['PostgresStore', 4, 12],
  ]);
  for (const r of rows) {
    expect(r.opsPerSecond).toBeGreaterThan(0);
    expect(r.p95).toBeGreaterThanOrEqual(r.p50);
  }
  expect(rows[0].conflictsPerSecond).toBe(0); // one process alone never conflicts
  expect(rows[1].conflictsPerSecond).toBe(0);
}

const { describe: withServer, bin } = postgresOrSkip();

withServer('elex-bench fleet (real server)', () => {
  let server: PostgresServer;
  let tmp: string;
  beforeAll(() => {
    server = PostgresServer.start(bin);
    tmp = mkdtempSync(join(tmpdir(), 'elex-cli-fleet-'));
  }, 120_000);
  afterAll(() => {
    server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('without --pg: a throw-away cluster, started and removed', () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('elex-bench-pg-'));
    expectRows(fleet([], join(tmp, 'a')));
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('elex-bench-pg-'))).toEqual(before);
  }, 150_000);

  test('--pg <connectionString>: runs in that server (its commits), dropping its tables after', async () => {
    const { Pool } = require('pg');
    const pool = new Pool({ connectionString: server.connectionString });
    const commits = async () =>
      Number(
        (await pool.query("SELECT xact_commit::int AS n FROM pg_stat_database WHERE datname = 'postgres'")).rows[0].n,
      );
    try {
      const before = await commits();
      expectRows(fleet(['--pg', server.connectionString], join(tmp, 'b')));
      await pool.query('SELECT pg_stat_clear_snapshot()');
      expect((await commits()) - before).toBeGreaterThanOrEqual(500); // 100 + 4 x 100 flushes, at least
      const left = await pool.query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'elex_fleet_bench_%'");
      expect(left.rows).toEqual([]);
    } finally {
      await pool.end();
    }
  }, 150_000);
});

test('fleet is not a default suite', () => {
  const r = spawnSync(process.execPath, [cli, '--help'], { cwd: root, encoding: 'utf8' });
  expect(r.stdout).toMatch(/\(default: all but [^)]*\bfleet\b/);
  expect(r.stdout).toContain('--pg');
});
