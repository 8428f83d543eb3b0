/**
 * Index stores, incremental saves: after 1% of the vectors changed a save writes a log segment
 * of a few percent of the checkpoint at most (bytes counted by a wrapping store); the log never
 * passes its share of the checkpoint (a save writes a new checkpoint instead, exactly when the
 * next segment would pass it, by the record sizes of docs/format.md); many cycles of random
 * adds, replaces, removes and failing calls, saved and sometimes reopened, open to the index the
 * same operations build without any saving, byte for byte (both builds); calls that fail
 * (budget included) are not logged.
 */
import { BudgetExceededError, MemoryStore, type Engine, type SaveResult, type VectorIndex } from '../../src/index';
import { decodeManifest, partBytes } from '../../src/hnsw/store/manifest';
import { BUILDS, engine } from '../helpers/engines';
import { readFvecs } from '../helpers/data';
import { CountingStore, digest, expectModel, randomOps, type Model } from '../helpers/index-store';

const DIM = 128;
const base = readFvecs('sift128_base.fvecs');
const row = (i: number) => base.data.subarray(i * DIM, (i + 1) * DIM);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Log record sizes (docs/format.md, EXLG v2): an add of n rows with w words of recorded
 * neighbours, a remove; a segment's header and CRC.
 */
const addRecord = (n: number, dim: number, w: number) => 12 + 4 * n * (1 + dim) + 4 * w;
const REMOVE_RECORD = 8;
const SEGMENT = 20;

/** Trace words of the adds `index` recorded for (store, name) since its last save there, in order. */
function pendingLinkWords(index: VectorIndex, store: MemoryStore, name: string): number[] {
  const ops = index.journal.binding(store, name)!.takeLog().ops;
  return ops.flatMap((op) => (op.kind === 'add' ? [op.links!.length] : []));
}

/** Checkpoint and log bytes the store's manifest of `name` names. */
async function stored(store: MemoryStore, name: string): Promise<{ checkpoint: number; log: number; parts: number }> {
  const key = `@index/${name}/manifest`;
  const m = decodeManifest((await store.read(key))!, key);
  return {
    checkpoint: partBytes(m.parts[0]),
    log: m.parts.slice(1).reduce((n, p) => n + partBytes(p), 0),
    parts: m.parts.length,
  };
}

let e: Engine;
beforeAll(async () => {
  e = await engine(BUILDS[0]);
});
afterAll(() => e.dispose());

test('after 1% of 5,000 SIFT vectors changed, a save writes under 2% of the first one', async () => {
  const index = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 100 });
  index.addBatch(range(0, 5000), base.data.subarray(0, 5000 * DIM));
  const store = new CountingStore(new MemoryStore());
  const full = await index.save(store, 'sift');
  expect(full.kind).toBe('checkpoint');
  expect(store.bytesWritten).toBe(full.bytesWritten);
  expect(full.bytesWritten).toBeGreaterThan(index.serialize().length);
  // 1%: 25 new vectors, 15 replaced, 10 removed.
  for (let i = 0; i < 25; i++) index.add(5000 + i, row(5000 + i));
  for (let i = 0; i < 15; i++) index.add(i * 300, row(6000 + i));
  for (let i = 0; i < 10; i++) index.remove(i * 300 + 7);
  const before = store.bytesWritten;
  const incremental = await index.save(store, 'sift');
  expect(incremental.kind).toBe('log');
  expect(store.bytesWritten - before).toBe(incremental.bytesWritten);
  const share = incremental.bytesWritten / full.bytesWritten;
  process.stdout.write(
    `index-store: 1% changed -> ${incremental.bytesWritten} of ${full.bytesWritten} bytes (${(100 * share).toFixed(2)}%)\n`,
  );
  expect(share).toBeLessThan(0.02);
  expect(digest(await e.openIndex(store, 'sift'))).toBe(digest(index));
});

