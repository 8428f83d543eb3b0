/**
 * docs/agent-cycle.md says `node fleet.mjs` (examples/agent-fleet) prints its block "the same
 * every run": the example runs here, twice, against the built package, and prints exactly that
 * block (its engine-memory line had drifted from 193 to 190 KiB unseen).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('the agent-fleet example prints the block docs/agent-cycle.md shows, the same every run', () => {
  const doc = readFileSync(join(root, 'docs', 'agent-cycle.md'), 'utf8');
  const block = doc.split('prints, the same every run:\n\n```\n')[1]?.split('```')[0];
  expect(block).toBeDefined();
  for (let run = 0; run < 2; run++) {
    const r = spawnSync(process.execPath, ['fleet.mjs'], {
      cwd: join(root, 'examples', 'agent-fleet'),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(block);
  }
});
