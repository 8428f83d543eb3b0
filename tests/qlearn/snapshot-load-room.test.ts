/**
 * Loading a Q-table or trajectory snapshot costs no engine memory beyond the object it builds
 * (the header goes to a static area, the rows straight into the object's blocks): an object of
 * ~60% of the budget loads back where it was (the whole snapshot used to be staged beside it,
 * ~2x), exact in every value, visit, parameter and later behaviour; a load fits with exactly the
 * object's room free and is BudgetExceededError one 64-byte grain short, changing nothing; corrupt
 * bytes are CorruptSnapshotError, changing nothing, in an engine with room and in a full one.
 * Both builds; the round trips in the threads builds too.
 */
import { BudgetExceededError, type Engine, type QTable, type TrajectoryBuffer } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectCorrupt, expectElexError } from '../helpers/errors';
import { fixCrc } from '../helpers/index-snapshot';
import { rng } from '../helpers/random';

const BUDGET = 4 << 20;
const ACTIONS = 30; // stride 32: two padding lanes a row
const ROWS = 9000;
const CAPACITY = 160_000; // 2.56 MB of records
/** Block sizes are multiples of 64 bytes (assembly/runtime/arena.ts). */
const GRAIN = 64;

/** Distinct sparse keys (an odd multiplier is a bijection of uint32). */
const keyOf = (i: number): number => Math.imul(i + 1, 0x9e3779b1) >>> 0;

/** A table of ROWS rows made by one batch (so exactly ROWS rows of capacity), then trained on them. */
function bigTable(eng: Engine, seed: number): QTable {
  const q = eng.createQTable({
    actions: ACTIONS,
    alpha: 0.3,
    gamma: 0.9,
    epsilon: 0.6,
    epsilonDecay: 0.9,
    epsilonMin: 0.05,
    initial: -0.25,
    seed,
  });
  const next = rng(seed);
  const states = Uint32Array.from({ length: ROWS }, (_, i) => keyOf(i));
  for (let round = 0; round < 4; round++) {
    q.batchUpdate({
      states: round === 0 ? states : states.map(() => keyOf(Math.floor(next() * ROWS))),
      actions: states.map(() => Math.floor(next() * ACTIONS)),
      rewards: Float32Array.from(states, () => next() * 4 - 2),
      nextStates: states.map(() => keyOf(Math.floor(next() * ROWS * 1.1))),
      dones: Uint8Array.from(states, () => (next() < 0.1 ? 1 : 0)),
    });
  }
  for (let i = 0; i < 3; i++) q.decayEpsilon();
  return q;
}

/** A ring of CAPACITY records, wrapped (so its oldest record is not in slot 0). */
function bigRing(eng: Engine, seed: number): TrajectoryBuffer {
  const t = eng.createTrajectoryBuffer({ capacity: CAPACITY, seed });
  const next = rng(seed);
  for (let i = 0; i < CAPACITY + 12_345; i++)
    t.push(Math.floor(next() * 2 ** 32), i % 1000, next() * 10 - 5, Math.floor(next() * 2 ** 32), next() < 0.05);
  t.sample(3);
  return t;
}

/** Parameters, every value and every visit count of the table's rows. */
function tableState(q: QTable): unknown[] {
  const out: unknown[] = [q.actions, q.alpha, q.gamma, q.initial, q.epsilonDecay, q.epsilonMin, q.epsilon, q.size];
  for (let i = 0; i < ROWS; i++) {
    const s = keyOf(i);
    out.push(Array.from(q.values(s)));
    for (let a = 0; a < ACTIONS; a++) out.push(q.visits(s, a));
  }
  return out;
}

/**
 * What the table does from here on: greedy and epsilon-greedy choices, updates of its states,
 * epsilon. (Not a new state: the original kept the room its growth left, the copy has exactly
 * its rows, so near the budget a new row fits one and not the other.)
 */
function tableFuture(q: QTable): unknown[] {
  const next = rng(99);
  const out: unknown[] = [];
  for (let i = 0; i < 400; i++) {
    const s = keyOf(Math.floor(next() * ROWS * 1.05));
    out.push(q.selectAction(s), q.bestAction(s));
    out.push(q.update(keyOf(Math.floor(next() * ROWS)), i % ACTIONS, next() - 0.5, s, i % 9 === 0));
  }
  q.decayEpsilon();
  out.push(q.epsilon, q.size, Buffer.from(q.serialize()).toString('base64'));
  return out;
}

/** What the ring does from here on: samples, pushes, its snapshot. */
function ringFuture(t: TrajectoryBuffer): unknown[] {
  const out: unknown[] = [t.size, t.capacity, t.sample(2000)];
  for (let i = 0; i < 5000; i++) t.push(i, i % 7, i / 8, i + 1, i % 11 === 0);
  out.push(t.sample(500), t.size, Buffer.from(t.serialize()).toString('base64'));
  return out;
}

