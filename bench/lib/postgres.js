// A throw-away PostgreSQL cluster for `elex-bench fleet` (as the tests start one): Debian's
// binaries (/usr/lib/postgresql/<version>/bin, or ELEX_PG_BIN, or initdb on the PATH), initdb into
// a temporary folder (as the `postgres` user through runuser when running as root: initdb refuses
// root), a server listening only on a unix socket in that folder, stopped and removed by stop().
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The folder holding initdb, pg_ctl and postgres, or throws an Error saying why there is none. */
function findBinaries() {
  const candidates = [];
  if (process.env.ELEX_PG_BIN) candidates.push(process.env.ELEX_PG_BIN);
  else {
    const debian = '/usr/lib/postgresql';
    if (existsSync(debian))
      for (const v of readdirSync(debian).sort((a, b) => Number(b) - Number(a)))
        candidates.push(join(debian, v, 'bin'));
    const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
    if (which.status === 0 && which.stdout.trim()) candidates.push(join(which.stdout.trim(), '..'));
  }
  const bin = candidates.find((d) => ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(d, b))));
  if (bin === undefined)
    throw new Error(
      'no PostgreSQL server binaries (initdb, pg_ctl) found: apt-get install postgresql, set ELEX_PG_BIN, or pass --pg <connectionString>',
    );
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0)
    throw new Error("running as root and there is no 'postgres' user for initdb: pass --pg <connectionString>");
  return bin;
}

/** Starts a throw-away cluster; returns { connectionString, stop() }. Throws (with the server's log) if it cannot. */
function startPostgres() {
  const bin = findBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'elex-bench-pg-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  if (root) {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, id('-u'), id('-g'));
    chmodSync(dir, 0o700);
  }
  const pg = (name, args) => {
    const file = join(bin, name);
    const [cmd, argv] = root ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000, cwd: dir });
    if (r.status !== 0) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${name} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}\n${log}`);
    }
  };
  try {
    pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '-N']);
    const options = `-k ${dir} -p 5432 -c listen_addresses='' -c max_connections=100`;
    pg('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    connectionString: `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(dir)}&port=5432`,
    stop() {
      try {
        pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

module.exports = { startPostgres };
