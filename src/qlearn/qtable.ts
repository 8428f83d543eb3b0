/**
 * QTable: tabular Q-learning over sparse uint32 state keys, living in the engine's linear
 * memory. Every method validates its arguments first, then makes one call into WebAssembly;
 * a call that throws leaves the table as it was.
 */
import { DisposedError, InvalidArgumentError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { EngineObject } from '../runtime/engine-object.js';
import { encodeQTable, fillQTable, loadSnapshot, qtableRowsValid } from './snapshot.js';
import {
  checkAction,
  checkBatch,
  checkDone,
  checkReward,
  writeBatch,
  TRANSITION_BYTES,
  type TransitionBatch,
} from './transitions.js';
import { F32_MAX, checkId, checkInt, checkNumber, checkOptionNames, optionNames } from '../util/validate.js';
import { SLOT_IDS, STATUS_OK } from '../runtime/wasm/exports.js';

/** Most actions a table may have. */
export const MAX_ACTIONS = 65536;
/** Batches above this many transitions give their staging memory back after the call. */
const LARGE_BATCH = 1 << 16;

/** Options of {@link Engine.createQTable}. */
export interface QTableOptions {
  /** Number of actions, 1..65536; actions are 0..actions-1. */
  actions: number;
  /**
   * Learning rate in [0, 1].
   *
   * @defaultValue `0.1`
   */
  alpha?: number;
  /**
   * Discount of the next state's value in [0, 1].
   *
   * @defaultValue `0.95`
   */
  gamma?: number;
  /**
   * Exploration rate of selectAction in [0, 1].
   *
   * @defaultValue `0.1`
   */
  epsilon?: number;
  /**
   * Factor decayEpsilon multiplies epsilon by, in [0, 1].
   *
   * @defaultValue `0.995`
   */
  epsilonDecay?: number;
  /**
   * Floor decayEpsilon stops at, in [0, 1].
   *
   * @defaultValue `0.01`
   */
  epsilonMin?: number;
  /**
   * Value of every (state, action) before its first update (finite float32).
   *
   * @defaultValue `0`
   */
  initial?: number;
  /**
   * Seed of selectAction's generator, uint32: the same seed and calls give the same actions.
   *
   * @defaultValue `42`
   */
  seed?: number;
}

const QTABLE_OPTIONS = optionNames<QTableOptions>({
  actions: true,
  alpha: true,
  gamma: true,
  epsilon: true,
  epsilonDecay: true,
  epsilonMin: true,
  initial: true,
  seed: true,
});

/** Options with their defaults filled in, checked. */
export type QTableParams = Required<QTableOptions>;

/** Checks QTableOptions and fills in defaults. */
export function resolveQTableOptions(options: QTableOptions): QTableParams {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('Q-table options must be an object');
  checkOptionNames('createQTable', options, QTABLE_OPTIONS);
  return {
    actions: checkInt('actions', options.actions, 1, MAX_ACTIONS),
    alpha: checkNumber('alpha', options.alpha ?? 0.1, 0, 1),
    gamma: checkNumber('gamma', options.gamma ?? 0.95, 0, 1),
    epsilon: checkNumber('epsilon', options.epsilon ?? 0.1, 0, 1),
    epsilonDecay: checkNumber('epsilonDecay', options.epsilonDecay ?? 0.995, 0, 1),
    epsilonMin: checkNumber('epsilonMin', options.epsilonMin ?? 0.01, 0, 1),
    initial: checkNumber('initial', options.initial ?? 0, -F32_MAX, F32_MAX),
    seed: checkInt('seed', options.seed ?? 42, 0, 0xffffffff),
  };
}

/** Creates a table in `rt` (one call); throws BudgetExceededError if even an empty one does not fit. */
export function createQTable(rt: Runtime, options: QTableOptions): QTable {
  const p = resolveQTableOptions(options);
  return rt.run('createQTable', () => {
    const handle = rt.exports.qtableCreate(
      p.actions,
      p.alpha,
      p.gamma,
      p.epsilon,
      p.epsilonDecay,
      p.epsilonMin,
      p.initial,
      p.seed,
    );
    if (handle === 0) throw rt.budgetError('createQTable');
    return new QTable(rt, handle);
  });
}

/** Rebuilds a table from {@link QTable.serialize} bytes; CorruptSnapshotError for anything else. */
export function loadQTable(rt: Runtime, bytes: Uint8Array): QTable {
  const format = {
    magic: 'EXQT',
    headerBytes: 80,
    length: (p: number) => rt.exports.qtableSnapshotLength(p),
    begin: (p: number) => rt.exports.qtableLoadBegin(p),
    fill: (h: number, words: Uint32Array) => fillQTable(rt, h, words),
    rowsValid: qtableRowsValid,
  };
  return rt.atomicLoad('loadQTable', () => new QTable(rt, loadSnapshot(rt, bytes, format, 'loadQTable')));
}

/**
 * Tabular Q-learning over sparse uint32 state keys, living in the engine's linear memory (create
 * one with {@link Engine.createQTable}). Every method validates its arguments first, then makes
 * one call into WebAssembly; a call that throws leaves the table as it was.
 *
 * @example
 * ```ts
 * const q = engine.createQTable({ actions: 4, alpha: 0.1, gamma: 0.95 });
 * const a = q.selectAction(state);          // epsilon-greedy
 * q.update(state, a, reward, nextState, done);
 * const saved = q.serialize();              // engine.loadQTable(saved) restores it
 * ```
 */
export class QTable extends EngineObject {
  /** Number of actions; actions are 0..actions-1. */
  readonly actions: number;
  /** Learning rate. */
  readonly alpha: number;
  /** Discount factor. */
  readonly gamma: number;
  /** Value of an entry before its first update. */
  readonly initial: number;
  /** Factor decayEpsilon applies. */
  readonly epsilonDecay: number;
  /** Floor of decayEpsilon. */
  readonly epsilonMin: number;

  /** @internal Use {@link Engine.createQTable} or {@link Engine.loadQTable}. */
  constructor(rt: Runtime, handle: number) {
    super(rt, handle, 'Q-table');
    const ex = rt.exports;
    this.actions = ex.qtableActions(handle);
    this.alpha = ex.qtableParam(handle, 0);
    this.gamma = ex.qtableParam(handle, 1);
    this.initial = ex.qtableParam(handle, 2);
    this.epsilonDecay = ex.qtableParam(handle, 4);
    this.epsilonMin = ex.qtableParam(handle, 5);
  }

  /** Number of states with a row (states that have been updated, or merged in). Cost: O(1). */
  get size(): number {
    return this.call('size', () => this.rt.exports.qtableSize(this.handle));
  }

  /** Engine bytes the table holds: its header and blocks (rows, keys, state map). Cost: O(1). */
  get usedBytes(): number {
    return this.call('usedBytes', () => this.rt.exports.qtableFootprint(this.handle) >>> 0);
  }

  /** Current exploration rate of selectAction. */
  get epsilon(): number {
    return this.call('epsilon', () => this.rt.exports.qtableParam(this.handle, 3));
  }

  /** Q(state, action) as float32; `initial` for a state without a row (no row is created). Cost: O(1). */
  get(state: number, action: number): number {
    checkId(state, 'state');
    checkAction(action, this.actions);
    return this.call('get', () => this.rt.exports.qtableGet(this.handle, state, action));
  }

  /** A copy of the state's row (`actions` values; all `initial` without a row). Cost: O(actions). */
  values(state: number): Float32Array {
    checkId(state, 'state');
    return this.call('values', () => {
      const ptr = this.rt.exports.qtableRow(this.handle, state);
      if (ptr === 0) return new Float32Array(this.actions).fill(this.initial);
      return this.rt.f32().slice(ptr >>> 2, (ptr >>> 2) + this.actions);
    });
  }

  /** How many updates (state, action) has had (merge can change it). Cost: O(1). */
  visits(state: number, action: number): number {
    checkId(state, 'state');
    checkAction(action, this.actions);
    return this.call('visits', () => this.rt.exports.qtableVisits(this.handle, state, action) >>> 0);
  }

  /**
   * Applies Q[s,a] += alpha * (r + gamma * (done ? 0 : max_a' Q[s',a']) - Q[s,a]) in float32
   * and returns the new Q[s,a]. Creates the row of `state` if it has none (a next state without
   * a row counts as all `initial`, and gets no row). Throws InvalidArgumentError or
   * BudgetExceededError, changing nothing. Cost: O(actions).
   *
   * @throws {@link InvalidArgumentError} for a bad state, action, reward or `done`.
   * @throws {@link BudgetExceededError} if a new row does not fit (the table is unchanged).
   */
  update(state: number, action: number, reward: number, nextState: number, done: boolean = false): number {
    checkId(state, 'state');
    checkAction(action, this.actions);
    checkReward(reward);
    checkId(nextState, 'nextState');
    const terminal = checkDone(done);
    return this.call('update', () => {
      const ex = this.rt.exports;
      if (ex.qtableUpdate(this.handle, state, action, reward, nextState, terminal ? 1 : 0) !== STATUS_OK) {
        throw this.rt.budgetError('update');
      }
      return ex.qtableLastValue(this.handle);
    });
  }

  /**
   * Applies every transition of `batch` in order, with exactly the result of calling update()
   * for each, in one call into WebAssembly. All or nothing: a bad entry or a budget shortfall
   * throws before anything changes (rows for every new state are reserved first).
   * Cost: O(n * actions), plus copying the arrays into linear memory.
   */
  batchUpdate(batch: TransitionBatch): void {
    const n = checkBatch(batch, this.actions);
    if (n === 0) return;
    this.atomic('batchUpdate', () => {
      const rt = this.rt;
      const ptr = rt.stage(SLOT_IDS, n * TRANSITION_BYTES, 'batchUpdate');
      writeBatch(rt, ptr, batch, n);
      const status = rt.exports.qtableBatchUpdate(this.handle, ptr, n);
      if (n > LARGE_BATCH) rt.exports.stagingRelease();
      if (status !== STATUS_OK) throw rt.budgetError('batchUpdate');
    });
  }

  /** The greedy action of `state`: argmax of its row, lowest action on ties (0 without a row). Cost: O(actions). */
  bestAction(state: number): number {
    checkId(state, 'state');
    return this.call('bestAction', () => this.rt.exports.qtableBestAction(this.handle, state));
  }

  /**
   * Epsilon-greedy: with probability epsilon a uniform random action, else bestAction(state).
   * Draws from the table's seeded generator (saved by serialize), so runs are reproducible.
   * Cost: O(actions).
   */
  selectAction(state: number): number {
    checkId(state, 'state');
    return this.call('selectAction', () => this.rt.exports.qtableSelectAction(this.handle, state));
  }

  /** epsilon = max(epsilon * epsilonDecay, epsilonMin); an epsilon already below epsilonMin is kept. Cost: O(1). */
  decayEpsilon(): void {
    this.call('decayEpsilon', () => this.rt.exports.qtableDecayEpsilon(this.handle));
  }

  /**
   * Folds what `other` (same engine, same action count) learned into this table: each entry
   * becomes the average of the two, weighted by `weight` times other's visits and
   * (1 - weight) times this table's. With ws = (1 - weight) * visits, wo = weight * other's
   * visits, where ws + wo > 0: Q = (ws * Q + wo * Q_other) / (ws + wo) (float64, stored as
   * float32) and visits = max(1, round(ws + wo)); other entries stay. So weight 0 keeps this
   * table, weight 1 takes other's values and visits wherever other has visits, and for weights
   * in (0, 1) a.merge(b, w) equals b.merge(a, 1 - w) (up to the rounding of 1 - w). Other is
   * not changed. Throws InvalidArgumentError or BudgetExceededError, changing nothing.
   * Cost: O((this table's rows + other's rows) * actions).
   *
   * @throws {@link InvalidArgumentError} for another engine's table, other actions, or a bad weight.
   * @throws {@link BudgetExceededError} if the new rows do not fit (the table is unchanged).
   */
  merge(other: QTable, weight: number): void {
    if (!(other instanceof QTable)) throw new InvalidArgumentError('merge expects a QTable');
    checkNumber('weight', weight, 0, 1);
    if (other.rt !== this.rt)
      throw new InvalidArgumentError(
        'merge expects a QTable of the same engine (load other.serialize() into this engine first)',
      );
    if (other.actions !== this.actions) {
      throw new InvalidArgumentError(`merge expects a QTable of ${this.actions} actions, got one of ${other.actions}`);
    }
    if (other.handle === 0) throw new DisposedError('the other Q-table');
    this.call('merge', () => {
      // Checked again here: a call retried after a relieve (EngineObject) may find other freed.
      if (other.handle === 0) throw new DisposedError('the other Q-table');
      if (this.rt.exports.qtableMerge(this.handle, other.handle, weight) !== STATUS_OK)
        throw this.rt.budgetError('merge');
    });
  }

  /**
   * The table as self-describing bytes (parameters, epsilon, generator state, rows, visits,
   * CRC-32; format in docs/format.md), for {@link Engine.loadQTable}. Copied straight out of
   * the table's blocks: takes no engine memory, so it works in a full engine.
   * Cost: O(rows * actions).
   */
  serialize(): Uint8Array {
    return this.call('serialize', () => encodeQTable(this.rt, this.handle));
  }

  /** Frees this object's blocks in the engine. */
  protected free(handle: number): void {
    this.rt.exports.qtableDispose(handle);
  }
}
