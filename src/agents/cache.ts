/**
 * AgentCache: many agents (a Q-table and a trajectory buffer each) sharing one engine, backed
 * by a store. `get` returns a lease; a leased agent is never evicted.
 *
 * When it evicts (least recently used unpinned agents first, a batch of
 * `ceil(evictionShare * resident)` at least, each written to the store before it is freed):
 *   - a miss at `maxAgents` (concurrent misses wait for room, so the count never passes it
 *     unless every resident agent stays pinned through a turn of the event loop);
 *   - the cache's own bytes past `maxBytes` (checked at each get);
 *   - an agent that does not fit the budget (evict, retry, until it fits or nothing is left);
 *   - a leased agent's call that does not fit the budget: at once, without waiting for the store
 *     (relieve: snapshots kept in host memory until durable), and the call is tried again;
 *   - other components' memory reaching a new high while the engine is past `evictAt`: one
 *     batch per rise, so an index that holds most of the budget does not make every miss evict
 *     (a batch a store error stopped is evicted again by the next miss).
 *
 * Store writes are ordered per agent (src/agents/writes.ts) and an agent is freed only once
 * its newest state is durable (or, freed for a leased call, held in `unwritten` until it is);
 * `close()` refuses new work at once, waits for what is in flight, then in one synchronous step
 * snapshots every agent that may have changed, frees everything and makes every lease inert,
 * and resolves once those snapshots are durable.
 *
 * Over a versioned store (PostgresStore, MemoryStore) the cache is optimistic: every agent is
 * written only if the store still holds the version it was loaded at (or last wrote). A refused
 * write means another process changed the agent: the cache drops it (a leased one once its last
 * lease ends), the next get reads the newest, and flush (or close) rejects with ConflictError
 * naming every agent dropped since the last flush, evictions' included.
 */
import { Agent, Resident } from './agent.js';
import { decodeAgent, encodeAgent } from './codec.js';
import { checkAgentId } from './id.js';
import { AgentWrites, storeError } from './writes.js';
import { BudgetExceededError, ConflictError, DisposedError, InvalidArgumentError } from '../errors.js';
import type { MemoryMonitor } from '../runtime/monitor.js';
import {
  type QTable,
  createQTable,
  loadQTable,
  resolveQTableOptions,
  type QTableOptions,
  type QTableParams,
} from '../qlearn/qtable.js';
import type { Runtime } from '../runtime/runtime.js';
import { checkByteStore, type AgentStore, type StoreVersion } from '../stores/byte-store.js';
import { MemoryStore } from '../stores/memory-store.js';
import { createTrajectoryBuffer, loadTrajectoryBuffer, type TrajectoryBuffer } from '../qlearn/trajectory.js';
import { trajectoryRingBytes } from '../qlearn/snapshot.js';
import { checkInt, checkNumber, checkOptionNames, optionNames } from '../util/validate.js';
import { NONE } from '../runtime/wasm/exports.js';

/** Options of {@link Engine.createAgentCache}. */
export interface AgentCacheOptions {
  /**
   * Where agents are written.
   *
   * @defaultValue a new {@link MemoryStore}
   */
  store?: AgentStore;
  /**
   * Resident agents at most, 1..1,000,000.
   *
   * @defaultValue `50`
   */
  maxAgents?: number;
  /**
   * Engine bytes the cache's agents may hold (its own share of the budget), >= 1.
   *
   * @defaultValue no limit but the engine's budget
   */
  maxBytes?: number;
  /**
   * Engine usage (usedBytes / budgetBytes) past which other components' growth shrinks the cache, (0, 1].
   *
   * @defaultValue `0.8`
   */
  evictAt?: number;
  /** Options of every agent's Q-table; `seed` is mixed with a hash of the agent id. */
  qtable: QTableOptions;
  /**
   * Transitions each agent's trajectory buffer keeps, 1..2^26.
   *
   * @defaultValue `1000`
   */
  trajectoryCapacity?: number;
}

/** The names AgentCacheOptions has: anything else given to createAgentCache is E_ARGUMENT. */
const AGENT_CACHE_OPTIONS = optionNames<AgentCacheOptions>({
  store: true,
  maxAgents: true,
  maxBytes: true,
  evictAt: true,
  qtable: true,
  trajectoryCapacity: true,
});

