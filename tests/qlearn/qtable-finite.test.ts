/**
 * Q values stay finite (issue 10, finding 9): an update whose sums overflow float32 saturates at
 * +-F32_MAX instead of reaching Infinity and then NaN, so the SIMD and scalar builds (whose row
 * maxima differ only on NaN) agree on every value and every greedy action. The Q-table loader
 * refuses non-finite values and an `initial` beyond float32 (E_CORRUPT, even with a good CRC);
 * createQTable refuses such an `initial` (E_ARGUMENT).
 */
import { InvalidArgumentError, type Engine } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectCorrupt, expectElexError } from '../helpers/errors';
import { fixCrc } from '../helpers/index-snapshot';
import { ReferenceQLearner } from '../helpers/qlearner';
import { rng } from '../helpers/random';

const F32_MAX = 3.4028234663852886e38;
const HEADER = 80;

/** A stream of transitions whose rewards push Q past float32 within a few dozen steps. */
function overflowingStream(seed: number, n: number) {
  const next = rng(seed);
  const rewards = [1e38, -1e38, 3e38, -3e38, F32_MAX, -F32_MAX, 1];
  return Array.from({ length: n }, () => ({
    s: Math.floor(next() * 5),
    a: Math.floor(next() * 5),
    r: rewards[Math.floor(next() * rewards.length)],
    s2: Math.floor(next() * 5),
    done: next() < 0.05,
  }));
}

const params = [
  { alpha: 0.1, gamma: 0.95 },
  { alpha: 1, gamma: 1 },
  { alpha: 0, gamma: 1 },
  { alpha: 0.5, gamma: 0 },
];

test.each(BUILDS)(
  "docs/q-learning.md's example: 100 updates of 1e38 end finite, where the reference does (simd %s)",
  async (simd) => {
    const e = await engine(simd);
    const q = e.createQTable({ actions: 2 });
    const ref = new ReferenceQLearner({ actions: 2 });
    for (let i = 0; i < 100; i++) {
      q.update(1, 0, 1e38, 1);
      ref.update(1, 0, 1e38, 1);
    }
    expect(q.get(1, 0)).toBe(ref.get(1, 0));
    expect(q.get(1, 0)).toBe(3.402425322684769e38); // the value the docs print
    e.dispose();
  },
);

describe.each(params)('saturating updates (alpha $alpha, gamma $gamma)', ({ alpha, gamma }) => {
  test('the 29 updates of reward 1e38 from the issue stay finite and equal the reference in both builds', async () => {
    for (const simd of BUILDS) {
      const e = await engine(simd);
      const q = e.createQTable({ actions: 3, alpha, gamma });
      const ref = new ReferenceQLearner({ actions: 3, alpha, gamma });
      for (let i = 0; i < 29; i++) {
        expect(Object.is(q.update(7, 0, 1e38, 7), ref.update(7, 0, 1e38, 7))).toBe(true);
      }
      for (const v of q.values(7)) expect(Math.abs(v)).toBeLessThanOrEqual(F32_MAX);
      expect(q.bestAction(7)).toBe(ref.bestAction(7));
      e.dispose();
    }
  });

  test('random overflowing streams: both builds equal the reference, value for value and in bestAction', async () => {
    const stream = overflowingStream(alpha * 10 + gamma, 2000);
    const runs: Array<{ values: number[][]; best: number[] }> = [];
    for (const simd of BUILDS) {
      const e = await engine(simd);
      const q = e.createQTable({ actions: 5, alpha, gamma });
      const viaBatch = e.createQTable({ actions: 5, alpha, gamma });
      const ref = new ReferenceQLearner({ actions: 5, alpha, gamma });
      for (const t of stream) {
        q.update(t.s, t.a, t.r, t.s2, t.done);
        ref.update(t.s, t.a, t.r, t.s2, t.done);
      }
      viaBatch.batchUpdate({
        states: stream.map((t) => t.s),
        actions: stream.map((t) => t.a),
        rewards: stream.map((t) => t.r),
        nextStates: stream.map((t) => t.s2),
        dones: stream.map((t) => t.done),
      });
      const values = [0, 1, 2, 3, 4].map((s) => Array.from(q.values(s)));
      for (let s = 0; s < 5; s++) {
        expect(values[s]).toEqual(Array.from(ref.values(s)));
        expect(Array.from(viaBatch.values(s))).toEqual(values[s]);
        for (const v of values[s]) expect(Number.isFinite(v)).toBe(true);
      }
      runs.push({ values, best: [0, 1, 2, 3, 4].map((s) => q.bestAction(s)) });
      expect(runs[runs.length - 1].best).toEqual([0, 1, 2, 3, 4].map((s) => ref.bestAction(s)));
      e.dispose();
    }
    for (const run of runs) expect(run).toEqual(runs[0]);
  });
});

describe.each(BUILDS)('finite Q values at the boundaries (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test('createQTable refuses an initial beyond float32 with E_ARGUMENT', () => {
    for (const initial of [1e39, -1e39, 3.5e38, Infinity, -Infinity, NaN]) {
      expectElexError(() => e.createQTable({ actions: 2, initial }), InvalidArgumentError, 'E_ARGUMENT', /initial/);
    }
    expect(e.createQTable({ actions: 2, initial: -F32_MAX }).get(1, 1)).toBe(-F32_MAX);
  });

  test('the loader refuses a non-finite Q value or an initial beyond float32, even with a good CRC', () => {
    const q = e.createQTable({ actions: 3 });
    for (let i = 0; i < 40; i++) q.update(i % 4, i % 3, 1e38, (i + 1) % 4);
    const bytes = q.serialize();
    expect(Array.from(e.loadQTable(bytes).values(1))).toEqual(Array.from(q.values(1)));
    const rows = new DataView(bytes.buffer).getUint32(12, true);
    const used = e.usedBytes;
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, rows * 3 - 1]) {
        const copy = bytes.slice();
        new DataView(copy.buffer).setFloat32(HEADER + rows * 4 + at * 4, bad, true);
        expectCorrupt(() => e.loadQTable(fixCrc(copy)));
      }
    }
    for (const initial of [1e39, -3.5e38, Infinity, NaN]) {
      const copy = bytes.slice();
      new DataView(copy.buffer).setFloat64(32, initial, true);
      expectCorrupt(() => e.loadQTable(fixCrc(copy)));
    }
    expect(e.usedBytes).toBe(used);
  });
});
