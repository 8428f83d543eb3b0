/**
 * Random tasks over caches sharing a store that delays, fails writes before or after landing,
 * with small maxAgents / maxBytes / budget, evictions, flushes, closes. Checks each lease's receipt:
 * 'saved' => its op is in the final store (exactly once over a versioned store);
 * 'dropped' => its op is not in the final store; after a flush that resolved or rejected with
 * ConflictError, a lease released before the call is not 'unsaved'.
 */
import { ConflictError, Engine, MemoryStore, type Agent, type AgentCache, type ByteStore } from '../../src/index';
import type { ConditionalWrite, StoreVersion } from '../../src/stores/byte-store';
import { rng } from '../helpers/random';

interface Knobs {
  versioned: boolean;
  caches: number;
  failBefore: number;
  failAfter: number;
  maxAgents: number;
  maxBytes?: number;
  budget?: number;
  hold: boolean; // hold leases across awaits (flushes may run meanwhile)
  tasks?: number;
  ops?: number;
  agents?: number;
  log?: string[];
  sameEngine?: boolean;
  cap?: number;
}

/** A store over `inner` whose calls wait and whose writes fail before or after landing; versioned follows the PostgresStore contract for lost answers. */
function flaky(inner: MemoryStore, next: () => number, k: Knobs, c = 0) {
  const L = (m: string) => k.log?.push(`c${c} ${m}`);
  const pause = () => new Promise<void>((r) => setTimeout(r, Math.floor(next() * 3)));
  const doubt = new Map<string, { expected: StoreVersion | null; version: StoreVersion; bytes: Uint8Array }>();
  const s = {
    calm: false,
    async read(key: string) {
      await pause();
      return inner.read(key);
    },
    async write(key: string, bytes: Uint8Array) {
      await pause();
      if (!s.calm && next() < k.failBefore) throw new Error('write failed before');
      await inner.write(key, bytes);
      if (!s.calm && next() < k.failAfter) throw new Error('write failed after');
    },
    async readVersioned(key: string) {
      await pause();
      const r = await inner.readVersioned(key);
      L(`readV ${key} -> ${r.version}`);
      return r;
    },
    async writeIfVersion(key: string, bytes: Uint8Array, expected: StoreVersion | null): Promise<ConditionalWrite> {
      await pause();
      if (!s.calm && next() < k.failBefore) {
        L(`wIV ${key} exp=${expected} failBefore`);
        throw new Error('write failed before');
      }
      const caller = expected;
      const d = doubt.get(key);
      doubt.delete(key);
      let landedEarlier = false;
      if (d !== undefined && d.expected === expected) {
        const same = d.bytes.length === bytes.length && d.bytes.every((b, i) => b === bytes[i]);
        if (same) {
          L(`wIV ${key} exp=${expected} same as doubt -> ok ${d.version}`);
          return { ok: true, version: d.version };
        }
        expected = d.version;
        landedEarlier = true;
      }
      const r = await inner.writeIfVersion(key, bytes, expected);
      L(
        `wIV ${key} exp=${expected}${landedEarlier ? ' (cont. doubt)' : ''} -> ${r.ok ? 'ok' : 'refused'} ${r.version} len=${bytes.length}`,
      );
      if (!r.ok) return landedEarlier ? { ...r, uncertain: true } : r;
      if (!s.calm && next() < k.failAfter) {
        doubt.set(key, { expected: caller, version: r.version!, bytes: bytes.slice() });
        L(`   ...then failAfter`);
        throw new Error('write failed after');
      }
      return r;
    },
    delete: (key: string) => inner.delete(key),
    keys: () => inner.keys(),
  };
  if (!k.versioned) {
    delete (s as Partial<typeof s>).readVersioned;
    delete (s as Partial<typeof s>).writeIfVersion;
  }
  return s;
}

const storeErr = (e: unknown) =>
  /write failed/.test(String(e)) || /write failed/.test(String((e as { cause?: unknown })?.cause));

