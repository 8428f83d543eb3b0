/**
 * Snapshots of QTable and TrajectoryBuffer: exact round trips (values, visits, epsilon, the
 * generators' states), across builds, and refusal of corrupt, truncated or foreign bytes with
 * CorruptSnapshotError (E_CORRUPT) and nothing allocated. Both builds.
 */
import { BudgetExceededError, InvalidArgumentError, MIN_BUDGET_BYTES, type Engine, type QTable } from '../../src/index';
import { BUILDS, bothBuildsTest, engine, otherBuild } from '../helpers/engines';
import { expectCorrupt } from '../helpers/errors';
import { rng } from '../helpers/random';

/** A table trained on a random stream over sparse keys, with decayed epsilon. */
function trained(eng: Engine, seed: number): QTable {
  const q = eng.createQTable({
    actions: 7,
    alpha: 0.3,
    gamma: 0.8,
    epsilon: 0.9,
    epsilonDecay: 0.9,
    epsilonMin: 0.05,
    initial: 0.5,
    seed,
  });
  const next = rng(seed);
  const keys = Array.from({ length: 60 }, () => Math.floor(next() * 2 ** 32));
  for (let i = 0; i < 2000; i++) {
    const s = keys[Math.floor(next() * keys.length)];
    q.update(s, Math.floor(next() * 7), next() * 2 - 1, keys[Math.floor(next() * keys.length)], next() < 0.1);
  }
  for (let i = 0; i < 5; i++) q.decayEpsilon();
  return q;
}

