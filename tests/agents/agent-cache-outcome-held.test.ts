/**
 * Receipts of leases held across a write: a lease held while a flush wrote part of its changes,
 * then dropped by a conflict, is 'unknown' (some changes are stored: redoing would apply them
 * twice), not 'dropped'; a lease close() ended is saved only once close's snapshot is written
 * (refused: not 'saved'; a store error: 'unsaved'); a lease whose engine was disposed is never
 * 'saved' for changes made after the last write.
 */
import { ConflictError, Engine, MemoryStore, type AgentCache, type ByteStore } from '../../src/index';

const opts = (store: ByteStore) => ({ store, qtable: { actions: 2 }, trajectoryCapacity: 4096 });
const states = (cache: AgentCache, id: string) => cache.use(id, (a) => Array.from(a.trajectory.toBatch().states));

test('flush while held, then a conflict: unknown (op 1 is stored), and not redone it stays once', async () => {
  const [e1, e2] = await Promise.all([Engine.create(), Engine.create()]);
  const store = new MemoryStore();
  const mine = e1.createAgentCache(opts(store));
  const theirs = e2.createAgentCache(opts(store));
  const lease = await mine.get('x');
  lease.trajectory.push(1, 0, 0, 0);
  await mine.flush(); // another task flushes while the lease is held: op 1 lands
  // another process reads x (with op 1) and writes it
  await theirs.use('x', (a) => a.trajectory.push(100, 0, 0, 0));
  await theirs.flush();
  lease.release();
  await expect(mine.flush()).rejects.toBeInstanceOf(ConflictError);
  const outcome = lease.outcome;
  // redo as the docs say if 'dropped'
  if (outcome === 'dropped') {
    await mine.use('x', (a) => a.trajectory.push(1, 0, 0, 0));
    await mine.flush();
  }
  await Promise.all([mine.close(), theirs.close()]);
  const reader = await Engine.create();
  const got = await states(reader.createAgentCache(opts(store)), 'x');
  reader.dispose();
  e1.dispose();
  e2.dispose();
  expect(outcome).toBe('unknown');
  expect(got).toEqual([1, 100]); // op 1 once
});

test('flush while held, op 2, close refused: not saved (op 2 is not stored)', async () => {
  const [e1, e2] = await Promise.all([Engine.create(), Engine.create()]);
  const store = new MemoryStore();
  const mine = e1.createAgentCache(opts(store));
  const theirs = e2.createAgentCache(opts(store));
  const lease = await mine.get('x');
  lease.trajectory.push(1, 0, 0, 0);
  await mine.flush();
  await theirs.use('x', (a) => a.trajectory.push(100, 0, 0, 0));
  await theirs.flush();
  lease.trajectory.push(2, 0, 0, 0);
  await expect(mine.close()).rejects.toBeInstanceOf(ConflictError);
  const stored = await states(theirs, 'x');
  expect(stored).toEqual([1, 100]); // op 2 is not in the store
  expect(lease.outcome).toBe('unknown'); // op 1 is stored, op 2 is not
  await theirs.close();
  e1.dispose();
  e2.dispose();
});

test('flush while held, op 2, close fails with a store error: unsaved', async () => {
  const e = await Engine.create();
  const inner = new MemoryStore();
  let fail = false;
  const store: ByteStore = {
    read: (k) => inner.read(k),
    write: async (k, b) => {
      if (fail) throw new Error('down');
      return inner.write(k, b);
    },
    delete: (k) => inner.delete(k),
    keys: () => inner.keys(),
  };
  const cache = e.createAgentCache(opts(store));
  const lease = await cache.get('x');
  lease.trajectory.push(1, 0, 0, 0);
  await cache.flush();
  lease.trajectory.push(2, 0, 0, 0);
  fail = true;
  await expect(cache.close()).rejects.toThrow();
  const reader = await Engine.create();
  const stored = await states(reader.createAgentCache(opts(inner)), 'x');
  reader.dispose();
  expect(stored).toEqual([1]);
  expect(lease.outcome).toBe('unsaved'); // close again
  e.dispose();
});

test.each(['release', 'close'])(
  'engine disposed under a lease held across a flush, then %s: not saved (op 2 never written)',
  async (how) => {
    const e = await Engine.create();
    const store = new MemoryStore();
    const cache = e.createAgentCache(opts(store));
    const lease = await cache.get('a');
    lease.trajectory.push(1, 0, 0, 0);
    await cache.flush(); // op 1 lands while held
    lease.trajectory.push(2, 0, 0, 0); // never written
    e.dispose();
    if (how === 'release') lease.release();
    else await cache.close().catch(() => undefined);
    const reader = await Engine.create();
    const got = await reader.createAgentCache(opts(store)).use('a', (a) => Array.from(a.trajectory.toBatch().states));
    reader.dispose();
    expect(got).toEqual([1]);
    expect(lease.outcome).toBe('unsaved');
  },
);
