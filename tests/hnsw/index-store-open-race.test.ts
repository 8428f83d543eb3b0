/**
 * Opens racing other writers' saves: an open whose chunks are removed by checkpoints committed
 * while it reads starts over (up to 16 times), and a failing manifest re-read is StoreError,
 * never CorruptSnapshotError.
 */
import {
  CorruptSnapshotError,
  Engine,
  MemoryStore,
  StoreError,
  type ByteStore,
  type VectorIndex,
} from '../../src/index';

let e: Engine;
beforeAll(async () => {
  e = await Engine.create();
});
afterAll(() => e.dispose());
const row = (id: number) => [Math.sin(id), Math.cos(id), Math.sin(id * 0.7), 1];

test('an open while another writer commits checkpoints returns a committed state, never CorruptSnapshotError', async () => {
  const inner = new MemoryStore();
  const w = e.createIndex({ dim: 4, metric: 'l2', seed: 1 });
  for (let id = 0; id < 30; id++) w.add(id, row(id));
  await w.save(inner, 'docs');
  let next = 100;
  let saves = 0;
  // The reader's store: every time the open reads a chunk, the writer commits a checkpoint first
  // (logShare 0), which removes the chunks the open's manifest names.
  const reader: ByteStore = {
    read: async (key) => {
      if (!key.endsWith('/manifest') && saves < 10) {
        saves++;
        w.add(next, row(next++));
        await w.save(inner, 'docs', { logShare: 0 });
      }
      return inner.read(key);
    },
    write: (k, b) => inner.write(k, b),
    delete: (k) => inner.delete(k),
    keys: () => inner.keys(),
  };
  let ix: VectorIndex | undefined;
  let error: unknown;
  try {
    ix = await e.openIndex(reader, 'docs');
  } catch (err) {
    error = err;
  }
  expect(error).not.toBeInstanceOf(CorruptSnapshotError);
  expect(error).toBeUndefined();
  ix?.dispose();
  w.dispose();
});

test('an open whose chunk vanished (another writer saved) and whose manifest re-read fails gives StoreError, not CorruptSnapshotError', async () => {
  const inner = new MemoryStore();
  const w = e.createIndex({ dim: 4, metric: 'l2', seed: 1 });
  for (let id = 0; id < 30; id++) w.add(id, row(id));
  await w.save(inner, 'docs');
  let manifestReads = 0;
  let saved = false;
  const reader: ByteStore = {
    read: async (key) => {
      if (key.endsWith('/manifest') && ++manifestReads === 2) throw new Error('read failed (transient)');
      if (!key.endsWith('/manifest') && !saved) {
        saved = true;
        w.add(500, row(500));
        await w.save(inner, 'docs', { logShare: 0 });
      }
      return inner.read(key);
    },
    write: (k, b) => inner.write(k, b),
    delete: (k) => inner.delete(k),
    keys: () => inner.keys(),
  };
  const error = await e.openIndex(reader, 'docs').catch((err: unknown) => err);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as Error).message).toMatch(/read failed/);
  w.dispose();
});
