/**
 * ElexStore crash safety in Node: a child process (tests/langgraph/crash/elex-store-child.cjs,
 * using the built package by name) runs seeded steps on a store with autoFlush over a FileStore,
 * printing each step once its put has resolved; it is SIGKILLed at a random moment, 10 times
 * over, each run carrying on from what the previous one left. After every kill the store opens
 * to exactly the state after some step n: the last acknowledged one, or the next (killed after
 * its write committed, before the print). Every acknowledged put is there; the vectors answer
 * queries for the items held.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, FileStore } from '../../src/index';
import { ElexStore, type ElexStoreIndexConfig } from '../../src/langgraph/index';
import { BUILDS } from '../helpers/engines';
import { cleanTempDirs, tempDir } from '../helpers/index-store';
import { runAndKill } from '../helpers/kill-child';
import { rng } from '../helpers/random';

const { INDEX, itemsAfter, lastStep } = require('./crash/elex-store-workload.cjs') as {
  INDEX: ElexStoreIndexConfig;
  itemsAfter: (n: number) => Map<string, { text: string; i: number }>;
  lastStep: (store: ElexStore) => Promise<number>;
};

const root = join(__dirname, '..', '..');
const child = join(__dirname, 'crash', 'elex-store-child.cjs');
const KILLS = 10;
const simd = BUILDS[0];

afterAll(cleanTempDirs);

test(`SIGKILLed ${KILLS} times while writing, a FileStore opens with every acknowledged put`, async () => {
  expect(existsSync(join(root, 'dist', 'cjs', 'langgraph', 'index.js'))).toBe(true); // run `npm run build` first
  const engine = await Engine.create({ simd });
  const dir = join(tempDir('elex-langgraph-crash-'), 'store');
  const delays = rng(25);
  let at = 0;
  let acked = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const { out } = await runAndKill([child, dir, simd], 60 + Math.floor(delays() * 500));
    const steps = out
      .split('\n')
      .filter((l) => l.startsWith('acked '))
      .map((l) => Number(l.slice('acked '.length)));
    acked += steps.length;
    const last = steps.length > 0 ? steps[steps.length - 1] : at;
    const store = await ElexStore.open({ store: new FileStore(dir), index: INDEX, engine });
    const n = await lastStep(store);
    expect([last, last + 1]).toContain(n);
    const items = await store.search([], { limit: 1e6 });
    const expected = itemsAfter(n);
    expect(new Map(items.map((item) => [item.key, item.value]))).toEqual(expected);
    if (n > 0) {
      const hit = (await store.search(['u'], { query: `memory ${n}`, limit: 1 }))[0];
      expect(hit).toMatchObject({ key: `k${n}` });
      expect(hit.score).toBeCloseTo(1, 5);
    }
    store.dispose();
    at = n;
  }
  expect(acked).toBeGreaterThan(KILLS); // the children did write between kills
  engine.dispose();
}, 120_000);
