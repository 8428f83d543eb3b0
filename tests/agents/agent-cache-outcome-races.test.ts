/**
 * Lease receipts (`agent.outcome`) through deterministic interleavings with a store whose writes
 * wait for a gate: an eviction in flight while a get takes the agent again, a conflict then,
 * writes coalescing behind a failing one, writes that land and then fail, close() failing and
 * retried: every receipt matches what the store holds.
 */
import { ConflictError, Engine, MemoryStore, type Agent, type AgentCache, type ByteStore } from '../../src/index';
import type { StoreVersion } from '../../src/stores/byte-store';

const opts = (store: ByteStore, more = {}) => ({ store, qtable: { actions: 2 }, trajectoryCapacity: 256, ...more });
const turn = () => new Promise((r) => setImmediate(r));

function gated(inner: MemoryStore, versioned: boolean) {
  const gates: Array<() => void> = [];
  const s = {
    hold: false,
    failNext: '' as '' | 'before' | 'after',
    gates,
    async wait() {
      if (s.hold) await new Promise<void>((r) => gates.push(r));
    },
    fail(when: 'before' | 'after') {
      if (s.failNext === when) {
        s.failNext = '';
        throw new Error(`write failed ${when}`);
      }
    },
    read: (k: string) => inner.read(k),
    async write(k: string, b: Uint8Array) {
      await s.wait();
      s.fail('before');
      await inner.write(k, b);
      s.fail('after');
    },
    readVersioned: (k: string) => inner.readVersioned(k),
    async writeIfVersion(k: string, b: Uint8Array, e: StoreVersion | null) {
      await s.wait();
      s.fail('before');
      return inner.writeIfVersion(k, b, e);
    },
    delete: (k: string) => inner.delete(k),
    keys: () => inner.keys(),
  };
  if (!versioned) {
    delete (s as Partial<typeof s>).readVersioned;
    delete (s as Partial<typeof s>).writeIfVersion;
  }
  return s;
}
const open = (s: ReturnType<typeof gated>) => {
  s.hold = false;
  for (const g of s.gates.splice(0)) g();
};
async function stored(inner: MemoryStore, id: string): Promise<number[]> {
  const e = await Engine.create();
  const ops = await e.createAgentCache(opts(inner)).use(id, (a) => Array.from(a.trajectory.toBatch().states));
  e.dispose();
  return ops;
}
async function leaseOf(cache: AgentCache, id: string, op: number): Promise<Agent> {
  let lease!: Agent;
  await cache.use(id, (a) => {
    lease = a;
    a.trajectory.push(op, 0, 0, 0);
  });
  return lease;
}

test.each([true, false])(
  'eviction in flight, get re-takes the agent, pushes, releases (versioned %s)',
  async (versioned) => {
    const e = await Engine.create();
    const inner = new MemoryStore();
    const s = gated(inner, versioned);
    const cache = e.createAgentCache(opts(s as ByteStore));
    const l1 = await leaseOf(cache, 'x', 1);
    s.hold = true;
    const ev = cache.evict(1);
    await turn();
    const l2 = await leaseOf(cache, 'x', 2); // hit on the agent being written out
    const f = cache.flush(); // l2 released before the call
    await turn();
    open(s);
    expect(await ev).toBe(0);
    await f;
    expect([l1.outcome, l2.outcome]).toEqual(['saved', 'saved']);
    expect(await stored(inner, 'x')).toEqual([1, 2]);
    await cache.close();
    e.dispose();
  },
);

test('eviction in flight refused by a conflict while re-taken: both dropped, neither stored', async () => {
  const [e1, e2] = await Promise.all([Engine.create(), Engine.create()]);
  const inner = new MemoryStore();
  const s = gated(inner, true);
  const mine = e1.createAgentCache(opts(s as ByteStore));
  const theirs = e2.createAgentCache(opts(inner));
  await leaseOf(mine, 'x', 0);
  await mine.flush();
  const l1 = await leaseOf(mine, 'x', 1);
  await leaseOf(theirs, 'x', 100);
  await theirs.flush();
  s.hold = true;
  const ev = mine.evict(1);
  await turn();
  const l2 = await mine.get('x'); // re-taken while the eviction's write waits
  l2.trajectory.push(2, 0, 0, 0);
  open(s);
  await ev;
  l2.release();
  await expect(mine.flush()).rejects.toBeInstanceOf(ConflictError);
  expect([l1.outcome, l2.outcome]).toEqual(['dropped', 'dropped']);
  expect(await stored(inner, 'x')).toEqual([0, 100]);
  await mine.close();
  await theirs.close();
  e1.dispose();
  e2.dispose();
});

