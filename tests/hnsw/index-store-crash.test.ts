/**
 * Index stores, crash safety in Node: a child process (tests/hnsw/crash/index-store-child.cjs, using
 * the built package by name) applies seeded steps to an index and saves it to a FileStore after
 * each, printing every committed save; it is SIGKILLed at a random moment, 15 times over, each
 * run carrying on from what the previous one left. After every kill, openIndex yields exactly
 * one committed state: the last one the child printed, or the next one when the kill came after
 * its manifest landed but before the print. Never a mixture, never an untyped error. Leftovers
 * of the interrupted save are removed by the next save. The states are rebuilt here from the
 * same seeded steps (tests/hnsw/crash/index-store-workload.cjs) and compared by sha256 of serialize().
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, FileStore, StoreError, type VectorIndex } from '../../src/index';
import { decodeManifest } from '../../src/hnsw/store/manifest';
import { partKeys } from '../../src/hnsw/store/store-io';
import { BUILDS } from '../helpers/engines';
import { cleanTempDirs, digest, tempDir } from '../helpers/index-store';
import { runAndKill } from '../helpers/kill-child';
import { rng } from '../helpers/random';

const { OPTIONS, applyStep } = require('./crash/index-store-workload.cjs') as {
  OPTIONS: { dim: number; metric: 'l2' };
  applyStep: (index: VectorIndex, step: number) => void;
};

const root = join(__dirname, '..', '..');
const child = join(__dirname, 'crash', 'index-store-child.cjs');
const KILLS = 15;
const simd = BUILDS[0];

afterAll(cleanTempDirs);

interface Run {
  committed: Array<{ step: number; generation: number; digest: string }>;
  stderr: string;
}

/** Runs the child from step `from` and SIGKILLs it `delayMs` after it is ready: the saves it committed. */
async function runChild(dir: string, from: number, delayMs: number): Promise<Run> {
  const { out, stderr } = await runAndKill([child, dir, String(from), simd], delayMs);
  const committed = out
    .split('\n')
    .filter((l) => l.startsWith('committed '))
    .map((l) => {
      const [, step, generation, hash] = l.split(' ');
      return { step: Number(step), generation: Number(generation), digest: hash };
    });
  return { committed, stderr };
}

test(`SIGKILLed ${KILLS} times while saving, a FileStore always opens to exactly one committed state`, async () => {
  expect(existsSync(join(root, 'dist', 'cjs', 'hnsw', 'store', 'save.js'))).toBe(true); // run `npm run build` first
  const engine = await Engine.create({ simd });
  // Reference states: digest after steps 1..k, built here without any saving.
  const reference = engine.createIndex(OPTIONS);
  const states: string[] = ['(none)'];
  const stateAfter = (k: number): string => {
    while (states.length <= k) {
      applyStep(reference, states.length);
      states.push(digest(reference));
    }
    return states[k];
  };
  const dir = join(tempDir(), 'store');
  const store = new FileStore(dir);
  const delays = rng(77);
  let at = 0; // the state the store opened to after the previous kill
  let leftoverRuns = 0;
  let committedSaves = 0;
  const seen: string[] = [];
  for (let kill = 0; kill < KILLS; kill++) {
    const run = await runChild(dir, at, 40 + Math.floor(delays() * 700));
    for (const c of run.committed) expect(c.digest).toBe(stateAfter(c.step)); // a stale dist/ fails here: npm run build
    committedSaves += run.committed.length;
    const last = run.committed.length > 0 ? run.committed[run.committed.length - 1].step : at;
    let opened: VectorIndex | undefined;
    try {
      opened = await engine.openIndex(store, 'crash');
    } catch (error) {
      // Only before the very first save ever committed: no index of that name yet.
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('E_STORE');
      expect(last).toBe(0);
      seen.push('none');
      continue;
    }
    const got = digest(opened);
    const candidates = [last, last + 1].filter((k) => k > 0);
    const match = candidates.find((k) => stateAfter(k) === got);
    expect({ kill, last, state: match }).toEqual({ kill, last, state: expect.any(Number) });
    at = match!;
    seen.push(at === last ? 'printed' : 'landed');
    // Keys of this name the manifest does not name: what the killed save left behind.
    const key = '@index/crash/manifest';
    const manifest = decodeManifest((await store.read(key))!, key);
    const named = new Set([key, ...manifest.parts.flatMap((p) => partKeys('crash', p))]);
    if ((await store.keys()).some((k) => !named.has(k))) leftoverRuns++;
    opened.dispose();
  }
  // A last save from here removes every leftover.
  const final = await engine.openIndex(store, 'crash');
  applyStep(final, at + 1);
  await final.save(store, 'crash');
  expect(digest(final)).toBe(stateAfter(at + 1));
  const key = '@index/crash/manifest';
  const manifest = decodeManifest((await store.read(key))!, key);
  expect((await store.keys()).sort()).toEqual([key, ...manifest.parts.flatMap((p) => partKeys('crash', p))].sort());
  process.stdout.write(
    `index-store crash: ${KILLS} kills, ${committedSaves} committed saves, final step ${at + 1}; ` +
      `after each kill: ${seen.join(' ')}; leftovers after ${leftoverRuns} kills\n`,
  );
  expect(committedSaves).toBeGreaterThan(KILLS);
  engine.dispose();
}, 300_000);