/** Runs `load` with the peak reset; expects it to raise usedBytes and its peak by exactly the object's bytes. */
function loadCostingTheObject<T extends QTable | TrajectoryBuffer>(eng: Engine, load: () => T): T {
  eng.resetPeakUsedBytes();
  const before = eng.usedBytes;
  const object = load();
  expect(eng.usedBytes - before).toBe(object.usedBytes);
  expect(eng.peakUsedBytes - before).toBe(object.usedBytes);
  return object;
}

/** An engine of BUDGET whose free room is exactly `room` bytes past its arena's top (filled with one ring). */
async function engineWithRoom(simd: 'on' | 'off', room: number): Promise<Engine> {
  const eng = await engine(simd, { budgetBytes: BUDGET });
  expect(eng.usedBytes).toBe(eng.reservedBytes); // no free holes: everything new goes at the top
  // A ring of c records takes a 64-byte header block and a block of 16 c bytes plus a 16-byte block header, rounded up to 64.
  const fill = BUDGET - eng.reservedBytes - room;
  expect(fill % GRAIN).toBe(0);
  eng.createTrajectoryBuffer({ capacity: 4 * (fill / GRAIN - 1) - 1 });
  expect(BUDGET - eng.reservedBytes).toBe(room);
  return eng;
}

/** Fills `eng` until not even a one-record ring fits. */
function fillUp(eng: Engine): void {
  for (const capacity of [1 << 16, 4096, 256, 16, 1])
    for (;;) {
      try {
        eng.createTrajectoryBuffer({ capacity });
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        break;
      }
    }
}