/** Counters of an AgentCache since it was created, and its state now. */
export interface AgentCacheStats {
  /** Gets served by a resident agent or by a load another get had started. */
  hits: number;
  /** Gets that started a load (from the store, or a new agent). */
  misses: number;
  /** Agents evicted (written if changed, then freed). */
  evictions: number;
  /** Bytes the store completed writing (evictions, flushes, close). */
  persistedBytes: number;
  /**
   * Agent writes a versioned store refused because another writer had changed the agent
   * (each dropped, see ConflictError).
   */
  conflicts: number;
  /** hits / (hits + misses), 0 before any get. */
  hitRate: number;
  /** Agents held by at least one lease now. */
  pinned: number;
  /** Leases held now. */
  leases: number;
  /** Engine bytes the resident agents hold (as of their last lease's end). */
  residentBytes: number;
}

/** A load in flight: the gets waiting for it, each of which gets a lease when it lands. */
interface Load {
  waiters: number;
  done: Promise<Resident>;
}

/** A freed agent's bytes not yet in the store: the agent, and its version when they were taken. */
interface Snapshot {
  readonly bytes: Uint8Array;
  readonly agent: Resident;
  readonly version: number;
}

/** Other components' usage counts as a new high once it passes the last one by this share of the budget. */
const GROWTH_STEP = 0.01;

