/**
 * A throw-away PostgreSQL cluster for the PostgresStore tests: Debian's binaries
 * (/usr/lib/postgresql/<version>/bin, or ELEX_PG_BIN, or initdb on the PATH), initdb into a
 * temporary folder (as the `postgres` user through runuser when running as root: initdb refuses
 * root), a server listening only on a unix socket in that folder, removed at the end. No mock:
 * where no server can be started, `postgresOrSkip` says why and the tests skip, except in CI
 * (CI set, as tests/helpers/browser.ts reads it), where that is a failure (.ci/run installs Debian's postgresql).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PORT = 5432;

/** Where the binaries are, or why there are none. */
export function findPostgres(): { bin: string } | { reason: string } {
  const candidates: string[] = [];
  if (process.env.ELEX_PG_BIN) candidates.push(process.env.ELEX_PG_BIN); // only there when set
  const debian = '/usr/lib/postgresql';
  if (!process.env.ELEX_PG_BIN && existsSync(debian)) {
    for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, v, 'bin'));
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (!process.env.ELEX_PG_BIN && which.status === 0 && which.stdout.trim())
    candidates.push(join(which.stdout.trim(), '..'));
  const bin = candidates.find((d) => ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(d, b))));
  if (bin === undefined)
    return {
      reason: `no PostgreSQL server binaries (initdb, pg_ctl) ${process.env.ELEX_PG_BIN ? `in ELEX_PG_BIN=${process.env.ELEX_PG_BIN}` : 'found: apt-get install postgresql, or set ELEX_PG_BIN'}`,
    };
  if (process.getuid?.() === 0) {
    if (spawnSync('id', ['-u', 'postgres']).status !== 0)
      return { reason: "running as root and there is no 'postgres' user for initdb" };
    if (spawnSync('sh', ['-c', 'command -v runuser']).status !== 0)
      return { reason: 'running as root without runuser' };
  }
  return { bin };
}

/** A running throw-away server. */
export class PostgresServer {
  readonly dir: string;
  readonly data: string;
  readonly connectionString: string;

  private constructor(private readonly bin: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'elex-pg-'));
    this.data = join(this.dir, 'data');
    this.connectionString = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(this.dir)}&port=${PORT}`;
  }

  /** initdb and start. Throws (with the server's log) if it cannot. */
  static start(bin: string): PostgresServer {
    const server = new PostgresServer(bin);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(server.dir, uid, gid);
      chmodSync(server.dir, 0o700);
    }
    server.run('initdb', ['-D', server.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '-N']);
    server.restart();
    return server;
  }

  /** Runs a PostgreSQL binary (as `postgres` when root). */
  private run(name: string, args: string[]): string {
    const file = join(this.bin, name);
    const [cmd, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000, cwd: this.dir });
    if (r.status !== 0) {
      const log = existsSync(join(this.dir, 'log')) ? readFileSync(join(this.dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${name} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}\n${log}`);
    }
    return r.stdout;
  }

  /** Starts the server (after initdb, or after kill(): crash recovery), waiting until it accepts connections. */
  restart(): void {
    const options = `-k ${this.dir} -p ${PORT} -c listen_addresses='' -c fsync=off -c max_connections=50`;
    this.run('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  }

  /** The postmaster's pid. */
  get pid(): number {
    return Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /**
   * SIGKILLs the postmaster and every backend (a server killed outright: open connections reset,
   * new ones refused). Returns once they are gone. fsync=off is safe for this: a killed process
   * loses nothing the kernel already has, and every commit wrote its WAL there.
   */
  kill(): void {
    const postmaster = this.pid;
    const victims = [postmaster, ...childrenOf(postmaster)];
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const deadline = Date.now() + 10_000;
    while (victims.some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  }

  /** Stops the server at once and removes its folder. */
  stop(): void {
    try {
      if (existsSync(join(this.data, 'postmaster.pid')))
        this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * `describe` when a server can be started here, else `describe.skip` with the reason printed;
 * in CI a missing server fails instead. Use with `let server` set in beforeAll by
 * `PostgresServer.start(found.bin)`.
 */
export function postgresOrSkip(): { describe: jest.Describe; bin: string } {
  const found = findPostgres();
  if ('bin' in found) return { describe, bin: found.bin };
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') {
    test('a PostgreSQL server can be started (CI is set)', () => {
      throw new Error(`CI is set but ${found.reason}`);
    });
  } else {
    process.stdout.write(`PostgreSQL tests skipped: ${found.reason}\n`);
  }
  return { describe: describe.skip, bin: '' };
}
