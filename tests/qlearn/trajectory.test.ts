/**
 * TrajectoryBuffer: the ring keeps the last `capacity` transitions in order, sample draws
 * uniformly and reproducibly from them as typed arrays ready for batchUpdate, clear, bad input,
 * disposal. Both builds.
 */
import { DisposedError, InvalidArgumentError, type Engine } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { ReferenceQLearner } from '../helpers/qlearner';

describe.each(BUILDS)('TrajectoryBuffer (simd %s)', (simd) => {
  let eng: Engine;
  beforeAll(async () => {
    eng = await engine(simd);
  });
  afterAll(() => eng.dispose());

  /** Pushes transitions 0..n-1: s = i, a = i % 5, r = i / 2, s' = i + 1, done every 7th. */
  function pushRange(traj: ReturnType<Engine['createTrajectoryBuffer']>, from: number, to: number): void {
    for (let i = from; i < to; i++) traj.push(i, i % 5, i / 2, i + 1, i % 7 === 6);
  }

  test('holds the last capacity transitions, oldest first, overwriting the oldest when full', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 10 });
    expect(traj.capacity).toBe(10);
    expect(traj.size).toBe(0);
    pushRange(traj, 0, 4);
    expect(traj.size).toBe(4);
    expect(Array.from(traj.toBatch().states)).toEqual([0, 1, 2, 3]);
    pushRange(traj, 4, 23);
    expect(traj.size).toBe(10);
    const all = traj.toBatch();
    expect(Array.from(all.states)).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 21, 22]);
    expect(Array.from(all.actions)).toEqual([3, 4, 0, 1, 2, 3, 4, 0, 1, 2]);
    expect(Array.from(all.rewards)).toEqual([6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11]);
    expect(Array.from(all.nextStates)).toEqual([14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(Array.from(all.dones)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(all.states).toBeInstanceOf(Uint32Array);
    expect(all.rewards).toBeInstanceOf(Float32Array);
    expect(all.dones).toBeInstanceOf(Uint8Array);
    traj.dispose();
  });

  test('sample draws held transitions uniformly, with their fields together', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 50, seed: 3 });
    pushRange(traj, 0, 80);
    const n = 50000;
    const batch = traj.sample(n);
    expect(batch.states).toHaveLength(n);
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const s = batch.states[i];
      expect(s >= 30 && s < 80).toBe(true);
      if (
        batch.actions[i] !== s % 5 ||
        batch.rewards[i] !== s / 2 ||
        batch.nextStates[i] !== s + 1 ||
        batch.dones[i] !== (s % 7 === 6 ? 1 : 0)
      ) {
        throw new Error(`sample ${i} mixes transitions: ${s}`);
      }
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(50);
    for (const c of counts.values()) expect(Math.abs(c - n / 50)).toBeLessThan(5 * Math.sqrt(n / 50));
    traj.dispose();
  });

  test('sample is reproducible from the seed', () => {
    const draw = (seed: number) => {
      const traj = eng.createTrajectoryBuffer({ capacity: 100, seed });
      pushRange(traj, 0, 100);
      const out = Array.from(traj.sample(64).states);
      traj.dispose();
      return out;
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  test('a sample feeds batchUpdate as is, with the result of updating in its order', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 200 });
    pushRange(traj, 0, 300);
    const q = eng.createQTable({ actions: 5, alpha: 0.5 });
    const ref = new ReferenceQLearner({ actions: 5, alpha: 0.5 });
    for (let round = 0; round < 20; round++) {
      const batch = traj.sample(100);
      q.batchUpdate(batch);
      for (let i = 0; i < 100; i++) {
        ref.update(batch.states[i], batch.actions[i], batch.rewards[i], batch.nextStates[i], batch.dones[i] === 1);
      }
    }
    for (const [s, row] of ref.rows) expect(q.values(s)).toEqual(row);
    q.dispose();
    traj.dispose();
  });

  test('clear empties the buffer; sample(0) is empty; sampling an empty buffer is refused', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 8 });
    pushRange(traj, 0, 12);
    traj.clear();
    expect(traj.size).toBe(0);
    expect(traj.toBatch().states).toHaveLength(0);
    expect(traj.sample(0).states).toHaveLength(0);
    expect(() => traj.sample(1)).toThrow(InvalidArgumentError);
    pushRange(traj, 100, 103);
    expect(Array.from(traj.toBatch().states)).toEqual([100, 101, 102]);
    traj.dispose();
  });

  test('bad input throws InvalidArgumentError and changes nothing', () => {
    for (const options of [
      { capacity: 0 },
      { capacity: 1.5 },
      { capacity: 2 ** 26 + 1 },
      { capacity: 4, seed: -1 },
      null,
    ]) {
      expect(() => eng.createTrajectoryBuffer(options as never)).toThrow(InvalidArgumentError);
    }
    const traj = eng.createTrajectoryBuffer({ capacity: 4 });
    pushRange(traj, 0, 2);
    const bad: Array<[number, number, number, number, unknown]> = [
      [-1, 0, 0, 0, false],
      [0, -1, 0, 0, false],
      [0, 2 ** 31, 0, 0, false],
      [0, 0.5, 0, 0, false],
      [0, 0, NaN, 0, false],
      [0, 0, Infinity, 0, false],
      [0, 0, 0, 2 ** 32, false],
      [0, 0, 0, 0, 'no'],
    ];
    for (const [s, a, r, s2, done] of bad)
      expect(() => traj.push(s, a, r, s2, done as boolean)).toThrow(InvalidArgumentError);
    expect(() => traj.sample(-1)).toThrow(InvalidArgumentError);
    expect(() => traj.sample(1.5)).toThrow(InvalidArgumentError);
    expect(traj.size).toBe(2);
    expect(Array.from(traj.toBatch().states)).toEqual([0, 1]);
    traj.dispose();
  });

  test('a disposed buffer throws DisposedError; dispose is idempotent', () => {
    const traj = eng.createTrajectoryBuffer({ capacity: 4 });
    traj.dispose();
    traj.dispose();
    for (const call of [
      () => traj.size,
      () => traj.push(0, 0, 0, 0),
      () => traj.sample(1),
      () => traj.toBatch(),
      () => traj.clear(),
      () => traj.serialize(),
    ]) {
      expect(call).toThrow(DisposedError);
    }
  });
});