describe.each(BUILDS)('Q-learning snapshots (simd %s)', (simd) => {
  let eng: Engine;
  beforeAll(async () => {
    eng = await engine(simd);
  });
  afterAll(() => eng.dispose());

  test('a Q-table round trip keeps parameters, values, visits, epsilon and the generator', () => {
    const q = trained(eng, 5);
    const bytes = q.serialize();
    expect(bytes.length).toBe(80 + q.size * (4 + 8 * 7) + 4);
    const copy = eng.loadQTable(bytes);
    expect([
      copy.actions,
      copy.alpha,
      copy.gamma,
      copy.initial,
      copy.epsilonDecay,
      copy.epsilonMin,
      copy.epsilon,
    ]).toEqual([7, 0.3, 0.8, 0.5, 0.9, 0.05, q.epsilon]);
    expect(copy.size).toBe(q.size);
    expect(Buffer.compare(copy.serialize(), bytes)).toBe(0);
    // The same generator state: the same epsilon-greedy draws from here on.
    const states = Array.from({ length: 300 }, (_, i) => i % 17);
    expect(states.map((s) => copy.selectAction(s))).toEqual(states.map((s) => q.selectAction(s)));
    // And the same learning from here on.
    q.update(3, 1, 1, 4);
    copy.update(3, 1, 1, 4);
    expect(Buffer.compare(copy.serialize(), q.serialize())).toBe(0);
    q.dispose();
    copy.dispose();
  });

  test('an empty table round trips', () => {
    const q = eng.createQTable({ actions: 1 });
    const copy = eng.loadQTable(q.serialize());
    expect(copy.size).toBe(0);
    expect(copy.get(9, 0)).toBe(0);
    q.dispose();
    copy.dispose();
  });

  bothBuildsTest('snapshots load in the other build', async () => {
    const other = await engine(otherBuild(simd)!);
    const q = trained(eng, 8);
    const copy = other.loadQTable(q.serialize());
    expect(Buffer.compare(copy.serialize(), q.serialize())).toBe(0);
    other.dispose();
    q.dispose();
  });

  test('every flipped byte, every truncation and extension is E_CORRUPT with nothing allocated', () => {
    const q = trained(eng, 9);
    const bytes = q.serialize();
    // A load first (so the engine is in its steady state); usedBytes must then stay put.
    eng.loadQTable(bytes).dispose();
    const used = eng.usedBytes;
    for (let i = 0; i < bytes.length; i += i < 100 ? 1 : 7) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = bytes.slice();
        bad[i] ^= mask;
        expectCorrupt(() => eng.loadQTable(bad));
      }
    }
    for (const len of [0, 3, 4, 20, 83, 84, bytes.length - 4, bytes.length - 1])
      expectCorrupt(() => eng.loadQTable(bytes.slice(0, len)));
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expectCorrupt(() => eng.loadQTable(longer));
    expect(eng.usedBytes).toBe(used);
    q.dispose();
  });

  test('foreign bytes are E_CORRUPT: another kind of snapshot, random bytes, a valid checksum over bad contents', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 4 });
    expectCorrupt(() => eng.loadQTable(traj.serialize()));
    const q = eng.createQTable({ actions: 3 });
    expectCorrupt(() => eng.loadTrajectoryBuffer(q.serialize()));
    const next = rng(4);
    const random = Uint8Array.from({ length: 500 }, () => Math.floor(next() * 256));
    expectCorrupt(() => eng.loadQTable(random));
    random.set([0x45, 0x58, 0x51, 0x54]);
    expectCorrupt(() => eng.loadQTable(random));
    // Two rows with the same key, re-checksummed: structurally valid, semantically not.
    q.update(1, 0, 1, 2);
    q.update(2, 0, 1, 2);
    const dup = q.serialize();
    new DataView(dup.buffer).setUint32(84, 1, true);
    new DataView(dup.buffer).setUint32(dup.length - 4, crc32(dup.subarray(0, dup.length - 4)), true);
    expectCorrupt(() => eng.loadQTable(dup));
    // An alpha outside [0, 1], re-checksummed.
    const badAlpha = q.serialize();
    new DataView(badAlpha.buffer).setFloat64(16, 1.5, true);
    new DataView(badAlpha.buffer).setUint32(
      badAlpha.length - 4,
      crc32(badAlpha.subarray(0, badAlpha.length - 4)),
      true,
    );
    expectCorrupt(() => eng.loadQTable(badAlpha));
    expect(() => eng.loadQTable([1, 2, 3] as never)).toThrow(InvalidArgumentError);
    q.dispose();
    traj.dispose();
  });

  test('bad rows are E_CORRUPT in an engine they do not fit too', async () => {
    // The engine once found a repeated key or a NaN value while it built the table, after allocating
    // it: over the budget it stopped first and said E_BUDGET for bytes that are not a snapshot.
    const big = eng.createQTable({ actions: 64 });
    for (let st = 0; st < 3000; st++) big.update(st, 0, 1, 0);
    const reseal = (b: Uint8Array): Uint8Array => {
      new DataView(b.buffer).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
      return b;
    };
    const dup = big.serialize();
    new DataView(dup.buffer).setUint32(84, new DataView(dup.buffer).getUint32(80, true), true);
    const nan = big.serialize();
    new DataView(nan.buffer).setFloat32(80 + 3000 * 4, Number.NaN, true);
    const traj = eng.createTrajectoryBuffer({ capacity: 60000 });
    for (let i = 0; i < 3; i++) traj.push(i, 0, 1, i + 1, false);
    const badReward = traj.serialize();
    new DataView(badReward.buffer).setFloat32(32 + 16 + 8, Number.POSITIVE_INFINITY, true);
    const small = await engine(simd, { budgetBytes: MIN_BUDGET_BYTES });
    const filler = small.createQTable({ actions: 64 });
    for (let st = 0; st < 1500; st++) filler.update(st, 0, 1, 0); // the 1.5 MB snapshots' tables do not fit
    const before = small.usedBytes;
    // Nor does a 0.5 MB one's.
    const half = eng.createQTable({ actions: 64 });
    for (let st = 0; st < 1000; st++) half.update(st, 0, 1, 0);
    const halfDup = half.serialize();
    new DataView(halfDup.buffer).setUint32(84, new DataView(halfDup.buffer).getUint32(80, true), true);
    for (const bytes of [reseal(dup), reseal(nan), reseal(halfDup)]) {
      expectCorrupt(() => eng.loadQTable(bytes));
      expectCorrupt(() => small.loadQTable(bytes));
    }
    // The same rows unbroken are a budget error there.
    expect(() => small.loadQTable(half.serialize())).toThrow(BudgetExceededError);
    half.dispose();
    expectCorrupt(() => small.loadTrajectoryBuffer(reseal(badReward)));
    expect(small.usedBytes).toBe(before);
    small.dispose();
    big.dispose();
    traj.dispose();
  });

  test('in an engine with no room even for a header, corrupt bytes are E_CORRUPT and sound ones E_BUDGET', async () => {
    // When the fixed header was staged before any check, a full engine said E_BUDGET for any bytes.
    const q = eng.createQTable({ actions: 4 });
    for (let st = 0; st < 50; st++) q.update(st, st % 4, 1, 0);
    const t = eng.createTrajectoryBuffer({ capacity: 8 });
    for (let i = 0; i < 5; i++) t.push(i, 1, 1, i + 1);
    const [qBytes, tBytes] = [q.serialize(), t.serialize()];
    const full = await engine(simd, { budgetBytes: MIN_BUDGET_BYTES });
    for (const capacity of [4096, 256, 16, 1])
      for (;;) {
        try {
          full.createTrajectoryBuffer({ capacity });
        } catch {
          break;
        }
      }
    const flipped = (b: Uint8Array, at: number): Uint8Array => {
      const c = b.slice();
      c[at] ^= 1;
      return c;
    };
    const used = [full.usedBytes, full.reservedBytes];
    expectCorrupt(() => full.loadQTable(flipped(qBytes, 200)));
    expectCorrupt(() => full.loadQTable(qBytes.slice(0, qBytes.length - 8)));
    expectCorrupt(() => full.loadTrajectoryBuffer(flipped(tBytes, 40)));
    expect(() => full.loadQTable(qBytes)).toThrow(BudgetExceededError);
    expect(() => full.loadTrajectoryBuffer(tBytes)).toThrow(BudgetExceededError);
    expect([full.usedBytes, full.reservedBytes]).toEqual(used);
    full.dispose();
    q.dispose();
    t.dispose();
  });

  test('the checksum is the standard CRC-32', () => {
    const q = trained(eng, 2);
    const bytes = q.serialize();
    const stored = new DataView(bytes.buffer).getUint32(bytes.length - 4, true);
    expect(stored).toBe(crc32(bytes.subarray(0, bytes.length - 4)));
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    q.dispose();
  });

  test('a trajectory buffer round trips its transitions, order, capacity and sampling generator', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 16, seed: 6 });
    for (let i = 0; i < 40; i++) traj.push(i * 1000, i % 3, -i / 4, i * 1000 + 1, i % 5 === 0);
    traj.sample(7);
    const bytes = traj.serialize();
    expect(bytes.length).toBe(32 + 16 * 16 + 4);
    const copy = eng.loadTrajectoryBuffer(bytes);
    expect(copy.capacity).toBe(16);
    expect(copy.size).toBe(16);
    expect(copy.toBatch()).toEqual(traj.toBatch());
    expect(copy.sample(50)).toEqual(traj.sample(50));
    copy.push(1, 1, 1, 1, true);
    traj.push(1, 1, 1, 1, true);
    expect(copy.toBatch()).toEqual(traj.toBatch());
    const partial = eng.createTrajectoryBuffer({ capacity: 10 });
    partial.push(5, 0, 1, 6);
    const partialCopy = eng.loadTrajectoryBuffer(partial.serialize());
    partialCopy.push(6, 1, 2, 7);
    expect(Array.from(partialCopy.toBatch().states)).toEqual([5, 6]);
    for (const t of [traj, copy, partial, partialCopy]) t.dispose();
  });

  test('corrupt trajectory bytes are E_CORRUPT', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 8 });
    for (let i = 0; i < 5; i++) traj.push(i, i, i, i, false);
    const bytes = traj.serialize();
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] ^= 0x10;
      expectCorrupt(() => eng.loadTrajectoryBuffer(bad));
    }
    for (let len = 0; len < bytes.length; len += 5) expectCorrupt(() => eng.loadTrajectoryBuffer(bytes.slice(0, len)));
    // size > capacity, re-checksummed.
    const big = bytes.slice();
    new DataView(big.buffer).setUint32(8, 2, true);
    new DataView(big.buffer).setUint32(big.length - 4, crc32(big.subarray(0, big.length - 4)), true);
    expectCorrupt(() => eng.loadTrajectoryBuffer(big));
    traj.dispose();
  });
});

/** CRC-32 (IEEE), bit by bit: an independent check of the engine's table-driven one. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
