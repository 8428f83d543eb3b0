/**
 * An agent of an AgentCache: `Resident` is what the cache keeps about an agent in the engine
 * (its Q-table and trajectory buffer, leases, versions); `Agent` is one lease on it, what each
 * `get` returns.
 */
import { DisposedError } from '../errors.js';
import type { QTable } from '../qlearn/qtable.js';
import type { TrajectoryBuffer } from '../qlearn/trajectory.js';

/** @internal An agent resident in the engine, as its cache tracks it. */
export class Resident {
  /** Leases held now; the cache never evicts an agent while this is above 0. */
  leases = 0;
  /** Moves when a lease starts or ends: a lease may change the agent. */
  version = 0;
  /** The version last known to be in the store (-1: the store may not hold this state). */
  savedVersion: number;
  /** Set while an eviction is writing this agent out. */
  evicting = false;
  /** Set once its objects are freed (evicted, or the cache closed): its leases are inert. */
  freed = false;
  /** Set once a versioned store refused its write: out of the cache, freed when its last lease ends. */
  dropped = false;
  /** With dropped: the refused write may have landed after all (ConflictError.uncertain). */
  dropUncertain = false;
  /** Engine bytes its objects hold, as of its last lease's end. */
  bytes = 0;
  /**
   * Read back from a snapshot of an earlier copy of this agent that was freed before the store
   * had it (AgentCache's relief): that copy and its version then. Whatever becomes of this copy's
   * writes becomes of that snapshot's changes too.
   */
  origin: { agent: Resident; version: number } | null = null;

  /** `ringBytes`: what its trajectory buffer holds, fixed at creation (a ring never grows). */
  constructor(
    readonly id: string,
    readonly q: QTable,
    readonly trajectory: TrajectoryBuffer,
    readonly slot: number,
    saved: boolean,
    readonly ringBytes: number,
  ) {
    this.savedVersion = saved ? 0 : -1;
  }

  /** Records that the store holds this agent as of `version` (and so the snapshot it was read back from). */
  stored(version: number): void {
    if (version > this.savedVersion) this.savedVersion = version;
    this.origin?.agent.stored(this.origin.version);
    this.origin = null;
  }

  /** Records that a versioned store refused this agent's write (`uncertain`: it may have landed); its origin's changes with it. */
  lost(uncertain: boolean): void {
    this.dropped = true;
    this.dropUncertain = uncertain;
    this.origin?.agent.lost(uncertain);
    this.origin = null;
  }

  /** Whether the store may lack its current state. */
  get dirty(): boolean {
    return this.leases > 0 || this.savedVersion !== this.version;
  }
}

/**
 * Where the changes a lease made stand in the store (see {@link Agent.outcome}):
 * - `'leased'`: the lease is held;
 * - `'unsaved'`: released, not in the store yet (a flush, eviction or close writes them);
 * - `'saved'`: in the store, durable: acknowledged;
 * - `'dropped'`: another writer changed the agent first, and the copy with these changes was
 *   dropped: do them again on a fresh lease;
 * - `'unknown'`: dropped, but some or all of them may be in the store: a write taken while the
 *   lease was held landed before the drop, or the store could not settle a write's outcome
 *   (ConflictError.uncertain). Look before doing them again.
 */
export type LeaseOutcome = 'leased' | 'unsaved' | 'saved' | 'dropped' | 'unknown';

/**
 * One lease on an agent, from one `AgentCache.get`: while it is held the agent stays resident,
 * so `q` and `trajectory` stay valid. `release()` ends it (further calls do nothing); after
 * that, or once the cache is closed, `q` and `trajectory` throw DisposedError.
 */
export class Agent {
  /** The agent's id in its cache and store. */
  readonly id: string;
  private held: Resident | null;
  private readonly end: (agent: Resident) => void;
  /** The agent this lease was on, for {@link outcome}. */
  private readonly on: Resident;
  /** The agent's version when this lease began (a write at or past it may hold some of its changes). */
  private readonly startVersion: number;
  /** The agent's version when this lease ended (-1: not released). */
  private endVersion = -1;

  /** @internal Created by AgentCache, which counted this lease already. */
  constructor(agent: Resident, end: (agent: Resident) => void) {
    this.id = agent.id;
    this.held = agent;
    this.on = agent;
    this.startVersion = agent.version;
    this.end = end;
  }

  private agent(what: string): Resident {
    const agent = this.held;
    if (agent === null || agent.freed) throw new DisposedError(`the ${what} of a released lease on agent '${this.id}'`);
    return agent;
  }

  /** The agent's Q-table. Throws DisposedError once this lease is released or its cache closed. */
  get q(): QTable {
    return this.agent('Q-table').q;
  }

  /** The agent's replay buffer. Throws DisposedError once this lease is released or its cache closed. */
  get trajectory(): TrajectoryBuffer {
    return this.agent('trajectory').trajectory;
  }

  /** Whether this lease has ended: released, or its cache closed. */
  get released(): boolean {
    return this.held === null || this.held.freed;
  }

  /**
   * Where the changes made through this lease stand in the store: a receipt of its own, so a
   * task learns whether *its* update was saved or dropped whichever flush found out (several
   * tasks may flush one cache). After a `flush()` that resolved or rejected with ConflictError,
   * a lease released before the call is `'saved'`, `'dropped'` or `'unknown'`; after a
   * StoreError it may still be `'unsaved'` (flush again, do not redo). A lease made inert by
   * `close()` counts as ended there. Cost: O(1).
   */
  get outcome(): LeaseOutcome {
    const agent = this.on;
    let end = this.endVersion;
    if (end < 0) {
      if (!agent.freed) return 'leased';
      end = agent.version; // ended by close (or the engine's end): its snapshot is the last state
    }
    if (agent.savedVersion >= end) return 'saved';
    // Dropped after a write taken while this lease was held landed: some of its changes may be stored.
    if (agent.dropped) return agent.dropUncertain || agent.savedVersion >= this.startVersion ? 'unknown' : 'dropped';
    return 'unsaved';
  }

  /** Ends this lease: once no lease holds the agent it may be evicted. Extra calls, and calls after close, do nothing. Cost: O(1). */
  release(): void {
    const agent = this.held;
    if (agent === null) return;
    this.end(agent);
    this.endVersion = agent.version;
    this.held = null;
  }
}
