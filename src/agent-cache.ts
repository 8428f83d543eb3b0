/**
 * AgentCache: many agents (a Q-table and a trajectory buffer each) sharing one engine. Up to
 * `maxAgents` stay resident; when the resident count reaches it, when usage passes `evictAt` of
 * the budget, or when an agent does not fit, the least recently used unpinned agents are
 * written to the store and freed, `ceil(evictionPercent * resident)` (at least one) at a time.
 * `get` of an evicted agent reads it back exactly.
 *
 * Pinning: `get` pins the agent it returns; `release()` unpins it. A pinned agent is never
 * evicted, so its q and trajectory stay valid until released. `use(id, fn)` pins around fn.
 */
import { Agent } from './agent.js';
import { decodeAgent, encodeAgent } from './agent-codec.js';
import { BudgetExceededError, DisposedError, InvalidArgumentError } from './errors.js';
import type { MemoryMonitor } from './monitor.js';
import { QTable, createQTable, loadQTable, resolveQTableOptions, type QTableOptions, type QTableParams } from './qtable.js';
import type { Runtime } from './runtime.js';
import type { AgentStore } from './stores/agent-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { TrajectoryBuffer, createTrajectoryBuffer, loadTrajectoryBuffer } from './trajectory.js';
import { checkInt, checkNumber, checkOptionNames, optionNames } from './validate.js';

const NO_SLOT = 0xffffffff;

/** Options of {@link Engine.createAgentCache}. */
export interface AgentCacheOptions {
  /** Where evicted agents go; default a new MemoryStore. */
  store?: AgentStore;
  /** Resident agents at most before eviction, 1..1,000,000; default 50. */
  maxAgents?: number;
  /** Fraction of the budget in use (usedBytes / budgetBytes) past which a miss evicts first, (0, 1]; default 0.8. */
  evictAt?: number;
  /** Options of every agent's Q-table; `seed` is mixed with a hash of the agent id. */
  qtable: QTableOptions;
  /** Transitions each agent's trajectory buffer keeps, 1..2^26; default 1000. */
  trajectoryCapacity?: number;
}

/** The names AgentCacheOptions has: anything else given to createAgentCache is E_ARGUMENT. */
const AGENT_CACHE_OPTIONS = optionNames<AgentCacheOptions>({ store: true, maxAgents: true, evictAt: true, qtable: true, trajectoryCapacity: true });

/** Counters of an AgentCache since it was created. */
export interface AgentCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Bytes written to the store by evictions and flushes. */
  persistedBytes: number;
  /** hits / (hits + misses), 0 before any get. */
  hitRate: number;
}

