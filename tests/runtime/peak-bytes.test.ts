/**
 * engine.peakUsedBytes: the most usedBytes has been since creation or resetPeakUsedBytes(). It
 * follows every allocation (growth included), never drops when memory is freed, and starts over
 * at usedBytes on reset. Measured with it, saving an index (serialize, serializeChunks, save to
 * a store: checkpoint and log) costs no engine memory beyond a small fixed scratch, and loading
 * or opening one (a log replayed included) costs the index itself plus that scratch.
 */
import { DisposedError, MemoryStore, type Engine, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';

const DIM = 32;
const N = 3000;
const data = randomVectors(N + 300, DIM, 9);
const ids = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
/** Scratch any call may stage beyond the objects (staging blocks, search heaps, the trace of a batch chunk). */
const SCRATCH = 64 * 1024;

/** Runs body with the peak reset; returns how far the peak rose above usedBytes before it. */
async function peakRise(e: Engine, body: () => unknown): Promise<number> {
  e.resetPeakUsedBytes();
  const before = e.usedBytes;
  expect(e.peakUsedBytes).toBe(before);
  await body();
  expect(e.peakUsedBytes).toBeGreaterThanOrEqual(e.usedBytes);
  return e.peakUsedBytes - before;
}

describe.each(BUILDS)('simd %s', (simd) => {
  test('the peak follows allocations, stays after frees, and starts over on reset', async () => {
    const e = await engine(simd);
    const start = e.usedBytes;
    expect(e.peakUsedBytes).toBeGreaterThanOrEqual(start);
    const index = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 20 });
    index.addBatch(ids(0, 1000), data.subarray(0, 1000 * DIM));
    const full = e.usedBytes;
    expect(e.peakUsedBytes).toBeGreaterThanOrEqual(full);
    index.dispose();
    expect(e.usedBytes).toBeLessThan(full);
    expect(e.peakUsedBytes).toBeGreaterThanOrEqual(full);
    e.resetPeakUsedBytes();
    expect(e.peakUsedBytes).toBe(e.usedBytes);
    e.dispose();
    expect(() => e.resetPeakUsedBytes()).toThrow(DisposedError);
    expect(() => e.peakUsedBytes).toThrow(DisposedError);
  });

  test('saving costs only scratch; loading and opening cost the index plus scratch', async () => {
    const e = await engine(simd);
    const index: VectorIndex = e.createIndex({ dim: DIM, metric: 'l2', efConstruction: 40, seed: 3 });
    const before = e.usedBytes;
    index.addBatch(ids(0, N), data.subarray(0, N * DIM));
    const indexBytes = e.usedBytes - before;
    expect(indexBytes).toBeGreaterThan(N * DIM * 4);

    let bytes: Uint8Array = new Uint8Array(0);
    expect(
      await peakRise(e, () => {
        bytes = index.serialize();
      }),
    ).toBeLessThan(SCRATCH);
    expect(
      await peakRise(e, () => {
        for (const piece of index.serializeChunks(4096)) expect(piece.length).toBeLessThanOrEqual(4096);
      }),
    ).toBeLessThan(SCRATCH);
    const store = new MemoryStore();
    expect(await peakRise(e, () => index.save(store, 'peak'))).toBeLessThan(SCRATCH);
    // 10% more rows and some removes, saved as a log segment (traced adds stage one chunk's trace).
    const more = await peakRise(e, () => index.addBatch(ids(N, N + 300), data.subarray(N * DIM)));
    for (let id = 0; id < 100; id++) index.remove(id * 7);
    expect(await peakRise(e, async () => expect((await index.save(store, 'peak')).kind).toBe('log'))).toBeLessThan(
      SCRATCH,
    );

    const loadRise = await peakRise(e, () => e.loadIndex(bytes).dispose());
    expect(loadRise).toBeGreaterThanOrEqual(indexBytes - SCRATCH);
    expect(loadRise).toBeLessThan(indexBytes + SCRATCH);
    const openRise = await peakRise(e, async () => {
      const opened = await e.openIndex(store, 'peak');
      expect(opened.size).toBe(index.size);
      opened.dispose();
    });
    expect(openRise).toBeLessThan(indexBytes + more + SCRATCH);
    e.dispose();
  });
});
