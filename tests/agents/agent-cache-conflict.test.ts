/**
 * Two agent caches (two engines, as two processes would have) over one versioned store
 * (MemoryStore): a cache whose agent another cache changed since it loaded it gets ConflictError
 * (E_CONFLICT, naming the agent) from flush, its copy is dropped and the next get reloads the
 * newest state, the other agents of that flush are still written, `stats.conflicts` counts it.
 * The same through an eviction (reported by the next flush), a lease held across the conflict,
 * two caches creating one new agent, and close(). Over an unversioned store (the same MemoryStore
 * behind the four plain methods) the same interleaving loses the other cache's update: the
 * reason versions exist, and what these tests would see without them.
 */
import {
  ConflictError,
  ElexError,
  MemoryStore,
  isVersioned,
  type AgentCache,
  type AgentStore,
  type Engine,
} from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { rejection } from '../helpers/errors';

const QT = { actions: 4 };

/** The same MemoryStore with only read, write, delete and keys: unversioned. */
function plain(inner: MemoryStore): AgentStore {
  return {
    read: (k) => inner.read(k),
    write: (k, b) => inner.write(k, b),
    delete: (k) => inner.delete(k),
    keys: () => inner.keys(),
  };
}

/** Appends op `op` to agent `id` (a transition whose state is the op id). */
function append(cache: AgentCache, id: string, op: number): Promise<void> {
  return cache.use(id, (agent) => agent.trajectory.push(op, 0, 0, 0));
}

/** The op ids agent `id` holds in `cache` (loading it if need be). */
function ops(cache: AgentCache, id: string): Promise<number[]> {
  return cache.use(id, (agent) => Array.from(agent.trajectory.toBatch().states));
}

function expectConflict(error: unknown, agents: string[]): void {
  expect(error).toBeInstanceOf(ConflictError);
  expect(error).toBeInstanceOf(ElexError);
  expect((error as ConflictError).code).toBe('E_CONFLICT');
  expect([...(error as ConflictError).agents].sort()).toEqual([...agents].sort());
}

