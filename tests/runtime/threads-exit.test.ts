/**
 * docs/threads.md: "In Node the workers are unref()'d: an engine never disposed does not keep
 * the process alive". A child process makes a 2-thread engine, runs work on its threads, and
 * never disposes it: it must exit by itself, with its output complete.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

const CHILD = `
const { Engine } = require('elex-wasm');
(async () => {
  const engine = await Engine.create({ threads: 2, budgetBytes: 16 << 20, simd: process.argv[1] });
  const index = engine.createIndex({ dim: 4, metric: 'l2' });
  for (let i = 0; i < 200; i++) index.add(i, [i, i % 7, i % 3, 1]);
  const batch = await index.searchBatchAsync(new Float32Array(40).fill(1), 3);
  process.stdout.write('threads ' + engine.threads + ' rows ' + batch.counts.length + '\\n');
})();
`;

test.each(['on', 'off'])('a 2-thread engine never disposed lets the process exit (simd %s)', (simd) => {
  // Generous: the child only has to start, search and exit; a kept-alive one never exits.
  const run = spawnSync(process.execPath, ['-e', CHILD, simd], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect({ signal: run.signal, status: run.status, stderr: run.stderr }).toEqual({
    signal: null,
    status: 0,
    stderr: '',
  });
  expect(run.stdout).toBe('threads 2 rows 10\n');
});