/** FNV-1a of a string: the per-agent part of its generators' seeds. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class AgentCache {
  /** The store evicted agents are written to. */
  readonly store: AgentStore;
  /** Resident agents at most before eviction. */
  readonly maxAgents: number;
  /** Usage fraction past which a miss evicts first. */
  readonly evictAt: number;
  private readonly rt: Runtime;
  private readonly monitor: MemoryMonitor;
  private readonly qtable: QTableParams;
  private readonly trajectoryCapacity: number;
  private handle: number;
  private readonly agents = new Map<string, Agent>();
  private readonly bySlot = new Map<number, Agent>();
  private readonly loading = new Map<string, Promise<Agent>>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private counters = { hits: 0, misses: 0, evictions: 0, persistedBytes: 0 };

  /** @internal Use {@link Engine.createAgentCache}. */
  constructor(rt: Runtime, monitor: MemoryMonitor, options: AgentCacheOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('agent cache options must be an object');
    checkOptionNames('createAgentCache', options, AGENT_CACHE_OPTIONS);
    this.store = options.store ?? new MemoryStore();
    for (const method of ['read', 'write', 'delete', 'keys'] as const) {
      if (typeof (this.store as unknown as Record<string, unknown>)[method] !== 'function') {
        throw new InvalidArgumentError(`store must have a ${method}() method`);
      }
    }
    this.maxAgents = checkInt('maxAgents', options.maxAgents ?? 50, 1, 1_000_000);
    this.evictAt = checkNumber('evictAt', options.evictAt ?? 0.8, Number.MIN_VALUE, 1);
    this.qtable = resolveQTableOptions(options.qtable);
    this.trajectoryCapacity = checkInt('trajectoryCapacity', options.trajectoryCapacity ?? 1000, 1, 1 << 26);
    this.rt = rt;
    this.monitor = monitor;
    this.handle = rt.run('createAgentCache', () => {
      const h = rt.exports.cacheCreate();
      if (h === 0) throw rt.budgetError('createAgentCache');
      return h;
    });
  }

  /**
   * The agent `id`, pinned: resident (a hit), else read back from the store, else new. A miss
   * may first evict (see the class doc). Throws BudgetExceededError when the agent cannot fit
   * even with every unpinned agent evicted, CorruptSnapshotError for stored bytes that are not
   * this agent's, or the store's error. Cost: a hit is O(1); a miss reads the store.
   */
  async get(id: string): Promise<Agent> {
    this.checkId(id);
    this.checkOpen();
    const resident = this.agents.get(id);
    if (resident !== undefined) {
      // Also while an eviction is writing it out: the pin makes that eviction keep it.
      this.counters.hits++;
      this.pin(resident);
      if (this.agents.size > this.maxAgents) await this.shrinkOrRelease(resident);
      return resident;
    }
    const pending = this.loading.get(id);
    if (pending !== undefined) return this.pin(await pending);
    this.counters.misses++;
    const load = this.admit(id);
    this.loading.set(id, load);
    try {
      return this.pin(await load);
    } finally {
      this.loading.delete(id);
    }
  }

  /** Runs fn with agent `id` pinned, releasing it afterwards (also when fn throws). */
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
    return this.agents.has(id);
  }

  /** Ids of the resident agents. */
  get resident(): string[] {
    return Array.from(this.agents.keys());
  }

  /** Resident agents. */
  get size(): number {
    return this.agents.size;
  }

  /** Counters since creation. */
  get stats(): AgentCacheStats {
    const { hits, misses } = this.counters;
    return { ...this.counters, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) };
  }

  /** Writes every resident agent to the store (they stay resident). Cost: one store write each. */
  async flush(): Promise<void> {
    this.checkOpen();
    await Promise.all(Array.from(this.agents.values(), async (agent) => {
      const bytes = this.encode(agent);
      await this.store.write(agent.id, bytes);
      this.counters.persistedBytes += bytes.length;
    }));
  }

  /**
   * Evicts up to `count` unpinned agents, least recently used first (default: the monitor's
   * share of the resident ones, at least one). Returns how many were evicted. An agent whose
   * store write fails stays resident and the error is thrown after the others are done.
   */
  async evict(count?: number): Promise<number> {
    this.checkOpen();
    const n = count === undefined
      ? Math.max(1, Math.ceil(this.monitor.evictionPercent() * this.agents.size))
      : checkInt('count', count, 0, 1_000_000);
    const victims = this.victims(n);
    const results = await Promise.allSettled(victims.map((agent) => this.persistAndFree(agent)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return results.filter((r) => r.status === 'fulfilled' && r.value).length;
  }

  /** Writes every resident agent to the store, then frees them and the cache. Later calls throw DisposedError. */
  async close(): Promise<void> {
    if (this.handle === 0) return;
    await this.flush();
    for (const agent of this.agents.values()) this.free(agent);
    this.rt.run('close', () => this.rt.exports.cacheDispose(this.handle));
    this.handle = 0;
  }

  /**
   * Evicts back down to maxAgents (agents pinned while the cache was full push it over; once
   * released they go on the next get). A failure releases `agent` and reaches the caller.
   */
  private async shrinkOrRelease(agent: Agent): Promise<void> {
    try {
      await this.evict(this.agents.size - this.maxAgents);
    } catch (error) {
      agent.release();
      throw error;
    }
  }

  private async admit(id: string): Promise<Agent> {
    if (this.agents.size >= this.maxAgents || this.rt.usedBytes >= this.evictAt * this.rt.budgetBytes) {
      await this.evict();
    }
    const stored = await this.store.read(id);
    const sections = stored === undefined ? undefined : decodeAgent(id, stored);
    for (;;) {
      this.checkOpen();
      try {
        return this.build(id, sections);
      } catch (error) {
        if (!(error instanceof BudgetExceededError) || (await this.evict()) === 0) throw error;
      }
    }
  }

  /** Creates or loads the agent's structures and registers it; all or nothing. */
  private build(id: string, sections?: { qtable: Uint8Array; trajectory: Uint8Array }): Agent {
    const slot = this.freeSlots.length > 0 ? this.freeSlots[this.freeSlots.length - 1] : this.nextSlot;
    this.rt.run('agent slot', () => {
      if (this.rt.exports.cacheReserve(this.handle, slot + 1) === 0) throw this.rt.budgetError('agent cache');
    });
    let q: QTable | undefined;
    try {
      const seed = (this.qtable.seed ^ hashId(id)) >>> 0;
      q = sections ? loadQTable(this.rt, sections.qtable) : createQTable(this.rt, { ...this.qtable, seed });
      const trajectory: TrajectoryBuffer = sections
        ? loadTrajectoryBuffer(this.rt, sections.trajectory)
        : createTrajectoryBuffer(this.rt, { capacity: this.trajectoryCapacity, seed });
      if (slot === this.nextSlot) this.nextSlot++;
      else this.freeSlots.pop();
      const agent = new Agent(id, q, trajectory, slot, () => this.rt.exports.cachePin(this.handle, slot, -1));
      this.agents.set(id, agent);
      this.bySlot.set(slot, agent);
      return agent;
    } catch (error) {
      q?.dispose();
      throw error;
    }
  }

  private pin(agent: Agent): Agent {
    const ex = this.rt.exports;
    ex.cacheTouch(this.handle, agent.slot);
    agent.pinned(ex.cachePin(this.handle, agent.slot, 1));
    return agent;
  }

  /** Up to n unpinned agents not already being evicted, least recently used first. */
  private victims(n: number): Agent[] {
    const ex = this.rt.exports;
    const picked: Agent[] = [];
    for (let s = ex.cacheNextVictim(this.handle, NO_SLOT) >>> 0; s !== NO_SLOT && picked.length < n; s = ex.cacheNextVictim(this.handle, s) >>> 0) {
      const agent = this.bySlot.get(s)!;
      if (!agent.evicting) picked.push(agent);
    }
    for (const agent of picked) agent.evicting = true;
    return picked;
  }

  /**
   * Writes the agent to the store, then frees it unless a get took it meanwhile (it may have
   * changed since it was written, so it stays). True if freed.
   */
  private async persistAndFree(agent: Agent): Promise<boolean> {
    try {
      const gets = agent.gets;
      const bytes = this.encode(agent);
      await this.store.write(agent.id, bytes);
      this.counters.persistedBytes += bytes.length;
      if (agent.gets !== gets || agent.pins > 0 || this.handle === 0) return false;
      this.free(agent);
      this.counters.evictions++;
      return true;
    } finally {
      agent.evicting = false;
    }
  }

  private encode(agent: Agent): Uint8Array {
    return encodeAgent(agent.id, agent.q.serialize(), agent.trajectory.serialize());
  }

  private free(agent: Agent): void {
    agent.q.dispose();
    agent.trajectory.dispose();
    this.rt.exports.cacheRemove(this.handle, agent.slot);
    this.agents.delete(agent.id);
    this.bySlot.delete(agent.slot);
    this.freeSlots.push(agent.slot);
  }

  private checkId(id: unknown): void {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(`agent id must be a non-empty string, got ${String(id)}`);
  }

  private checkOpen(): void {
    if (this.handle === 0) throw new DisposedError('agent cache');
    this.rt.check('agent cache');
  }
}
