/**
 * QTable and TrajectoryBuffer under a small budget (1 MiB): growth stops with
 * BudgetExceededError (E_BUDGET) and the failed call changes nothing; batchUpdate and merge
 * reserve rows for every new state before applying anything. Both builds.
 */
import { BudgetExceededError, type Engine, type QTable } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';

const ACTIONS = 64;

/** A batch over `count` states from `first`, each updated once (action = state mod ACTIONS). */
function batchOf(first: number, count: number) {
  const states = new Uint32Array(count).map((_, i) => first + i);
  return {
    states,
    actions: states.map((s) => s % ACTIONS),
    rewards: new Float32Array(count).fill(1),
    nextStates: states.map((s) => s + 1),
    dones: new Uint8Array(count),
  };
}

/** Values and visits of states [0, count), read without allocating anything in the engine. */
function contents(q: QTable, count: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < count + 5; s++) {
    out.push(...q.values(s));
    for (let a = 0; a < ACTIONS; a += 7) out.push(q.visits(s, a));
  }
  return out;
}

function expectBudget(body: () => unknown): void {
  expectElexError(body, BudgetExceededError, 'E_BUDGET');
}

describe.each(BUILDS)('Q-learning under a 1 MiB budget (simd %s)', (simd) => {
  let eng: Engine;
  beforeEach(async () => {
    eng = await engine(simd, { budgetBytes: 1 << 20 });
  });
  afterEach(() => eng.dispose());

  /**
   * Fills q with batches of 500 new states until one fails; returns the states it holds. The
   * staging block of a 500-transition batch is then in place, so a later batch of that size
   * fails while reserving rows, not while staging.
   */
  function fill(q: QTable): number {
    let held = 0;
    for (;;) {
      try {
        q.batchUpdate(batchOf(held, 500));
      } catch (e) {
        expect(e).toBeInstanceOf(BudgetExceededError);
        return held;
      }
      held += 500;
    }
  }

  test('batchUpdate that cannot reserve its new rows throws E_BUDGET and changes nothing', () => {
    const q = eng.createQTable({ actions: ACTIONS });
    const held = fill(q);
    expect(held).toBeGreaterThan(0);
    expect(q.size).toBe(held);
    const snapshot = contents(q, held);
    // Known states first (they would change if anything were applied), then too many new ones.
    const mixed = batchOf(0, 500);
    mixed.states.set(batchOf(held, 400).states, 100);
    expectBudget(() => q.batchUpdate(mixed));
    expect(q.size).toBe(held);
    expect(contents(q, held)).toEqual(snapshot);
    // The table still works: updates of known states need no memory.
    q.batchUpdate(batchOf(0, 100));
    expect(q.visits(5, 5)).toBe(2);
    expect(q.values(held + 1)).toEqual(new Float32Array(ACTIONS));
  });

  test('update() of a new state past the budget throws E_BUDGET and changes nothing', () => {
    const q = eng.createQTable({ actions: ACTIONS });
    let s = 0;
    let error: unknown;
    for (; ; s++) {
      try {
        q.update(s, 3, 1, s + 1);
      } catch (e) {
        error = e;
        break;
      }
    }
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(q.size).toBe(s);
    expect(q.get(s, 3)).toBe(0);
    expect(q.visits(s, 3)).toBe(0);
    expect(q.update(0, 3, 1, 1)).toBeGreaterThan(q.get(1, 3));
  });

  test('merge that cannot reserve its rows throws E_BUDGET and changes nothing', () => {
    const a = eng.createQTable({ actions: ACTIONS });
    const b = eng.createQTable({ actions: ACTIONS });
    b.batchUpdate(batchOf(100000, 600));
    const held = fill(a);
    const snapshot = contents(a, held);
    expectBudget(() => a.merge(b, 0.5));
    expect(a.size).toBe(held);
    expect(contents(a, held)).toEqual(snapshot);
    expect(a.values(100000)).toEqual(new Float32Array(ACTIONS));
  });

  test('creating or loading what does not fit throws E_BUDGET', () => {
    const q = eng.createQTable({ actions: ACTIONS });
    q.batchUpdate(batchOf(0, 600));
    const bytes = q.serialize();
    expect(bytes.length).toBeGreaterThan(300000);
    // A copy beside it fits (a load costs the table only); a second copy does not.
    const copy = eng.loadQTable(bytes);
    const used = eng.usedBytes;
    expectBudget(() => eng.loadQTable(bytes));
    expect(eng.usedBytes).toBe(used);
    copy.dispose();
    expectBudget(() => eng.createTrajectoryBuffer({ capacity: 1 << 20 }));
    expectBudget(() => eng.createQTable({ actions: 65536 }));
    expect(q.size).toBe(600);
  });
});