async function run(seed: number, k: Knobs): Promise<string[]> {
  const problems: string[] = [];
  const inner = new MemoryStore();
  const engines = k.sameEngine
    ? Array(k.caches).fill(await Engine.create(k.budget ? { budgetBytes: k.budget } : {}))
    : await Promise.all(
        Array.from({ length: k.caches }, () => Engine.create(k.budget ? { budgetBytes: k.budget } : {})),
      );
  const stores = engines.map((_, c) => flaky(inner, rng(seed * 31 + c), k, c));
  const caches: AgentCache[] = engines.map((e, c) =>
    e.createAgentCache({
      store: stores[c] as ByteStore,
      qtable: { actions: 2 },
      trajectoryCapacity: k.cap ?? 2048,
      maxAgents: k.maxAgents,
      ...(k.maxBytes ? { maxBytes: k.maxBytes } : {}),
    }),
  );
  const leases: { lease: Agent; op: number; c: number; firstSaved?: boolean; firstDropped?: boolean }[] = [];
  const released = caches.map(() => [] as { lease: Agent; op: number }[]);
  const observe = () => {
    for (const l of leases) {
      const o = l.lease.outcome;
      if (o === 'saved') l.firstSaved = true;
      if (o === 'dropped' || o === 'unknown') l.firstDropped = true;
      if (l.firstSaved && o !== 'saved') problems.push(`op ${l.op}: saved then ${o}`);
    }
  };
  const flush = async (c: number, who: string) => {
    const before = released[c].slice();
    try {
      k.log?.push(`c${c} flush start`);
      await caches[c].flush();
      k.log?.push(`c${c} flush ok`);
    } catch (e) {
      k.log?.push(`c${c} flush ${String(e).slice(0, 60)}`);
      if (e instanceof ConflictError) {
        /* fine */
      } else if (storeErr(e)) return;
      else if (/closing or closed|disposed/i.test(String(e))) return;
      else throw e;
    }
    for (const r of before) {
      const o = r.lease.outcome;
      if (o === 'unsaved' || o === 'leased') problems.push(`op ${r.op}: ${o} after a flush (${who}) that resolved`);
    }
  };
  let opNo = 0;
  const TASKS = k.tasks ?? 3;
  const OPS = k.ops ?? 30;
  const AGENTS = k.agents ?? 6;
  const task = async (c: number, t: number) => {
    const next = rng(seed * 1000 + c * 10 + t);
    for (let n = 0; n < OPS; n++) {
      const id = `a${Math.floor(next() * AGENTS)}`;
      const op = ++opNo;
      let lease: Agent;
      try {
        lease = await caches[c].get(id);
      } catch (e) {
        k.log?.push(`c${c} get ${String(e).slice(0, 50)}`);
        if (storeErr(e) || /budget|E_BUDGET/i.test(String(e))) continue;
        throw e;
      }
      lease.trajectory.push(op, 0, 0, 0);
      k.log?.push(`c${c} push op ${op}`);
      const rec = { lease, op, c };
      leases.push(rec);
      if (k.hold) for (let i = Math.floor(next() * 3); i > 0; i--) await new Promise((r) => setImmediate(r));
      lease.release();
      released[c].push({ lease, op });
      observe();
      const r = next();
      if (r < 0.3) await flush(c, `task ${t}`);
      else if (r < 0.4)
        await caches[c]
          .evict(1)
          .then((n) => k.log?.push(`c${c} evicted ${n}`))
          .catch((e) => {
            if (!storeErr(e)) throw e;
          });
      else if (r < 0.6) await new Promise((res) => setTimeout(res, Math.floor(next() * 3)));
      observe();
    }
  };
  await Promise.all(caches.flatMap((_, c) => Array.from({ length: TASKS }, (_, t) => task(c, t))));
  // a first close may fail; then calm and close again
  for (const cache of caches) await cache.close().catch((e) => k.log?.push(`close1 ${String(e).slice(0, 60)}`));
  observe();
  k.log?.push('calm');
  for (const s of stores) s.calm = true;
  for (const cache of caches)
    await cache.close().catch((e) => {
      if (!(e instanceof ConflictError)) throw e;
    });
  observe();
  for (const e of new Set(engines)) e.dispose();
  const reader = await Engine.create();
  const rc = reader.createAgentCache({ store: inner, qtable: { actions: 2 }, trajectoryCapacity: 2048 });
  const where = new Map<number, number>();
  for (const id of await inner.keys()) {
    const ops = await rc.use(id, (a) => Array.from(a.trajectory.toBatch().states));
    for (const op of ops) where.set(op, (where.get(op) ?? 0) + 1);
    k.log?.push(`final ${id}: ${ops.join(',')}`);
  }
  reader.dispose();
  k.log?.push(leases.map((l) => `op ${l.op}:${l.lease.outcome}`).join(' '));
  for (const l of leases) {
    const o = l.lease.outcome;
    const n = where.get(l.op) ?? 0;
    if (l.firstSaved && n === 0) problems.push(`op ${l.op}: saved but not in store (now ${o})`);
    if (n > 1) problems.push(`op ${l.op}: ${n} times in store`);
    if (o === 'dropped' && n > 0) problems.push(`op ${l.op}: dropped but in store`);
    if (!k.versioned && k.caches === 1 && (o === 'unsaved' || o === 'leased'))
      problems.push(`op ${l.op}: ${o} after calm close`);
  }
  return problems;
}

