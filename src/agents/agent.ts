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
  /** Engine bytes its objects hold, as of its last lease's end. */
  bytes = 0;

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

  /** Whether the store may lack its current state. */
  get dirty(): boolean {
    return this.leases > 0 || this.savedVersion !== this.version;
  }
}

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

  /** @internal Created by AgentCache, which counted this lease already. */
  constructor(agent: Resident, end: (agent: Resident) => void) {
    this.id = agent.id;
    this.held = agent;
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

  /** Ends this lease: once no lease holds the agent it may be evicted. Extra calls, and calls after close, do nothing. Cost: O(1). */
  release(): void {
    const agent = this.held;
    if (agent === null) return;
    this.end(agent);
    this.held = null;
  }
}
