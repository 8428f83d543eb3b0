/**
 * QTable.merge: weight 0 keeps the table, weight 1 takes the other's entries where it has
 * visits, weights between match the reference's visit-weighted average; rows appear only where
 * the other contributes; the other table is never changed. Both builds.
 */
import { InvalidArgumentError, type Engine, type QTable } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { ReferenceQLearner } from '../helpers/qlearner';
import { rng } from '../helpers/random';

const ACTIONS = 6;

/** Trains an engine table and a reference on the same random stream over keys [base, base + keys). */
function train(q: QTable, ref: ReferenceQLearner, seed: number, base: number, keys: number, n: number): void {
  const next = rng(seed);
  for (let i = 0; i < n; i++) {
    const s = base + Math.floor(next() * keys);
    const a = Math.floor(next() * ACTIONS);
    const r = next() * 4 - 2;
    const s2 = base + Math.floor(next() * keys);
    const done = next() < 0.1;
    q.update(s, a, r, s2, done);
    ref.update(s, a, r, s2, done);
  }
}

function dump(q: QTable, keys: number[]): Array<[number[], number[]]> {
  return keys.map((s) => [Array.from(q.values(s)), Array.from({ length: ACTIONS }, (_, a) => q.visits(s, a))]);
}

describe.each(BUILDS)('QTable.merge (simd %s)', (simd) => {
  let eng: Engine;
  let a: QTable;
  let b: QTable;
  let refA: ReferenceQLearner;
  let refB: ReferenceQLearner;
  const keys = Array.from({ length: 90 }, (_, i) => i);

  beforeEach(async () => {
    eng = await engine(simd);
    a = eng.createQTable({ actions: ACTIONS, alpha: 0.3 });
    b = eng.createQTable({ actions: ACTIONS, alpha: 0.3 });
    refA = new ReferenceQLearner({ actions: ACTIONS, alpha: 0.3 });
    refB = new ReferenceQLearner({ actions: ACTIONS, alpha: 0.3 });
    // a knows states 0..59, b knows 30..89: half shared, half each its own.
    train(a, refA, 1, 0, 60, 3000);
    train(b, refB, 2, 30, 60, 3000);
  });
  afterEach(() => eng.dispose());

  test('a state only this table has keeps its values and the weighted share of its visits', () => {
    const s = keys.find((k) => k < 30 && a.visits(k, 0) >= 4)!;
    const q0 = a.get(s, 0);
    const v0 = a.visits(s, 0);
    a.merge(b, 0.5);
    expect(a.get(s, 0)).toBe(q0);
    expect(a.visits(s, 0)).toBe(Math.floor(v0 / 2 + 0.5));
  });

  test('weight 0 keeps the table exactly', () => {
    const before = a.serialize();
    a.merge(b, 0);
    expect(Buffer.compare(a.serialize(), before)).toBe(0);
  });

  test("weight 1 takes the other's values and visits wherever it has visits, and keeps the rest", () => {
    const bBefore = b.serialize();
    const aBefore = dump(a, keys);
    a.merge(b, 1);
    const bNow = dump(b, keys);
    const aNow = dump(a, keys);
    for (const s of keys) {
      for (let act = 0; act < ACTIONS; act++) {
        const otherVisits = bNow[s][1][act];
        const [wantQ, wantV] =
          otherVisits > 0 ? [bNow[s][0][act], otherVisits] : [aBefore[s][0][act], aBefore[s][1][act]];
        expect([aNow[s][0][act], aNow[s][1][act]]).toEqual([wantQ, wantV]);
      }
    }
    expect(a.size).toBe(90);
    expect(Buffer.compare(b.serialize(), bBefore)).toBe(0);
  });

  test.each([0.25, 0.5, 0.9])('weight %f is the visit-weighted average of the reference', (w) => {
    a.merge(b, w);
    refA.merge(refB, w);
    expect(a.size).toBe(refA.rows.size);
    for (const s of keys) {
      const got = a.values(s);
      const want = refA.values(s);
      for (let act = 0; act < ACTIONS; act++) {
        expect(Math.abs(got[act] - want[act])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[act])));
        expect(a.visits(s, act)).toBe(refA.visits(s, act));
      }
    }
  });

  test.each([0.5, 0.25])(
    'a.merge(b, %f) equals b.merge(a, 1 - w); merging a table into itself changes nothing',
    (w) => {
      const copyA = eng.loadQTable(a.serialize());
      const copyB = eng.loadQTable(b.serialize());
      copyA.merge(b, w);
      copyB.merge(a, 1 - w);
      expect(dump(copyA, keys)).toEqual(dump(copyB, keys));
      const before = dump(a, keys);
      a.merge(a, 0.5);
      expect(dump(a, keys)).toEqual(before);
    },
  );

  test('rows are only created for states where the other has visits', () => {
    const empty = eng.createQTable({ actions: ACTIONS });
    const fresh = eng.createQTable({ actions: ACTIONS });
    fresh.merge(empty, 1);
    expect(fresh.size).toBe(0);
    fresh.merge(b, 0.5);
    expect(fresh.size).toBe(b.size);
    // A state of b's with no visits in b (a next state only) has no row in b, so none here.
    expect(fresh.values(1000)).toEqual(new Float32Array(ACTIONS));
  });

  test('bad arguments throw InvalidArgumentError and change nothing', () => {
    const before = a.serialize();
    const other = eng.createQTable({ actions: ACTIONS + 1 });
    expect(() => a.merge(other, 0.5)).toThrow(InvalidArgumentError);
    expect(() => a.merge(b, 1.5)).toThrow(InvalidArgumentError);
    expect(() => a.merge(b, NaN)).toThrow(InvalidArgumentError);
    expect(() => a.merge({} as QTable, 0.5)).toThrow(InvalidArgumentError);
    expect(Buffer.compare(a.serialize(), before)).toBe(0);
  });

  test('a table of another engine is refused', async () => {
    const eng2 = await engine(simd);
    const foreign = eng2.createQTable({ actions: ACTIONS });
    expect(() => a.merge(foreign, 0.5)).toThrow(/same engine/);
    eng2.dispose();
  });
});