const cases: [string, Knobs][] = [
  [
    'versioned 2 caches, fail before',
    { versioned: true, caches: 2, failBefore: 0.1, failAfter: 0, maxAgents: 3, hold: false },
  ],
  [
    'versioned 2 caches, fail after',
    { versioned: true, caches: 2, failBefore: 0, failAfter: 0.1, maxAgents: 3, hold: false },
  ],
  [
    'versioned 2 caches, both',
    { versioned: true, caches: 2, failBefore: 0.05, failAfter: 0.05, maxAgents: 2, hold: false },
  ],
  [
    'versioned 1 cache, fail after, maxBytes',
    { versioned: true, caches: 1, failBefore: 0.05, failAfter: 0.1, maxAgents: 4, maxBytes: 60000, hold: false },
  ],
  [
    'plain 1 cache, fail before+after',
    { versioned: false, caches: 1, failBefore: 0.1, failAfter: 0.1, maxAgents: 2, hold: false },
  ],
  [
    'plain 1 cache, maxBytes',
    { versioned: false, caches: 1, failBefore: 0.05, failAfter: 0.05, maxAgents: 5, maxBytes: 60000, hold: false },
  ],
  [
    'versioned budget',
    {
      versioned: true,
      caches: 2,
      failBefore: 0.05,
      failAfter: 0.05,
      maxAgents: 50,
      budget: 1 << 20,
      cap: 16384,
      hold: false,
    },
  ],
  [
    'versioned 2 caches one engine budget',
    {
      versioned: true,
      caches: 2,
      failBefore: 0.05,
      failAfter: 0.05,
      maxAgents: 50,
      budget: 1 << 20,
      cap: 12000,
      hold: false,
      sameEngine: true,
    },
  ],
  [
    'plain 1 cache budget',
    {
      versioned: false,
      caches: 1,
      failBefore: 0.1,
      failAfter: 0.1,
      maxAgents: 50,
      budget: 1 << 20,
      cap: 16384,
      hold: false,
    },
  ],
  [
    'versioned 3 caches fail both small',
    { versioned: true, caches: 3, failBefore: 0.1, failAfter: 0.1, maxAgents: 1, hold: false, agents: 3 },
  ],
  [
    'versioned 2 caches fail after, often',
    { versioned: true, caches: 2, failBefore: 0, failAfter: 0.2, maxAgents: 3, hold: false },
  ],
  [
    'versioned 2 caches hold',
    { versioned: true, caches: 2, failBefore: 0.05, failAfter: 0.05, maxAgents: 3, hold: true },
  ],
  ['plain 1 cache hold', { versioned: false, caches: 1, failBefore: 0.1, failAfter: 0.1, maxAgents: 2, hold: true }],
];

describe.each(cases)('%s', (_name, k) => {
  test.each([1, 2, 3, 4])('seed %i', async (seed) => {
    const problems = await run(seed, k);
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
