/**
 * QTable policies: bestAction (argmax, lowest index on ties, across SIMD lanes and padding),
 * selectAction (epsilon 0 and 1, the exploration rate, reproducible from the seed), and
 * decayEpsilon (the floor). Both builds.
 */
import type { Engine } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';

describe.each(BUILDS)('QTable policy (simd %s)', (simd) => {
  let eng: Engine;
  beforeAll(async () => {
    eng = await engine(simd);
  });
  afterAll(() => eng.dispose());

  /** A table whose row for state 1 is `values` (alpha 1, terminal updates set Q = reward). */
  function tableWithRow(values: number[], options = {}) {
    const q = eng.createQTable({ actions: values.length, alpha: 1, ...options });
    values.forEach((v, a) => q.update(1, a, v, 0, true));
    return q;
  }

  test.each([1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33])(
    'bestAction is the argmax of %i actions, wherever it lies',
    (actions) => {
      for (let best = 0; best < actions; best++) {
        const values = Array.from({ length: actions }, (_, a) => (a === best ? 2 : -1 - a));
        const q = tableWithRow(values);
        expect(q.bestAction(1)).toBe(best);
        q.dispose();
      }
    },
  );

  test('ties go to the lowest action, also across f32x4 lanes and when every value is negative', () => {
    expect(withRow([0, 5, 5, 1, 5], (q) => q.bestAction(1))).toBe(1);
    expect(withRow([1, 2, 3, 4, 9, 0, 9, 9, 9], (q) => q.bestAction(1))).toBe(4);
    expect(withRow([-3, -2, -2, -7, -2, -9], (q) => q.bestAction(1))).toBe(1);
    expect(withRow([-5, -5, -5], (q) => q.bestAction(1))).toBe(0);
    const q = eng.createQTable({ actions: 6, initial: 0.5 });
    expect(q.bestAction(123)).toBe(0);
    q.update(123, 4, 10, 0, true);
    expect(q.bestAction(123)).toBe(4);
    q.dispose();
  });

  function withRow<T>(values: number[], body: (q: ReturnType<Engine['createQTable']>) => T): T {
    const q = tableWithRow(values);
    try {
      return body(q);
    } finally {
      q.dispose();
    }
  }

  test('epsilon 0 always picks the greedy action', () => {
    const q = tableWithRow([0, 1, 3, 2, 3, 0, -1], { epsilon: 0 });
    for (let i = 0; i < 2000; i++) expect(q.selectAction(1)).toBe(2);
    q.dispose();
  });

  test('epsilon 1 picks actions uniformly', () => {
    const actions = 7;
    const q = tableWithRow([0, 9, 0, 0, 0, 0, 0], { epsilon: 1, seed: 5 });
    const counts = new Array(actions).fill(0);
    const n = 70000;
    for (let i = 0; i < n; i++) counts[q.selectAction(1)]++;
    for (const c of counts) expect(Math.abs(c - n / actions)).toBeLessThan(5 * Math.sqrt(n / actions));
    q.dispose();
  });

  test('epsilon 0.3 explores at that rate', () => {
    const q = tableWithRow([0, 0, 0, 9], { epsilon: 0.3, seed: 9 });
    const n = 40000;
    let greedy = 0;
    for (let i = 0; i < n; i++) if (q.selectAction(1) === 3) greedy++;
    // Greedy when not exploring (0.7), plus a quarter of the exploring draws (0.3 / 4).
    expect(greedy / n).toBeCloseTo(0.7 + 0.3 / 4, 1.5);
    q.dispose();
  });

  test('selectAction is reproducible from the seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const q = tableWithRow([1, 0, 0, 0, 0], { epsilon: 0.5, seed });
      const out = Array.from({ length: 200 }, () => q.selectAction(1));
      q.dispose();
      return out;
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  test('decayEpsilon multiplies by epsilonDecay and stops at epsilonMin', () => {
    const q = eng.createQTable({ actions: 2, epsilon: 1, epsilonDecay: 0.5, epsilonMin: 0.1 });
    expect(q.epsilon).toBe(1);
    q.decayEpsilon();
    expect(q.epsilon).toBe(0.5);
    q.decayEpsilon();
    q.decayEpsilon();
    expect(q.epsilon).toBe(0.125);
    q.decayEpsilon();
    expect(q.epsilon).toBe(0.1);
    for (let i = 0; i < 100; i++) q.decayEpsilon();
    expect(q.epsilon).toBe(0.1);
    q.dispose();
  });

  test('decayEpsilon never raises an epsilon below epsilonMin, and the defaults decay by 0.995', () => {
    const zero = eng.createQTable({ actions: 2, epsilon: 0, epsilonMin: 0.05 });
    zero.decayEpsilon();
    expect(zero.epsilon).toBe(0);
    zero.dispose();
    const q = eng.createQTable({ actions: 2 });
    expect([q.epsilon, q.epsilonDecay, q.epsilonMin, q.alpha, q.gamma, q.initial]).toEqual([
      0.1, 0.995, 0.01, 0.1, 0.95, 0,
    ]);
    let expected = 0.1;
    for (let i = 0; i < 1000; i++) {
      q.decayEpsilon();
      expected = Math.max(expected * 0.995, 0.01);
      expect(q.epsilon).toBe(expected);
    }
    expect(q.epsilon).toBe(0.01);
    q.dispose();
  });
});
