// Suite `fleet`: processes sharing agents. N worker processes (bench/lib/fleet-worker.js, each its
// own engine and agent cache) x M agents over one PostgresStore table, each op `use` (a
// transition pushed, a Q update) + `flush`, done again on ConflictError: ops per second over all
// processes, conflicts per second, P50/P95 of one op (use + flush, retries included). Beside it the
// same workload in one process over a FileStore (a FileStore directory takes one writing process),
// and over PostgresStore in one process. PostgreSQL: --pg <connectionString>, else a throw-away
// cluster (bench/lib/postgres.js: the server binaries, apt-get install postgresql). Each run's
// table is dropped after it. Medians of runs.
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { startPostgres } = require('../lib/postgres.js');
const { silent } = require('../lib/progress.js');
const { median, percentile, table } = require('../lib/stats.js');

const WORKER = join(__dirname, '..', 'lib', 'fleet-worker.js');

/** Starts one worker process; resolves its JSON result line, rejects if it fails. */
function worker(spec) {
  const proc = spawn(process.execPath, [WORKER, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let ready;
  const isReady = new Promise((resolve) => (ready = resolve));
  proc.stdout.on('data', (d) => {
    out += d.toString();
    if (out.startsWith('ready\n')) ready();
  });
  proc.stderr.on('data', (d) => (err += d.toString()));
  const result = new Promise((resolve, reject) =>
    proc.on('close', (code) => {
      ready();
      if (code === 0) resolve(JSON.parse(out.slice('ready\n'.length)));
      else reject(new Error(`fleet worker ${spec.worker} exited with ${code}: ${err}`));
    }),
  );
  return { proc, isReady, result };
}

/** One run: `processes` workers started together; ops/s over all, conflicts/s, latencies. */
async function runOnce(spec, processes) {
  const workers = Array.from({ length: processes }, (_, w) => worker({ ...spec, worker: w }));
  await Promise.all(workers.map((w) => w.isReady));
  for (const w of workers) w.proc.stdin.write('go\n');
  const results = await Promise.all(workers.map((w) => w.result));
  const seconds = Math.max(...results.map((r) => r.ms)) / 1000;
  const ops = processes * spec.ops;
  const conflicts = results.reduce((n, r) => n + r.conflicts, 0);
  const latencies = results.flatMap((r) => r.latencies);
  return {
    opsPerSecond: ops / seconds,
    conflictsPerSecond: conflicts / seconds,
    conflicts,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

async function run({ quick = false, pg, progress = silent } = {}) {
  const ops = quick ? 100 : 300;
  const runs = quick ? 1 : 3;
  const agentCounts = quick ? [12] : [12, 120];
  const processCounts = quick ? [1, 4] : [1, 2, 4];
  const server = pg ? { connectionString: pg, stop() {} } : startPostgres();
  const { Pool } = require('pg');
  const admin = new Pool({ connectionString: server.connectionString, max: 1 });
  admin.on('error', () => undefined);
  const rows = [];
  let tables = 0;
  try {
    for (const agents of agentCounts) {
      const configs = [
        { store: 'file', processes: 1 },
        ...processCounts.map((processes) => ({ store: 'pg', processes })),
      ];
      for (const config of configs) {
        const measured = [];
        for (let r = 0; r < runs; r++) {
          progress.step(`${config.store} x ${config.processes} processes, ${agents} agents, run ${r + 1}/${runs}`);
          const dir = mkdtempSync(join(tmpdir(), 'elex-fleet-bench-'));
          const spec = {
            store: config.store,
            connectionString: server.connectionString,
            table: `elex_fleet_bench_${process.pid}_${++tables}`,
            dir,
            ops,
            agents,
            seed: r + 1,
          };
          try {
            measured.push(await runOnce(spec, config.processes));
          } finally {
            rmSync(dir, { recursive: true, force: true });
            if (config.store === 'pg') await admin.query(`DROP TABLE IF EXISTS "${spec.table}"`);
          }
        }
        const med = (key) => median(measured.map((m) => m[key]));
        rows.push({
          store: config.store === 'pg' ? 'PostgresStore' : 'FileStore',
          processes: config.processes,
          agents,
          opsPerSecond: med('opsPerSecond'),
          conflictsPerSecond: med('conflictsPerSecond'),
          p50: med('p50'),
          p95: med('p95'),
          runs: measured,
        });
      }
    }
  } finally {
    await admin.end();
    server.stop();
  }
  const lines = [];
  for (const agents of agentCounts) {
    const base = rows.find((r) => r.agents === agents && r.store === 'FileStore');
    lines.push(
      `${agents} agents, ${ops} ops per process; medians of ${runs} run${runs === 1 ? '' : 's'}.\n`,
      table(
        [
          'store',
          'processes',
          'ops/s (all processes)',
          'vs FileStore, 1 process',
          'conflicts/s',
          'P50 use+flush',
          'P95 use+flush',
        ],
        rows
          .filter((r) => r.agents === agents)
          .map((r) => [
            r.store,
            r.processes,
            r.opsPerSecond.toFixed(0),
            `${(r.opsPerSecond / base.opsPerSecond).toFixed(2)}x`,
            r.conflictsPerSecond.toFixed(1),
            `${r.p50.toFixed(2)} ms`,
            `${r.p95.toFixed(2)} ms`,
          ]),
      ),
      '',
    );
  }
  lines.push(
    "An op: use (a transition pushed, a Q update) on an agent drawn uniformly, then flush; a flush rejected with ConflictError naming the agent is redone on the reloaded agent, and the op's latency includes its retries. ops/s: all processes' ops over the slowest process's time from a common start. A FileStore directory takes one writing process (E_LOCKED for a second), so its row is one process.",
  );
  return {
    suite: 'fleet',
    params: {
      quick,
      ops,
      runs,
      agents: agentCounts,
      processes: processCounts,
      pg: pg ? 'given' : 'throw-away cluster',
    },
    results: rows,
    table: lines.join('\n'),
    notes: [],
  };
}

const requires = ['pg'];

module.exports = { run, requires };
