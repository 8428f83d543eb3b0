/** One agent of an AgentCache: a Q-table and a trajectory buffer, resident in the engine. */
import type { QTable } from './qtable.js';
import type { TrajectoryBuffer } from './trajectory.js';

export class Agent {
  /** The agent's id in its cache and store. */
  readonly id: string;
  /** Its Q-table (valid while the agent is pinned: between `get` and `release`). */
  readonly q: QTable;
  /** Its replay buffer (valid while the agent is pinned). */
  readonly trajectory: TrajectoryBuffer;
  /** @internal Recency slot in the cache. */
  readonly slot: number;
  /** @internal Set while an eviction is writing this agent out. */
  evicting = false;
  /** @internal Counts gets; an eviction that sees it change while writing keeps the agent. */
  gets = 0;
  private readonly unpin: () => number;
  private pinCount = 0;

  /** @internal Created by AgentCache. */
  constructor(id: string, q: QTable, trajectory: TrajectoryBuffer, slot: number, unpin: () => number) {
    this.id = id;
    this.q = q;
    this.trajectory = trajectory;
    this.slot = slot;
    this.unpin = unpin;
  }

  /** @internal Records one more `get` of this agent (now `pins` outstanding). */
  pinned(pins: number): void {
    this.pinCount = pins;
    this.gets++;
  }

  /** Outstanding `get`s not yet released; the cache never evicts an agent while this is above 0. */
  get pins(): number {
    return this.pinCount;
  }

  /** Ends one `get`'s use of the agent: once every get is released it may be evicted. Extra calls do nothing. */
  release(): void {
    if (this.pinCount > 0) this.pinCount = this.unpin();
  }
}