describe.each(BUILDS)('loads cost no budget beyond the object (simd %s)', (simd) => {
  let tableBytes: Uint8Array;
  let ringBytes: Uint8Array;
  /** Engine bytes of the loaded objects: the arena room their loads need. */
  let tableRoom: number;
  let ringRoom: number;
  beforeAll(async () => {
    const roomy = await engine(simd, { budgetBytes: 64 << 20 });
    tableBytes = bigTable(roomy, 3).serialize();
    ringBytes = bigRing(roomy, 4).serialize();
    const table = roomy.loadQTable(tableBytes);
    const ring = roomy.loadTrajectoryBuffer(ringBytes);
    [tableRoom, ringRoom] = [table.usedBytes, ring.usedBytes];
    roomy.dispose();
  });

  // threads 2: the threads build, its memory shared with a worker.
  test.each([1, 2])(
    'a Q-table of ~60%% of the budget loads back, exact in every value, visit, parameter and later update (threads %i)',
    async (threads) => {
      const eng = await engine(simd, { budgetBytes: BUDGET, threads });
      expect(eng.threads).toBe(threads);
      const q = bigTable(eng, 5);
      expect(q.usedBytes / BUDGET).toBeGreaterThan(0.55);
      expect(q.usedBytes / BUDGET).toBeLessThan(0.7);
      const bytes = q.serialize();
      // Staged whole beside the table, the snapshot did not fit.
      expect(eng.usedBytes + bytes.length).toBeGreaterThan(BUDGET);
      const state = tableState(q);
      const future = tableFuture(q);
      q.dispose();
      const copy = loadCostingTheObject(eng, () => eng.loadQTable(bytes));
      expect(Buffer.compare(copy.serialize(), bytes)).toBe(0);
      expect(tableState(copy)).toEqual(state);
      expect(tableFuture(copy)).toEqual(future);
      eng.dispose();
    },
  );

  test.each([1, 2])(
    'a trajectory buffer of ~60%% of the budget loads back, exact in every record, order and sample (threads %i)',
    async (threads) => {
      const eng = await engine(simd, { budgetBytes: BUDGET, threads });
      expect(eng.threads).toBe(threads);
      const t = bigRing(eng, 6);
      expect(t.usedBytes / BUDGET).toBeGreaterThan(0.55);
      expect(t.usedBytes / BUDGET).toBeLessThan(0.7);
      const bytes = t.serialize();
      expect(eng.usedBytes + bytes.length).toBeGreaterThan(BUDGET);
      const future = ringFuture(t);
      t.dispose();
      const copy = loadCostingTheObject(eng, () => eng.loadTrajectoryBuffer(bytes));
      expect(Buffer.compare(copy.serialize(), bytes)).toBe(0);
      expect(ringFuture(copy)).toEqual(future);
      eng.dispose();
    },
  );

  test.each(['table', 'ring'] as const)(
    'a %s loads with exactly its room free, and one grain less is E_BUDGET changing nothing',
    async (kind) => {
      const [bytes, room] = kind === 'table' ? [tableBytes, tableRoom] : [ringBytes, ringRoom];
      const load = (e: Engine) => (kind === 'table' ? e.loadQTable(bytes) : e.loadTrajectoryBuffer(bytes));
      // The arena's top sits 16 bytes before a grain, so the free room is the object's plus 16
      // bytes, or 48 bytes short of it.
      const fits = await engineWithRoom(simd, room + 16);
      const loaded = load(fits);
      expect(Buffer.compare(loaded.serialize(), bytes)).toBe(0);
      expect(BUDGET - fits.reservedBytes).toBe(16);
      fits.dispose();
      const short = await engineWithRoom(simd, room + 16 - GRAIN);
      const before = [short.usedBytes, short.reservedBytes];
      expectElexError(() => load(short), BudgetExceededError, 'E_BUDGET');
      expect([short.usedBytes, short.reservedBytes]).toEqual(before);
      // Nothing is left half-built: the next load is refused the same way.
      expectElexError(() => load(short), BudgetExceededError, 'E_BUDGET');
      expect([short.usedBytes, short.reservedBytes]).toEqual(before);
      short.dispose();
    },
  );

  test('corrupt bytes are E_CORRUPT changing nothing, in an engine with room and in a full one', async () => {
    const flip = (b: Uint8Array, at: number): Uint8Array => {
      const c = b.slice();
      c[at] ^= 0x40;
      return c;
    };
    const set = (b: Uint8Array, write: (v: DataView) => void): Uint8Array => {
      const c = b.slice();
      write(new DataView(c.buffer));
      return fixCrc(c);
    };
    const values = 80 + 4 * ROWS;
    const visits = values + 4 * ROWS * ACTIONS;
    const corruptTables = [
      flip(tableBytes, 80 + 4 * 1234), // a key
      flip(tableBytes, values + 4 * 777 + 3), // a value
      flip(tableBytes, visits + 4 * 555), // a visit count
      flip(tableBytes, 16 + 7), // alpha
      set(tableBytes, (v) => v.setFloat64(16, 1.5, true)), // alpha out of [0, 1], resealed
      set(tableBytes, (v) => v.setFloat64(32, Number.NaN, true)), // initial
      set(tableBytes, (v) => v.setFloat64(56, -0.5, true)), // epsilonMin
      set(tableBytes, (v) => v.setBigUint64(64, 0n, true)), // the generator's state
      set(tableBytes, (v) => v.setUint32(76, 1, true)), // reserved
      set(tableBytes, (v) => v.setUint32(8, ACTIONS + 1, true)), // actions: the length no longer matches
      set(tableBytes, (v) => v.setUint32(80 + 4 * (ROWS - 1), v.getUint32(80 + 4 * 17, true), true)), // a repeated key
      set(tableBytes, (v) => v.setFloat32(values + 4 * 4321, Number.POSITIVE_INFINITY, true)), // a value
    ];
    const records = 32;
    const corruptRings = [
      flip(ringBytes, records + 16 * 999 + 5), // a record
      flip(ringBytes, 8), // capacity
      set(ringBytes, (v) => v.setFloat32(records + 16 * 4000 + 8, Number.NaN, true)), // a reward
      set(ringBytes, (v) => v.setBigUint64(16, 0n, true)), // the generator's state
      set(ringBytes, (v) => v.setUint32(28, 9, true)), // reserved
      set(ringBytes, (v) => v.setUint32(8, CAPACITY - 1, true)), // size > capacity
    ];
    const roomy = await engine(simd, { budgetBytes: BUDGET });
    roomy.createQTable({ actions: 3 }).update(1, 2, 3, 4);
    const full = await engine(simd, { budgetBytes: BUDGET });
    fillUp(full);
    for (const eng of [roomy, full]) {
      const before = [eng.usedBytes, eng.reservedBytes];
      for (const bad of corruptTables) {
        expectCorrupt(() => eng.loadQTable(bad));
        expect([eng.usedBytes, eng.reservedBytes]).toEqual(before);
      }
      for (const bad of corruptRings) {
        expectCorrupt(() => eng.loadTrajectoryBuffer(bad));
        expect([eng.usedBytes, eng.reservedBytes]).toEqual(before);
      }
    }
    // The sound bytes: loaded where there is room, E_BUDGET in the full engine.
    roomy.loadQTable(tableBytes).dispose();
    expectElexError(() => full.loadQTable(tableBytes), BudgetExceededError, 'E_BUDGET');
    expectElexError(() => full.loadTrajectoryBuffer(ringBytes), BudgetExceededError, 'E_BUDGET');
    roomy.dispose();
    full.dispose();
  });
});