test.each([true, false])('coalesced writes: three flushes behind a running one (versioned %s)', async (versioned) => {
  const e = await Engine.create();
  const inner = new MemoryStore();
  const s = gated(inner, versioned);
  const cache = e.createAgentCache(opts(s as ByteStore));
  const l1 = await leaseOf(cache, 'x', 1);
  s.hold = true;
  const f1 = cache.flush();
  const l2 = await leaseOf(cache, 'x', 2);
  const f2 = cache.flush();
  const l3 = await leaseOf(cache, 'x', 3);
  const f3 = cache.flush(); // replaces f2's waiting write
  s.failNext = 'before'; // the running write (op 1) fails
  open(s);
  await expect(f1).rejects.toThrow(/write failed/);
  await Promise.all([f2, f3]);
  expect([l1.outcome, l2.outcome, l3.outcome]).toEqual(['saved', 'saved', 'saved']);
  expect(await stored(inner, 'x')).toEqual([1, 2, 3]);
  await cache.close();
  e.dispose();
});

test('plain store: eviction write lands then throws; the agent stays; flush saves it once', async () => {
  const e = await Engine.create();
  const inner = new MemoryStore();
  const s = gated(inner, false);
  const cache = e.createAgentCache(opts(s as ByteStore));
  const l1 = await leaseOf(cache, 'x', 1);
  s.failNext = 'after';
  await expect(cache.evict(1)).rejects.toThrow(/write failed/);
  expect(l1.outcome).toBe('unsaved');
  const l2 = await leaseOf(cache, 'x', 2);
  await cache.flush();
  expect([l1.outcome, l2.outcome]).toEqual(['saved', 'saved']);
  expect(await stored(inner, 'x')).toEqual([1, 2]);
  await cache.close();
  e.dispose();
});

test('close fails, held lease made inert, close retried', async () => {
  const e = await Engine.create();
  const inner = new MemoryStore();
  const s = gated(inner, true);
  const cache = e.createAgentCache(opts(s as ByteStore));
  const l1 = await leaseOf(cache, 'x', 1);
  const held = await cache.get('x');
  held.trajectory.push(2, 0, 0, 0);
  s.failNext = 'before';
  await expect(cache.close()).rejects.toThrow(/write failed/);
  expect([l1.outcome, held.outcome]).toEqual(['unsaved', 'unsaved']);
  held.release(); // inert
  await cache.close();
  expect([l1.outcome, held.outcome]).toEqual(['saved', 'saved']);
  expect(await stored(inner, 'x')).toEqual([1, 2]);
  e.dispose();
});

test('two concurrent close() calls, the first write failing', async () => {
  const e = await Engine.create();
  const inner = new MemoryStore();
  const s = gated(inner, true);
  const cache = e.createAgentCache(opts(s as ByteStore));
  const l1 = await leaseOf(cache, 'x', 1);
  s.hold = true;
  const c1 = cache.close();
  const c2 = cache.close();
  await turn();
  await turn();
  s.failNext = 'before';
  open(s);
  await Promise.allSettled([c1, c2]);
  await cache.close(); // retried: writes what the failed close kept
  expect(await stored(inner, 'x')).toEqual([1]);
  expect(l1.outcome).toBe('saved');
  e.dispose();
});

test('a get waiting on a load when close is called', async () => {
  const e = await Engine.create();
  const inner = new MemoryStore();
  const cache = e.createAgentCache(opts(inner, { maxAgents: 1 }));
  await leaseOf(cache, 'a', 1);
  const g = cache.get('b');
  const c = cache.close();
  const lease = await g.catch((x) => x);
  if (!(lease instanceof Error)) {
    let pushed = true;
    try {
      lease.trajectory.push(2, 0, 0, 0);
    } catch {
      pushed = false;
    }
    lease.release();
    await c;
    if (pushed && lease.outcome === 'saved') expect(await stored(inner, 'b')).toEqual([2]);
  } else await c;
  expect(await stored(inner, 'a')).toEqual([1]);
  e.dispose();
});
