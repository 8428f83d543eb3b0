/**
 * Transition batches: what `QTable.batchUpdate` takes and `TrajectoryBuffer.sample` returns,
 * their checks, and their copy to and from WebAssembly memory. In memory a batch is one block
 * of five uint32 arrays (assembly/qlearn/batch.ts): states, actions, rewards (as float32),
 * nextStates, dones; 20 bytes a transition.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { F32_MAX, checkArrayLike, checkId } from '../util/validate.js';

/** Bytes a transition takes in a batch block. */
export const TRANSITION_BYTES = 20;

/** A batch of transitions: entry i of every array is one (s, a, r, s', done). */
export interface TransitionBatch {
  /** State keys, uint32. */
  states: ArrayLike<number>;
  /** Actions taken, integers in 0..actions-1. */
  actions: ArrayLike<number>;
  /** Rewards, finite float32 values. */
  rewards: ArrayLike<number>;
  /** Next-state keys, uint32. */
  nextStates: ArrayLike<number>;
  /** Terminal flags (non-zero or true = the episode ended); default all false. */
  dones?: ArrayLike<number | boolean>;
}

/** A batch as typed arrays, as `TrajectoryBuffer.sample` returns it. */
export interface Transitions extends TransitionBatch {
  states: Uint32Array;
  actions: Uint32Array;
  rewards: Float32Array;
  nextStates: Uint32Array;
  dones: Uint8Array;
}

/** Throws unless `reward` is a finite number that stays finite as float32. */
export function checkReward(reward: unknown, name = 'reward'): number {
  if (typeof reward !== 'number' || !(Math.abs(reward) <= F32_MAX)) {
    throw new InvalidArgumentError(`${name} must be a finite float32 number, got ${String(reward)}`);
  }
  return reward;
}

/** Throws unless `action` is an integer in [0, actions). */
export function checkAction(action: unknown, actions: number, name = 'action'): number {
  if (typeof action !== 'number' || !Number.isInteger(action) || action < 0 || action >= actions) {
    throw new InvalidArgumentError(`${name} must be an integer in [0, ${actions - 1}], got ${String(action)}`);
  }
  return action;
}

/** Throws unless `done` is a boolean, 0 or 1. */
export function checkDone(done: unknown, name = 'done'): boolean {
  if (typeof done === 'boolean') return done;
  if (done === 0 || done === 1) return done === 1;
  throw new InvalidArgumentError(`${name} must be a boolean (or 0/1), got ${String(done)}`);
}

/**
 * Checks every entry of `batch` (typed arrays skip the checks their type already guarantees)
 * against a table of `actions` actions and returns its length. Cost: O(n).
 */
export function checkBatch(batch: TransitionBatch, actions: number): number {
  if (batch === null || typeof batch !== 'object') throw new InvalidArgumentError('batch must be an object of arrays');
  const n = checkArrayLike('states', batch.states).length;
  for (const name of ['actions', 'rewards', 'nextStates'] as const) {
    if (checkArrayLike(name, batch[name]).length !== n) {
      throw new InvalidArgumentError(
        `batch arrays must have equal lengths: states has ${n}, ${name} has ${batch[name].length}`,
      );
    }
  }
  if (batch.dones !== undefined && checkArrayLike('dones', batch.dones).length !== n) {
    throw new InvalidArgumentError(
      `batch arrays must have equal lengths: states has ${n}, dones has ${batch.dones.length}`,
    );
  }
  checkKeys(batch.states, 'states');
  checkKeys(batch.nextStates, 'nextStates');
  const acts = batch.actions;
  if (acts instanceof Uint32Array || acts instanceof Uint16Array || acts instanceof Uint8Array) {
    for (let i = 0; i < n; i++) if (acts[i] >= actions) checkAction(acts[i], actions, `actions[${i}]`);
  } else {
    for (let i = 0; i < n; i++) checkAction(acts[i], actions, `actions[${i}]`);
  }
  const rewards = batch.rewards;
  if (rewards instanceof Float32Array) {
    for (let i = 0; i < n; i++) if (rewards[i] - rewards[i] !== 0) checkReward(rewards[i], `rewards[${i}]`);
  } else {
    for (let i = 0; i < n; i++) checkReward(rewards[i], `rewards[${i}]`);
  }
  const dones = batch.dones;
  if (dones !== undefined && !(dones instanceof Uint8Array)) {
    for (let i = 0; i < n; i++) checkDone(dones[i], `dones[${i}]`);
  }
  return n;
}

function checkKeys(keys: ArrayLike<number>, name: string): void {
  if (keys instanceof Uint32Array) return;
  for (let i = 0; i < keys.length; i++) checkId(keys[i], `${name}[${i}]`);
}

/** Copies a checked batch of n transitions into the block at `ptr`. Cost: five typed-array copies. */
export function writeBatch(rt: Runtime, ptr: number, batch: TransitionBatch, n: number): void {
  const u32 = rt.u32();
  const at = ptr >>> 2;
  u32.set(batch.states, at);
  u32.set(batch.actions, at + n);
  rt.f32().set(batch.rewards, at + 2 * n);
  u32.set(batch.nextStates, at + 3 * n);
  if (batch.dones === undefined) u32.fill(0, at + 4 * n, at + 5 * n);
  else u32.set(batch.dones as ArrayLike<number>, at + 4 * n);
}

/** Copies the n-transition block at `ptr` out into fresh typed arrays. Cost: O(n). */
export function readBatch(rt: Runtime, ptr: number, n: number): Transitions {
  const u32 = rt.u32();
  const at = ptr >>> 2;
  return {
    states: u32.slice(at, at + n),
    actions: u32.slice(at + n, at + 2 * n),
    rewards: rt.f32().slice(at + 2 * n, at + 3 * n),
    nextStates: u32.slice(at + 3 * n, at + 4 * n),
    dones: new Uint8Array(u32.subarray(at + 4 * n, at + 5 * n)),
  };
}