test('the log stays within logShare of the checkpoint: a save writes a checkpoint exactly when the next segment would pass it', async () => {
  const index = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 60 });
  index.addBatch(range(0, 1000), base.data.subarray(0, 1000 * DIM));
  const store = new MemoryStore();
  const logShare = 0.1;
  await index.save(store, 'sift', { logShare });
  let next = 1000;
  const kinds: string[] = [];
  for (let round = 0; round < 12; round++) {
    const before = await stored(store, 'sift');
    // Changes worth 1.5-4% of the vectors: single adds, one batch, removes.
    let segment = SEGMENT;
    const adds = 10 + ((round * 7) % 20);
    const rows: number[] = [];
    for (let i = 0; i < adds; i++, next++) {
      index.add(next, row(next));
      rows.push(1);
    }
    index.addBatch([next, next + 1, next], base.data.subarray(next * DIM, (next + 3) * DIM));
    rows.push(3);
    next += 3;
    for (let i = 0; i < 5; i++) {
      if (index.remove(round * 40 + i)) segment += REMOVE_RECORD;
    }
    // Each row records two header words and up to M neighbours per layer (M 16; levels stay
    // below 4 here), and a row taking a removed slot also the repair of its old neighbours: per
    // layer up to 2M (layer 0) or M of them, one word and their 16-bit positions each.
    const links = pendingLinkWords(index, store, 'sift');
    if (before.log + SEGMENT <= logShare * before.checkpoint) {
      expect(links.length).toBe(rows.length);
      links.forEach((w, i) => {
        expect(w).toBeGreaterThanOrEqual(rows[i] * 3);
        expect(w).toBeLessThanOrEqual(rows[i] * (2 + 4 * 17 + 32 * 17 + 3 * 16 * 9));
        segment += addRecord(rows[i], DIM, w);
      });
    } else {
      segment = Infinity;
    }
    const result: SaveResult = await index.save(store, 'sift', { logShare });
    kinds.push(result.kind);
    const after = await stored(store, 'sift');
    if (before.log + segment > logShare * before.checkpoint) {
      expect(result.kind).toBe('checkpoint');
      expect(after).toEqual({ checkpoint: index.serialize().length, log: 0, parts: 1 });
    } else {
      expect(result.kind).toBe('log');
      expect(after).toEqual({ checkpoint: before.checkpoint, log: before.log + segment, parts: before.parts + 1 });
    }
    expect(after.log).toBeLessThanOrEqual(logShare * after.checkpoint);
  }
  expect(kinds).toContain('checkpoint');
  expect(kinds.filter((k) => k === 'log').length).toBeGreaterThan(4);
  expect(digest(await e.openIndex(store, 'sift'))).toBe(digest(index));
  // Changes past the share without a save: the index stops recording and checkpoints next.
  for (let i = 0; i < 200; i++, next++) index.add(next, row(next));
  expect((await index.save(store, 'sift', { logShare })).kind).toBe('checkpoint');
  // logShare 0: every save a checkpoint.
  index.remove(next - 1);
  expect((await index.save(store, 'sift', { logShare: 0 })).kind).toBe('checkpoint');
});

describe.each(BUILDS)('simd %s', (simd) => {
  test('40 cycles of random changes, saves and reopens open to the index the same operations build unsaved', async () => {
    const eng = await engine(simd);
    const store = new MemoryStore();
    const IDS = 600;
    const options = { dim: 12, metric: 'l2' as const, M: 6, efConstruction: 40, seed: 99 };
    let index: VectorIndex = eng.createIndex(options);
    const model: Model = new Map();
    const kinds = new Set<string>();
    for (let cycle = 0; cycle < 40; cycle++) {
      const count = cycle === 0 ? 300 : 5 + ((cycle * 13) % 40);
      randomOps(index, model, 1000 + cycle, count, IDS);
      kinds.add((await index.save(store, 'cycles', { chunkBytes: 2048, logShare: 0.3 })).kind);
      if (cycle % 7 === 3) {
        // Carry on from a freshly opened copy: it must pick up exactly where the saved one was.
        const opened = await eng.openIndex(store, 'cycles');
        expect(digest(opened)).toBe(digest(index));
        index.dispose();
        index = opened;
      }
    }
    // The reference replays the same seeded streams, unsaved.
    const refModel: Model = new Map();
    const fresh = eng.createIndex(options);
    for (let cycle = 0; cycle < 40; cycle++)
      randomOps(fresh, refModel, 1000 + cycle, cycle === 0 ? 300 : 5 + ((cycle * 13) % 40), IDS);
    const opened = await eng.openIndex(store, 'cycles');
    expectModel(opened, refModel, IDS);
    expect(digest(opened)).toBe(digest(fresh));
    expect(digest(index)).toBe(digest(fresh));
    expect([...kinds].sort()).toEqual(['checkpoint', 'log']);
    eng.dispose();
  });
});

test('a batch refused for the budget is not logged', async () => {
  const small = await engine(BUILDS[0], { budgetBytes: 1 << 20 });
  const index = small.createIndex({ dim: 64, metric: 'l2', efConstruction: 20 });
  const rows = (n: number, seed: number) => Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * 0.37 + seed));
  index.addBatch(range(0, 100), rows(100, 1));
  const store = new MemoryStore();
  await index.save(store, 'tight');
  index.addBatch(range(100, 120), rows(20, 2));
  expect(() => index.addBatch(range(1000, 9000), rows(8000, 3))).toThrow(BudgetExceededError);
  index.remove(5);
  expect((await index.save(store, 'tight')).kind).toBe('log');
  const roomy = await engine(BUILDS[0]);
  const opened = await roomy.openIndex(store, 'tight');
  expect(opened.size).toBe(119);
  expect(digest(opened)).toBe(digest(index));
  small.dispose();
  roomy.dispose();
});