/** FNV-1a of a string: the per-agent part of its generators' seeds. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Throws the first rejection's reason, if any. */
function throwFirst(results: PromiseSettledResult<unknown>[]): void {
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Many agents (a Q-table and a trajectory buffer each) sharing one engine, backed by a
 * {@link ByteStore} (create one with {@link Engine.createAgentCache}). {@link AgentCache.get}
 * returns a lease; a leased agent is never evicted. Least recently used unpinned agents are
 * evicted, each written to the store before it is freed, when a miss meets `maxAgents`, when
 * the cache passes `maxBytes`, when an agent does not fit the budget, or when other components'
 * memory rises while the engine is past `evictAt` (README, "Agent cache").
 *
 * @example
 * ```ts
 * const cache = engine.createAgentCache({ qtable: { actions: 4 }, store: new FileStore('./agents'), maxAgents: 100 });
 * await cache.use('user-42', (agent) => agent.q.update(state, action, reward, nextState));
 * await cache.close(); // writes every changed agent, frees everything
 * ```
 */
export class AgentCache {
  /** The store agents are written to. */
  readonly store: AgentStore;
  /** Resident agents at most (unless every one is pinned). */
  readonly maxAgents: number;
  /** Engine bytes the resident agents may hold (Infinity: no limit but the budget). */
  readonly maxBytes: number;
  /** Engine usage fraction past which other components' growth shrinks the cache. */
  readonly evictAt: number;
  private readonly rt: Runtime;
  private readonly monitor: MemoryMonitor;
  private readonly qtable: QTableParams;
  private readonly trajectoryCapacity: number;
  private readonly writes: AgentWrites;
  /** The recency order in the engine; 0 once closed. */
  private handle: number;
  private closing: Promise<void> | null = null;
  private readonly residents = new Map<string, Resident>();
  private readonly bySlot = new Map<number, Resident>();
  private readonly loads = new Map<string, Load>();
  private readonly evictions = new Set<Promise<void>>();
  /**
   * Snapshots of freed agents whose store writes have not succeeded yet (taken by close(), or by
   * relieve for a leased agent's call out of budget), with their agent and its version then.
   */
  private readonly unwritten = new Map<string, Snapshot>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private counters = { hits: 0, misses: 0, evictions: 0, persistedBytes: 0, conflicts: 0 };
  /** Agents dropped after a refused write since the last flush reported them. */
  private readonly conflicted = new Set<string>();
  /** Those of them whose refused write may have landed after all (ConflictError.uncertain). */
  private readonly uncertain = new Set<string>();
  private leases = 0;
  private pinned = 0;
  private evicting = 0;
  private admitting = 0;
  private ownBytes = 0;
  /** Other components' usage at its last high (or now, while the engine is under evictAt). */
  private othersHigh: number;

  /** @internal Use {@link Engine.createAgentCache}. */
  constructor(rt: Runtime, monitor: MemoryMonitor, options: AgentCacheOptions) {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('agent cache options must be an object');
    checkOptionNames('createAgentCache', options, AGENT_CACHE_OPTIONS);
    this.store = checkByteStore(options.store ?? new MemoryStore());
    this.maxAgents = checkInt('maxAgents', options.maxAgents ?? 50, 1, 1_000_000);
    this.maxBytes =
      options.maxBytes === undefined ? Infinity : checkInt('maxBytes', options.maxBytes, 1, Number.MAX_SAFE_INTEGER);
    this.evictAt = checkNumber('evictAt', options.evictAt ?? 0.8, Number.MIN_VALUE, 1);
    this.qtable = resolveQTableOptions(options.qtable);
    this.trajectoryCapacity = checkInt('trajectoryCapacity', options.trajectoryCapacity ?? 1000, 1, 1 << 26);
    this.rt = rt;
    this.monitor = monitor;
    this.writes = new AgentWrites(this.store, (bytes) => {
      this.counters.persistedBytes += bytes;
    });
    this.handle = rt.run('createAgentCache', () => {
      const h = rt.exports.cacheCreate();
      if (h === 0) throw rt.budgetError('createAgentCache');
      return h;
    });
    this.othersHigh = rt.usedBytes;
  }

  /**
   * A new lease on agent `id`: resident (a hit), else read back from the store (or from a write
   * still on its way there), else new. A miss may evict first (see the class doc). Throws
   * InvalidArgumentError for a bad id (see checkAgentId), DisposedError once close() was called,
   * BudgetExceededError when the agent cannot fit with every unpinned agent evicted,
   * CorruptSnapshotError for stored bytes that are not this agent's, or StoreError (E_STORE, the
   * store's error as `cause`; a store's own StoreError as it is).
   * Cost: a hit is O(1); a miss reads the store.
   *
   * @throws {@link InvalidArgumentError} for an id that is not a valid agent id.
   * @throws {@link DisposedError} once the cache is closing or closed.
   * @throws {@link BudgetExceededError} when the agent does not fit with every unpinned agent evicted.
   * @throws {@link CorruptSnapshotError} for stored bytes that are not this agent's.
   * @throws {@link StoreError} when the store fails.
   */
  async get(id: string): Promise<Agent> {
    checkAgentId(id);
    this.checkOpen();
    const resident = this.residents.get(id);
    let lease: Agent;
    if (resident !== undefined) {
      this.counters.hits++;
      this.pin(resident, 1);
      lease = new Agent(resident, this.endLease);
    } else {
      let load = this.loads.get(id);
      if (load !== undefined) {
        this.counters.hits++;
        load.waiters++;
      } else {
        this.counters.misses++;
        load = this.startLoad(id);
      }
      const agent = await load.done; // its lease is counted already
      if (agent.freed) throw new DisposedError('agent cache'); // closed as it arrived
      lease = new Agent(agent, this.endLease);
    }
    if (this.overLimits()) {
      try {
        await this.trim();
      } catch (error) {
        lease.release();
        throw error;
      }
    }
    return lease;
  }

  /** Runs fn with a lease on agent `id`, releasing it afterwards (also when fn throws). */
  async use<T>(id: string, fn: (agent: Agent) => T | Promise<T>): Promise<T> {
    const agent = await this.get(id);
    try {
      return await fn(agent);
    } finally {
      agent.release();
    }
  }

  /** Whether `id` is resident now. */
  has(id: string): boolean {
    return this.residents.has(id);
  }

  /** Ids of the resident agents. */
  get resident(): string[] {
    return Array.from(this.residents.keys());
  }

  /** Resident agents. */
  get size(): number {
    return this.residents.size;
  }

  /** Counters since creation, and leases and bytes now. */
  get stats(): AgentCacheStats {
    const { hits, misses } = this.counters;
    return {
      ...this.counters,
      hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
      pinned: this.pinned,
      leases: this.leases,
      residentBytes: this.ownBytes,
    };
  }

  /**
   * Writes every resident agent that may have changed since its last write (they stay
   * resident), each after any earlier write of it, and every snapshot of an agent freed for a
   * leased call that the store does not have yet. When it resolves the store holds every
   * agent as it was when flush was called, or newer. Over a versioned store an agent another
   * writer changed since it was loaded is not written but dropped (see ConflictError); the others
   * are still written. Once every write is done it throws the first store error, if any (an agent
   * whose write failed so stays resident and changed: the next flush writes it, do not redo its
   * work; conflicts are then reported by a later flush), else ConflictError naming every agent
   * dropped since the last report (by this flush or by evictions). So when it throws
   * ConflictError, every agent it does not name was written. Cost: one store write per changed agent.
   *
   * @throws {@link ConflictError} naming the agents another writer changed, once every write is done.
   * @throws {@link StoreError} the first store error, once every write is done.
   */
  async flush(): Promise<void> {
    this.checkOpen();
    const dirty = Array.from(this.residents.values()).filter((agent) => agent.dirty);
    const results = await Promise.allSettled([
      ...dirty.map((agent) => this.persist(agent)),
      ...Array.from(this.unwritten, ([id, snapshot]) => this.writeSnapshot(id, snapshot)),
    ]);
    throwFirst(results.filter((r) => r.status === 'fulfilled' || !(r.reason instanceof ConflictError)));
    this.throwConflicts();
  }

  /** Throws ConflictError naming the agents dropped since the last report, if any. */
  private throwConflicts(): void {
    if (this.conflicted.size === 0) return;
    const agents = Array.from(this.conflicted);
    const uncertain = agents.filter((id) => this.uncertain.has(id));
    this.conflicted.clear();
    this.uncertain.clear();
    throw new ConflictError(agents, uncertain);
  }

  /**
   * Evicts up to `count` unpinned agents, least recently used first (default: the monitor's
   * share of the resident ones, at least one). Returns how many were freed: an agent leased
   * again while it was being written stays. An agent whose write fails stays resident and the
   * error is thrown once the others are done.
   */
  async evict(count?: number): Promise<number> {
    this.checkOpen();
    const n = count === undefined ? this.batch() : checkInt('count', count, 0, 1_000_000);
    return this.evictAll(this.victims(n));
  }

  /**
   * Closes the cache. From the call on, get, flush and evict throw DisposedError. It waits for
   * the loads, evictions and writes in flight, then in one synchronous step snapshots every
   * agent that may have changed (leased ones too), frees every agent and the recency order, and
   * makes every lease inert (release does nothing, q and trajectory throw DisposedError). It
   * resolves once every snapshot is durable. If a write fails it rejects with StoreError (the
   * store's own error as `cause`; a store's ElexError as it is) and keeps that snapshot: calling
   * close() again retries it. A snapshot a versioned store refuses is dropped, and once the others
   * are written close rejects with ConflictError naming it (and any agent dropped since the last
   * report). Later calls resolve at once.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing.then(() => this.writeBack());
  }

  private async shutDown(): Promise<void> {
    while (this.loads.size > 0) await Promise.allSettled(Array.from(this.loads.values(), (load) => load.done));
    while (this.evictions.size > 0) await Promise.allSettled(Array.from(this.evictions));
    await this.writes.idle();
    const agents = Array.from(this.bySlot.values()); // the resident ones, and dropped ones still leased
    // close ends the leases still held: their receipts count up to the snapshot below.
    for (const agent of agents) if (agent.leases > 0) agent.version++;
    try {
      this.rt.check('close');
      for (const agent of agents) {
        if (agent.dirty && !agent.dropped)
          this.unwritten.set(agent.id, { bytes: this.encode(agent), agent, version: agent.version });
      }
    } catch (error) {
      // The engine was disposed or broke: nothing can be saved or freed; every lease goes inert.
      for (const agent of agents) agent.freed = true;
      this.residents.clear();
      this.bySlot.clear();
      this.leases = this.pinned = this.ownBytes = this.handle = 0;
      throw error;
    }
    for (const agent of agents) this.free(agent);
    this.rt.run('close', () => this.rt.exports.cacheDispose(this.handle));
    this.handle = 0;
  }

  private async writeBack(): Promise<void> {
    const results = await Promise.allSettled(
      Array.from(this.unwritten, ([id, snapshot]) => this.writeSnapshot(id, snapshot)),
    );
    throwFirst(results); // conflicts are caught there: reported once the rest is written
    this.throwConflicts();
  }

  /**
   * Writes a freed agent's snapshot (after any earlier write of it); forgets it once durable or
   * refused (a conflict, counted and reported by the next flush or close). A store error keeps
   * it for the next flush or close, and rejects. Cost: one store write.
   */
  private async writeSnapshot(id: string, snapshot: Snapshot): Promise<void> {
    const { agent, version } = snapshot;
    try {
      await this.writes.write(id, snapshot.bytes);
      agent.stored(version);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      if (!agent.dropped) {
        const uncertain = error.uncertain.includes(id);
        this.counters.conflicts++;
        this.conflicted.add(id);
        if (uncertain) this.uncertain.add(id);
        agent.lost(uncertain);
      }
    }
    if (this.unwritten.get(id) === snapshot) {
      this.unwritten.delete(id);
      // A freed agent's lineage goes with its last snapshot (free keeps it while one is unwritten).
      if (!this.residents.has(id) && !this.loads.has(id) && this.closing === null) this.writes.forget(id);
    }
  }

  /** Starts loading `id` for the get that missed (its first waiter). */
  private startLoad(id: string): Load {
    const load: Load = { waiters: 1, done: Promise.resolve(undefined as unknown as Resident) };
    load.done = this.admit(id, load).finally(() => this.loads.delete(id));
    this.loads.set(id, load);
    return load;
  }

  /**
   * Reads agent `id` (newest bytes on their way to the store first) and makes it resident
   * within maxAgents and the budget, leased once per waiting get.
   */
  private async admit(id: string, load: Load): Promise<Resident> {
    const versioned = this.writes.versioned;
    // Over a versioned store the agent's lineage starts at what the store holds once its writes settled.
    if (versioned) await this.writes.settled(id);
    // A snapshot relieve took that no write has stored yet: the newest state, on the lineage it
    // had (kept until the agent is placed, so a flush meanwhile still writes it).
    const spilled = this.unwritten.get(id);
    if (spilled !== undefined) return this.place(id, decodeAgent(id, spilled.bytes), false, load, spilled);
    const queued = versioned ? undefined : this.writes.latest(id);
    let stored: Uint8Array | undefined = queued;
    let version: StoreVersion | null = null;
    if (stored === undefined) {
      try {
        if (versioned) ({ bytes: stored, version } = await this.store.readVersioned!(id));
        else stored = await this.store.read(id);
      } catch (error) {
        throw storeError(error, `agent store could not read '${id}'`);
      }
    }
    const sections = stored === undefined ? undefined : decodeAgent(id, stored);
    const saved = stored !== undefined && queued === undefined;
    if (versioned) this.writes.loaded(id, version);
    try {
      return await this.place(id, sections, saved, load);
    } catch (error) {
      if (versioned) this.writes.forget(id);
      throw error;
    }
  }

  /** Makes the agent resident within maxAgents and the budget, leased once per waiting get. */
  private async place(
    id: string,
    sections: { qtable: Uint8Array; trajectory: Uint8Array } | undefined,
    saved: boolean,
    load: Load,
    origin?: Snapshot,
  ): Promise<Resident> {
    await this.yieldToPressure();
    this.admitting++;
    try {
      for (let waited = false; ; ) {
        this.rt.check('agent cache');
        let failure: BudgetExceededError | undefined;
        if (this.residents.size < this.maxAgents) {
          try {
            return this.build(id, sections, saved, load.waiters, origin);
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
            failure = error;
          }
        }
        // Memory kept only for speed (an index's scan codes) goes before any agent.
        if (failure !== undefined && this.rt.dropCaches()) continue;
        const wanted = failure !== undefined ? 1 : this.residents.size + this.admitting - this.maxAgents;
        if (await this.makeRoom(wanted)) continue;
        if (!waited) {
          waited = true; // let leases about to end end, then look again
          await nextTurn();
          continue;
        }
        if (failure === undefined) {
          try {
            return this.build(id, sections, saved, load.waiters, origin); // every agent stays pinned: past maxAgents
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
            failure = error;
          }
        }
        throw this.pinnedError(id, failure);
      }
    } finally {
      this.admitting--;
    }
  }

  /** The budget error of an agent that cannot fit with nothing left to evict, saying why. */
  private pinnedError(id: string, cause: BudgetExceededError): BudgetExceededError {
    const hint =
      this.residents.size === 0
        ? 'the cache holds no agent to evict: other components fill the engine'
        : `every resident agent is pinned (${this.pinned} agents, ${this.leases} leases): release some`;
    const rt = this.rt;
    return new BudgetExceededError(
      cause.requestedBytes,
      rt.usedBytes,
      rt.budgetBytes,
      `agent '${id}'`,
      rt.reservedBytes,
      hint,
    );
  }

  /** Creates or loads the agent's objects, registers it and leases it `leases` times; all or nothing. */
  private build(
    id: string,
    sections: { qtable: Uint8Array; trajectory: Uint8Array } | undefined,
    saved: boolean,
    leases: number,
    origin?: Snapshot,
  ): Resident {
    const rt = this.rt;
    const slot = this.freeSlots.length > 0 ? this.freeSlots[this.freeSlots.length - 1] : this.nextSlot;
    let q: QTable | undefined;
    let trajectory: TrajectoryBuffer | undefined;
    try {
      const seed = (this.qtable.seed ^ hashId(id)) >>> 0;
      // A stored agent's larger object first: the smaller one, loaded first, can take the start
      // of the hole the agent's eviction left (when no smaller hole holds it) and the larger one
      // would no longer fit there (a ring of 60% of the budget could not come back once its
      // table had grown after it). Larger in memory: a ring takes its capacity's records however
      // few its snapshot holds; a table about its snapshot's bytes.
      if (sections && trajectoryRingBytes(sections.trajectory) > sections.qtable.length)
        trajectory = loadTrajectoryBuffer(rt, sections.trajectory);
      q = sections ? loadQTable(rt, sections.qtable) : createQTable(rt, { ...this.qtable, seed });
      trajectory ??= sections
        ? loadTrajectoryBuffer(rt, sections.trajectory)
        : createTrajectoryBuffer(rt, { capacity: this.trajectoryCapacity, seed });
      // The slot last: a slot array grown for an agent whose tables then did not fit stayed grown.
      rt.run('agent slot', () => {
        if (rt.exports.cacheReserve(this.handle, slot + 1) === 0) throw rt.budgetError('agent cache');
      });
      if (slot === this.nextSlot) this.nextSlot++;
      else this.freeSlots.pop();
      const agent = new Resident(id, q, trajectory, slot, saved, trajectory.usedBytes);
      agent.bytes = q.usedBytes + agent.ringBytes;
      q.relieve = trajectory.relieve = this.relieve;
      if (origin !== undefined) {
        agent.origin = { agent: origin.agent, version: origin.version };
        if (this.unwritten.get(id) === origin) this.unwritten.delete(id); // this copy holds it now
      }
      this.ownBytes += agent.bytes;
      this.residents.set(id, agent);
      this.bySlot.set(slot, agent);
      this.pin(agent, leases);
      return agent;
    } catch (error) {
      trajectory?.dispose();
      q?.dispose();
      throw error;
    }
  }

  /** Marks `agent` the most recently used (resident, for a new one) and counts `n` new leases on it. */
  private pin(agent: Resident, n: number): void {
    const ex = this.rt.exports;
    ex.cacheTouch(this.handle, agent.slot);
    if (agent.leases === 0) {
      ex.cachePin(this.handle, agent.slot, 1);
      this.pinned++;
    }
    agent.leases += n;
    agent.version++;
    this.leases += n;
  }

  /** Ends one lease (Agent.release): nothing once the agent is freed or the engine disposed. */
  private readonly endLease = (agent: Resident): void => {
    if (agent.freed) return;
    if (this.rt.isDisposed) {
      agent.version++; // its changes since the last write are gone with the engine: never 'saved'
      return;
    }
    const bytes = agent.q.usedBytes + agent.ringBytes; // first: it may throw (inside a search filter)
    this.ownBytes += bytes - agent.bytes;
    agent.bytes = bytes;
    agent.leases--;
    agent.version++;
    this.leases--;
    if (agent.leases === 0) {
      this.rt.exports.cachePin(this.handle, agent.slot, -1);
      this.pinned--;
      if (agent.dropped) this.free(agent);
    }
  };

  private overLimits(): boolean {
    return this.residents.size > this.maxAgents || this.ownBytes > this.maxBytes;
  }

  /** Evicts until the cache is within maxAgents and maxBytes, or only pinned agents are left. */
  private async trim(): Promise<void> {
    while (this.overLimits() && (await this.makeRoom(Math.max(1, this.residents.size - this.maxAgents)))) {
      /* again */
    }
  }

  /** One eviction batch: the monitor's share of the resident agents, at least one. */
  private batch(): number {
    return Math.max(1, Math.ceil(this.monitor.evictionShare() * this.residents.size));
  }

  /**
   * Makes room for `wanted` more agents beyond the evictions under way: evicts a batch (at
   * least the shortfall), or waits for an eviction already running. False when there is
   * nothing to evict or wait for (every resident agent is pinned).
   */
  private async makeRoom(wanted: number): Promise<boolean> {
    const needed = wanted - this.evicting;
    const victims = this.victims(needed > 0 ? Math.max(needed, this.batch()) : 0);
    if (victims.length > 0) {
      await this.evictAll(victims);
      return true;
    }
    if (this.evictions.size === 0) return false;
    await Promise.race(this.evictions);
    return true;
  }

  /** One batch when other components' usage reached a new high with the engine past evictAt. */
  private async yieldToPressure(): Promise<void> {
    const budget = this.rt.budgetBytes;
    const used = this.rt.usedBytes;
    const others = used - this.ownBytes;
    if (used < this.evictAt * budget) {
      this.othersHigh = others;
    } else if (others >= this.othersHigh + GROWTH_STEP * budget && this.rt.dropCaches()) {
      // Memory kept only for speed (an index's scan codes) goes before any agent.
      this.othersHigh = this.rt.usedBytes - this.ownBytes;
    } else if (others >= this.othersHigh + GROWTH_STEP * budget) {
      // Recorded first, so misses meanwhile do not evict a batch each for the same rise; a batch
      // a store error stopped gives the rise back, so the next miss evicts again.
      const high = this.othersHigh;
      this.othersHigh = others;
      try {
        await this.evictAll(this.victims(this.batch()));
      } catch (error) {
        if (this.othersHigh === others) this.othersHigh = high;
        throw error;
      }
    }
  }

  /** Up to n unpinned agents not already being evicted, least recently used first, marked as being evicted. */
  private victims(n: number): Resident[] {
    const ex = this.rt.exports;
    const picked: Resident[] = [];
    for (
      let s = ex.cacheNextVictim(this.handle, NONE) >>> 0;
      s !== NONE && picked.length < n;
      s = ex.cacheNextVictim(this.handle, s) >>> 0
    ) {
      const agent = this.bySlot.get(s)!;
      if (!agent.evicting) picked.push(agent);
    }
    for (const agent of picked) agent.evicting = true;
    this.evicting += picked.length;
    return picked;
  }

  /** Evicts `victims` in parallel; how many were freed. Throws the first store error once all are done. */
  private async evictAll(victims: Resident[]): Promise<number> {
    const results = await Promise.allSettled(
      victims.map((agent) => {
        const eviction = this.writeOut(agent).finally(() => {
          agent.evicting = false;
          this.evicting--;
          this.evictions.delete(settled);
        });
        const settled = eviction.then(
          () => undefined,
          () => undefined,
        );
        this.evictions.add(settled);
        return eviction;
      }),
    );
    throwFirst(results);
    return results.filter((r) => r.status === 'fulfilled' && r.value).length;
  }

  /**
   * A call of a leased agent's Q-table or trajectory ran out of budget (changing nothing): frees
   * a batch of the least recently used unpinned agents at once, without waiting for the store.
   * Each that may have changed is snapshotted into host memory first (no engine memory needed),
   * kept in `unwritten` and written in the background: a get reads it back from there, and
   * flush and close write it again until the store has it. True when it freed any (the call is
   * then tried again). Cost: a snapshot per agent freed.
   */
  private readonly relieve = (): boolean => {
    if (this.handle === 0) return false; // closed (close() frees everything in its snapshot step)
    const ex = this.rt.exports;
    const picked: Resident[] = [];
    const n = this.batch();
    // Agents an eviction is writing out count too: their snapshot's write goes after that one.
    for (let s = ex.cacheNextVictim(this.handle, NONE) >>> 0; s !== NONE && picked.length < n; ) {
      const agent = this.bySlot.get(s)!;
      if (!agent.dropped) picked.push(agent);
      s = ex.cacheNextVictim(this.handle, s) >>> 0;
    }
    for (const agent of picked) {
      if (agent.dirty) {
        const snapshot = { bytes: this.encode(agent), agent, version: agent.version };
        this.unwritten.set(agent.id, snapshot);
        this.writeSnapshot(agent.id, snapshot).catch(() => undefined); // kept: flush and close retry it
      }
      this.free(agent);
      this.counters.evictions++;
    }
    return picked.length > 0;
  };

  /** Writes the agent out (unless the store has its state already), then frees it unless it was leased meanwhile. */
  private async writeOut(agent: Resident): Promise<boolean> {
    const version = agent.version;
    try {
      if (agent.dirty) await this.persist(agent);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return agent.freed; // dropped; the next flush reports it
    }
    if (agent.freed || agent.leases > 0 || agent.version !== version) return false;
    this.free(agent);
    this.counters.evictions++;
    return true;
  }

  /** Writes the agent's current state, after any earlier write of it; records it as saved once durable. */
  private persist(agent: Resident): Promise<void> {
    const version = agent.version;
    return this.writes.write(agent.id, this.encode(agent)).then(
      () => agent.stored(version),
      (error) => {
        if (error instanceof ConflictError) this.drop(agent, error.uncertain.includes(agent.id));
        throw error;
      },
    );
  }

  /**
   * Drops an agent whose write a versioned store refused: counted, reported by the next flush,
   * out of the cache at once (the next get reads the store), its objects freed once no lease holds it.
   */
  private drop(agent: Resident, uncertain: boolean): void {
    if (agent.freed || agent.dropped) return;
    agent.lost(uncertain);
    this.counters.conflicts++;
    this.conflicted.add(agent.id);
    if (uncertain) this.uncertain.add(agent.id);
    if (agent.leases === 0) this.free(agent);
    else if (this.residents.get(agent.id) === agent) this.residents.delete(agent.id);
  }

  /** The agent's EXAG bytes, copied out of the engine (no engine memory needed). Cost: O(agent bytes). */
  private encode(agent: Resident): Uint8Array {
    return encodeAgent(agent.id, agent.q.serialize(), agent.trajectory.serialize());
  }

  /** Frees the agent's objects and slot; its leases (only close frees a leased agent) become inert. */
  private free(agent: Resident): void {
    agent.freed = true;
    agent.q.dispose();
    agent.trajectory.dispose();
    this.rt.exports.cacheRemove(this.handle, agent.slot);
    if (this.residents.get(agent.id) === agent) {
      this.residents.delete(agent.id);
      // close() still writes its snapshot; relieve's keeps the lineage until it is written.
      if (this.closing === null && !this.unwritten.has(agent.id)) this.writes.forget(agent.id);
    }
    this.bySlot.delete(agent.slot);
    this.freeSlots.push(agent.slot);
    this.ownBytes -= agent.bytes;
    if (agent.leases > 0) {
      this.leases -= agent.leases;
      this.pinned--;
    }
  }

  private checkOpen(): void {
    if (this.closing !== null) throw new DisposedError('agent cache');
    this.rt.check('agent cache');
  }
}
