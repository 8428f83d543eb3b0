/**
 * TrajectoryBuffer: a fixed-capacity ring of transitions (s, a, r, s', done) in the engine's
 * linear memory, for experience replay: push as the agent acts, then
 * `q.batchUpdate(traj.sample(64))`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { EngineObject } from '../runtime/engine-object.js';
import { encodeTrajectory, fillTrajectory, loadSnapshot, trajectoryRowsValid } from './snapshot.js';
import { checkDone, checkReward, readBatch, TRANSITION_BYTES, type Transitions } from './transitions.js';
import { checkId, checkInt, checkOptionNames, optionNames } from '../util/validate.js';
import { SLOT_OUT } from '../runtime/wasm/exports.js';

/** Most transitions a buffer may hold (2^26; 16 bytes each). */
export const MAX_TRAJECTORY_CAPACITY = 1 << 26;
/** Largest action a buffer stores (the top bit of the word holds `done`). */
const MAX_ACTION = 0x7fffffff;
/** Most transitions one sample may return. */
const MAX_SAMPLE = 1 << 24;

/** Options of {@link Engine.createTrajectoryBuffer}. */
export interface TrajectoryOptions {
  /** Transitions kept, 1..2^26; a push into a full buffer overwrites the oldest. */
  capacity: number;
  /**
   * Seed of sample's generator, uint32.
   *
   * @defaultValue `42`
   */
  seed?: number;
}

const TRAJECTORY_OPTIONS = optionNames<TrajectoryOptions>({ capacity: true, seed: true });

/** Creates a buffer in `rt` (one call); throws BudgetExceededError if its ring does not fit. */
export function createTrajectoryBuffer(rt: Runtime, options: TrajectoryOptions): TrajectoryBuffer {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('trajectory options must be an object');
  checkOptionNames('createTrajectoryBuffer', options, TRAJECTORY_OPTIONS);
  const capacity = checkInt('capacity', options.capacity, 1, MAX_TRAJECTORY_CAPACITY);
  const seed = checkInt('seed', options.seed ?? 42, 0, 0xffffffff);
  return rt.run('createTrajectoryBuffer', () => {
    const handle = rt.exports.trajectoryCreate(capacity, seed);
    if (handle === 0) throw rt.budgetError('createTrajectoryBuffer');
    return new TrajectoryBuffer(rt, handle);
  });
}

/** Rebuilds a buffer from {@link TrajectoryBuffer.serialize} bytes; CorruptSnapshotError for anything else. */
export function loadTrajectoryBuffer(rt: Runtime, bytes: Uint8Array): TrajectoryBuffer {
  const format = {
    magic: 'EXTB',
    headerBytes: 32,
    length: (p: number) => rt.exports.trajectorySnapshotLength(p),
    begin: (p: number) => rt.exports.trajectoryLoadBegin(p),
    fill: (h: number, words: Uint32Array) => fillTrajectory(rt, h, words),
    rowsValid: trajectoryRowsValid,
  };
  return rt.atomicLoad(
    'loadTrajectoryBuffer',
    () => new TrajectoryBuffer(rt, loadSnapshot(rt, bytes, format, 'loadTrajectoryBuffer')),
  );
}

/**
 * A fixed-capacity ring of transitions (s, a, r, s', done) in the engine's linear memory, for
 * experience replay (create one with {@link Engine.createTrajectoryBuffer}).
 *
 * @example
 * ```ts
 * const traj = engine.createTrajectoryBuffer({ capacity: 10_000 });
 * traj.push(state, action, reward, nextState, done);
 * q.batchUpdate(traj.sample(64));
 * ```
 */
export class TrajectoryBuffer extends EngineObject {
  /** Transitions the buffer holds at most. */
  readonly capacity: number;

  /** @internal Use {@link Engine.createTrajectoryBuffer} or {@link Engine.loadTrajectoryBuffer}. */
  constructor(rt: Runtime, handle: number) {
    super(rt, handle, 'trajectory buffer');
    this.capacity = rt.exports.trajectoryCapacity(handle);
  }

  /** Transitions held, 0..capacity. Cost: O(1). */
  get size(): number {
    return this.call('size', () => this.rt.exports.trajectorySize(this.handle));
  }

  /** Engine bytes the buffer holds: its header and its ring (16 bytes a transition). Cost: O(1). */
  get usedBytes(): number {
    return this.call('usedBytes', () => this.rt.exports.trajectoryFootprint(this.handle) >>> 0);
  }

  /**
   * Appends a transition (state and nextState uint32, action an integer in [0, 2^31), reward a
   * finite float32), overwriting the oldest when full. Cost: O(1), no allocation.
   */
  push(state: number, action: number, reward: number, nextState: number, done: boolean = false): void {
    checkId(state, 'state');
    checkInt('action', action, 0, MAX_ACTION);
    checkReward(reward);
    checkId(nextState, 'nextState');
    const terminal = checkDone(done);
    this.call('push', () =>
      this.rt.exports.trajectoryPush(this.handle, state, action, reward, nextState, terminal ? 1 : 0),
    );
  }

  /**
   * n transitions drawn uniformly with replacement from the seeded generator, as typed arrays
   * ready for `QTable.batchUpdate`. Throws InvalidArgumentError when n > 0 and the buffer is
   * empty. Cost: O(n).
   */
  sample(n: number): Transitions {
    checkInt('n', n, 0, MAX_SAMPLE);
    return this.call('sample', () => {
      const rt = this.rt;
      if (n > 0 && rt.exports.trajectorySize(this.handle) === 0)
        throw new InvalidArgumentError('cannot sample from an empty trajectory buffer');
      const out = rt.stage(SLOT_OUT, n * TRANSITION_BYTES, 'sample');
      rt.exports.trajectorySample(this.handle, n, out);
      return readBatch(rt, out, n);
    });
  }

  /** Every transition held, oldest first, as typed arrays (e.g. to replay a whole episode). Cost: O(size). */
  toBatch(): Transitions {
    return this.call('toBatch', () => {
      const rt = this.rt;
      const n = rt.exports.trajectorySize(this.handle);
      const out = rt.stage(SLOT_OUT, n * TRANSITION_BYTES, 'toBatch');
      rt.exports.trajectoryOrdered(this.handle, out);
      return readBatch(rt, out, n);
    });
  }

  /** Forgets every transition (the sampling generator keeps its state). Cost: O(1). */
  clear(): void {
    this.call('clear', () => this.rt.exports.trajectoryClear(this.handle));
  }

  /**
   * The buffer as self-describing bytes (capacity, generator state, transitions oldest first,
   * CRC-32; format in docs/format.md), for {@link Engine.loadTrajectoryBuffer}. Copied straight
   * out of the ring: takes no engine memory. Cost: O(size).
   */
  serialize(): Uint8Array {
    return this.call('serialize', () => encodeTrajectory(this.rt, this.handle));
  }

  /** Frees this object's blocks in the engine. */
  protected free(handle: number): void {
    this.rt.exports.trajectoryDispose(handle);
  }
}