describe.each(BUILDS)('agent cache conflicts over a versioned store (simd %s)', (simd) => {
  let e1: Engine;
  let e2: Engine;
  let store: MemoryStore;
  let a: AgentCache;
  let b: AgentCache;
  /** A third reader: what the store holds, through a fresh cache. */
  const stored = async (id: string) => {
    const e = await engine(simd);
    try {
      return await ops(e.createAgentCache({ qtable: QT, store }), id);
    } finally {
      e.dispose();
    }
  };

  /** a writes op 1 to x, then b loads x and writes op 2: a's x is stale. */
  const staleX = async () => {
    await append(a, 'x', 1);
    await a.flush();
    await append(b, 'x', 2);
    await b.flush();
  };

  beforeEach(async () => {
    e1 = await engine(simd);
    e2 = await engine(simd);
    store = new MemoryStore();
    a = e1.createAgentCache({ qtable: QT, store });
    b = e2.createAgentCache({ qtable: QT, store });
  });
  afterEach(() => {
    e1.dispose();
    e2.dispose();
  });

  test('MemoryStore is versioned: conditional writes refuse a stale version', async () => {
    expect(isVersioned(store)).toBe(true);
    expect(isVersioned(plain(store))).toBe(false);
    expect(await store.readVersioned('k')).toEqual({ bytes: undefined, version: null });
    const first = await store.writeIfVersion('k', new Uint8Array([1]), null);
    expect(first.ok).toBe(true);
    expect(await store.writeIfVersion('k', new Uint8Array([2]), null)).toEqual({ ok: false, version: first.version });
    await store.write('k', new Uint8Array([3])); // a plain write moves the version too
    const now = await store.readVersioned('k');
    expect(now.version).not.toBe(first.version);
    expect(await store.writeIfVersion('k', new Uint8Array([4]), first.version)).toEqual({
      ok: false,
      version: now.version,
    });
    expect(Array.from((await store.read('k'))!)).toEqual([3]);
    await store.delete('k');
    const again = await store.writeIfVersion('k', new Uint8Array([5]), null); // deleted: absent again
    expect(again.ok).toBe(true);
    expect([first.version, now.version]).not.toContain(again.version);
  });

  test('a stale flush rejects with ConflictError, drops the agent, writes the others; the next get reloads the newest', async () => {
    await append(a, 'x', 1);
    await append(a, 'y', 1);
    await a.flush();
    expect(await ops(b, 'x')).toEqual([1]);
    await append(b, 'x', 2);
    await b.flush();

    await append(a, 'x', 3); // a's x is stale: it never saw op 2
    await append(a, 'y', 3);
    expectConflict(await rejection(a.flush()), ['x']);
    expect(a.stats.conflicts).toBe(1);
    expect(a.has('x')).toBe(false);
    expect(a.has('y')).toBe(true);
    expect(await stored('x')).toEqual([1, 2]); // b's update kept, a's refused
    expect(await stored('y')).toEqual([1, 3]); // the other agent of the failed flush: written

    expect(await ops(a, 'x')).toEqual([1, 2]); // reloaded: the newest
    await append(a, 'x', 3); // the work redone on the fresh copy
    await a.flush(); // a conflict is reported once
    expect(await stored('x')).toEqual([1, 2, 3]);
    expect(a.stats.conflicts).toBe(1);
  });

  test('two caches creating the same new agent: the second flush conflicts', async () => {
    await append(a, 'n', 1);
    await append(b, 'n', 2);
    await a.flush();
    expectConflict(await rejection(b.flush()), ['n']);
    expect(await ops(b, 'n')).toEqual([1]);
  });

  test('an eviction that conflicts drops the agent without failing the get; the next flush reports it', async () => {
    const small = e1.createAgentCache({ qtable: QT, store, maxAgents: 1 });
    await append(small, 'x', 1);
    await small.flush();
    await append(b, 'x', 2);
    await b.flush();
    await append(small, 'x', 3);
    await append(small, 'z', 1); // evicts x: its write is refused
    expect(small.has('x')).toBe(false);
    expect(small.stats.conflicts).toBe(1);
    expect(small.stats.evictions).toBe(0);
    expectConflict(await rejection(small.flush()), ['x']);
    await small.flush();
    expect(await stored('x')).toEqual([1, 2]);
    expect(await stored('z')).toEqual([1]);
  });

  test('a lease held across the conflict stays usable until released; a get meanwhile loads the newest', async () => {
    await staleX();
    const held = await a.get('x');
    held.trajectory.push(3, 0, 0, 0);
    expectConflict(await rejection(a.flush()), ['x']);
    expect(a.has('x')).toBe(false);
    expect(Array.from(held.trajectory.toBatch().states)).toEqual([1, 3]); // still valid
    expect(await ops(a, 'x')).toEqual([1, 2]); // a second copy, the store's
    expect(a.stats.leases).toBe(1);
    held.release();
    expect(held.released).toBe(true);
    expect(a.stats.leases).toBe(0);
    expect(a.size).toBe(1);
    await append(a, 'x', 4);
    await a.flush();
    expect(await stored('x')).toEqual([1, 2, 4]);
  });

  test('close() frees a dropped agent still leased: the lease goes inert, nothing of it is written', async () => {
    await staleX();
    const held = await a.get('x');
    held.trajectory.push(3, 0, 0, 0);
    expectConflict(await rejection(a.flush()), ['x']);
    const used = e1.usedBytes;
    await a.close();
    expect(held.released).toBe(true);
    expect(() => held.q).toThrow(expect.objectContaining({ code: 'E_DISPOSED' }));
    expect(e1.usedBytes).toBeLessThan(used); // its objects were freed
    expect(a.stats).toMatchObject({ leases: 0, pinned: 0, residentBytes: 0 });
    expect(await stored('x')).toEqual([1, 2]);
  });

  test('close() rejects with ConflictError for a stale agent and writes the others', async () => {
    await staleX();
    await append(a, 'x', 3);
    await append(a, 'w', 3);
    expectConflict(await rejection(a.close()), ['x']);
    await a.close(); // nothing left to retry
    expect(await stored('x')).toEqual([1, 2]);
    expect(await stored('w')).toEqual([3]);
  });

  test('a store error takes precedence: the conflict is reported by the next flush, once the other agent is written', async () => {
    let failY = true;
    const failing: AgentStore = {
      ...plain(store),
      readVersioned: (k) => store.readVersioned(k),
      writeIfVersion: async (k, bytes, expected) => {
        if (k === 'y' && failY) throw new Error('disk on fire');
        return store.writeIfVersion(k, bytes, expected);
      },
    };
    const c = e1.createAgentCache({ qtable: QT, store: failing });
    await append(c, 'x', 1);
    await c.flush();
    await append(b, 'x', 2);
    await b.flush();
    await append(c, 'x', 3);
    await append(c, 'y', 3);
    const first = await rejection(c.flush());
    expect(first).toMatchObject({ code: 'E_STORE' }); // y not written: not a ConflictError that leaves y out
    expect(c.has('x')).toBe(false);
    failY = false;
    expectConflict(await rejection(c.flush()), ['x']); // y written now
    expect(await stored('y')).toEqual([3]);
    await c.flush();
  });

  test('a refusal the store marks uncertain is in ConflictError.uncertain as well as agents', async () => {
    // A versioned store of one's own whose next refusal says an earlier attempt may have landed.
    let mark = false;
    const marking: AgentStore = {
      ...plain(store),
      readVersioned: (k) => store.readVersioned(k),
      writeIfVersion: async (k, bytes, expected) => {
        const result = await store.writeIfVersion(k, bytes, expected);
        return !result.ok && mark ? { ...result, uncertain: true } : result;
      },
    };
    const c = e1.createAgentCache({ qtable: QT, store: marking });
    await append(c, 'x', 1);
    await append(c, 'y', 1);
    await c.flush();
    await append(b, 'x', 2);
    await append(b, 'y', 2);
    await b.flush();
    await append(c, 'x', 3);
    mark = true;
    const first = await rejection(c.flush());
    expectConflict(first, ['x']);
    expect((first as ConflictError).uncertain).toEqual(['x']);
    mark = false;
    await append(c, 'y', 3);
    const second = await rejection(c.flush());
    expectConflict(second, ['y']);
    expect((second as ConflictError).uncertain).toEqual([]);
  });

  test('without versions the same interleaving loses the other cache update (last writer wins)', async () => {
    const unversioned = plain(store);
    const p = e1.createAgentCache({ qtable: QT, store: unversioned });
    const q = e2.createAgentCache({ qtable: QT, store: unversioned });
    await append(p, 'x', 1);
    await p.flush();
    await append(q, 'x', 2);
    await q.flush(); // acknowledged
    await append(p, 'x', 3);
    await p.flush(); // no conflict detected
    expect(await stored('x')).toEqual([1, 3]); // op 2 lost
  });
});
