/**
 * FileStore crash safety: a child process (tests/stores/crash/agent-store-child.cjs, using the built
 * package by name) writes hundreds of agents through an agent cache over a FileStore, round
 * after round with increasing values, evicting and flushing, and prints every store write it
 * starts and every one that completed. It is SIGKILLed at a random moment, KILLS times, each run
 * carrying on in the same directory. After every kill, a fresh engine and cache over a new
 * FileStore on that directory load every agent: each holds the value of its last completed
 * write, or of the one write that was on its way when the kill came (writes of one agent are
 * ordered, so there is at most one); never an older value, never a torn file (which would be
 * E_CORRUPT). The temporary files the killed write left are gone once the store is first used.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, FileStore } from '../../src/index';
import { runAndKill } from '../helpers/kill-child';
import { rng } from '../helpers/random';

const root = join(__dirname, '..', '..');
const child = join(__dirname, 'crash', 'agent-store-child.cjs');
const KILLS = 15;
const AGENTS = 200;
/** Completed writes a run makes at least before the kill's delay starts. */
const MIN_WRITES = 60;

/** What one run of the child said about an agent: its last completed write, and a write started after it. */
interface Seen {
  done?: number;
  started?: number;
}

/** Runs the child with values from `base` and SIGKILLs it `delayMs` after it is ready and MIN_WRITES writes completed; what it printed, per agent. */
async function runChild(
  dir: string,
  base: number,
  delayMs: number,
): Promise<{ seen: Map<string, Seen>; flushes: number; writes: number }> {
  // The delay starts once MIN_WRITES writes completed: each run does that much work, however loaded the machine.
  const { out } = await runAndKill([child, dir, String(base)], delayMs, { prefix: 'd ', count: MIN_WRITES });
  const seen = new Map<string, Seen>();
  let flushes = 0;
  let writes = 0;
  for (const line of out.split('\n')) {
    const [kind, id, value] = line.split(' ');
    if (kind === 'flushed') flushes++;
    if (kind !== 's' && kind !== 'd') continue;
    const entry = seen.get(id) ?? {};
    if (kind === 's') entry.started = Number(value);
    else {
      writes++;
      expect(entry.started).toBe(Number(value)); // one write of an agent at a time: this one
      entry.done = Number(value);
      entry.started = undefined;
    }
    seen.set(id, entry);
  }
  return { seen, flushes, writes };
}

test(`SIGKILLed ${KILLS} times while writing agents, every agent loads to its last completed write or the one in flight`, async () => {
  expect(existsSync(join(root, 'dist', 'cjs', 'stores', 'file-names.js'))).toBe(true); // run `npm run build` first
  const dir = mkdtempSync(join(tmpdir(), 'elex-crash-'));
  const delays = rng(2024);
  const value = new Map<string, number>(); // what each agent loaded to after the previous kill (absent: never written)
  let writes = 0;
  let flushes = 0;
  let inFlight = 0;
  let tempsLeft = 0;
  const started = Date.now();
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      const run = await runChild(dir, (kill + 1) * 1000, 50 + Math.floor(delays() * 600));
      writes += run.writes;
      flushes += run.flushes;
      if (readdirSync(dir).some((name) => name.endsWith('.tmp'))) tempsLeft++;
      const engine = await Engine.create({ budgetBytes: 64 << 20 });
      const agents = engine.createAgentCache({
        store: new FileStore(dir),
        maxAgents: AGENTS,
        qtable: { actions: 4, alpha: 1 },
        trajectoryCapacity: 64,
      });
      for (let i = 0; i < AGENTS; i++) {
        const id = `agent-${i}`;
        const loaded = await agents.use(id, (a) => (a.q.visits(0, 0) > 0 ? a.q.get(0, 0) : undefined));
        const seen = run.seen.get(id) ?? {};
        const allowed = [seen.done ?? value.get(id), seen.started];
        if (seen.started !== undefined) inFlight++;
        expect({ kill, id, loaded, ok: allowed.includes(loaded) }).toEqual({ kill, id, loaded, ok: true });
        if (loaded !== undefined) value.set(id, loaded);
      }
      expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      engine.dispose(); // not closed: the check writes nothing
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `file-store crash: ${KILLS} kills in ${Date.now() - started} ms, ${writes} completed writes, ${flushes} flushes, ` +
      `${inFlight} agent writes cut by a kill, temp files left by ${tempsLeft} kills (all removed on first use)\n`,
  );
  expect(writes).toBeGreaterThanOrEqual(KILLS * MIN_WRITES);
}, 180_000);
