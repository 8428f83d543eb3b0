/**
 * QTable learning: update and batchUpdate against the plain-JS reference on long random streams
 * over sparse keys, batch == sequential updates, row creation, and a chain MDP and a grid world
 * whose greedy policy after training is the shortest path. Both builds.
 */
import type { Engine, QTable } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { ReferenceQLearner } from '../helpers/qlearner';
import { rng } from '../helpers/random';

/** A random stream of n transitions over `keys` sparse uint32 states (0 and 0xFFFFFFFF among them). */
function randomStream(n: number, keys: number, actions: number, seed: number, terminalRate: number) {
  const next = rng(seed);
  const pool = new Uint32Array(keys);
  pool[0] = 0;
  pool[1] = 0xffffffff;
  for (let i = 2; i < keys; i++) pool[i] = Math.floor(next() * 0x100000000) >>> 0;
  const states = new Uint32Array(n);
  const acts = new Uint32Array(n);
  const rewards = new Float32Array(n);
  const nextStates = new Uint32Array(n);
  const dones = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    states[i] = pool[Math.floor(next() * keys)];
    acts[i] = Math.floor(next() * actions);
    rewards[i] = (next() * 2 - 1) * 10;
    // Mostly keys seen before, sometimes one never updated (its row stays missing).
    nextStates[i] = next() < 0.1 ? Math.floor(next() * 0x100000000) >>> 0 : pool[Math.floor(next() * keys)];
    dones[i] = next() < terminalRate ? 1 : 0;
  }
  return { states, actions: acts, rewards, nextStates, dones };
}

function expectMatches(q: QTable, ref: ReferenceQLearner): void {
  expect(q.size).toBe(ref.rows.size);
  for (const [s, row] of ref.rows) {
    const got = q.values(s);
    for (let a = 0; a < ref.actions; a++) {
      const want = row[a];
      if (Math.abs(got[a] - want) > 1e-5 * Math.max(1, Math.abs(want))) {
        throw new Error(`Q(${s}, ${a}) = ${got[a]}, reference ${want}`);
      }
      if (q.visits(s, a) !== ref.visits(s, a))
        throw new Error(`visits(${s}, ${a}) = ${q.visits(s, a)}, reference ${ref.visits(s, a)}`);
    }
  }
}

describe.each(BUILDS)('QTable learning (simd %s)', (simd) => {
  let eng: Engine;
  beforeAll(async () => {
    eng = await engine(simd);
  });
  afterAll(() => eng.dispose());

  test.each([
    [1, 0.1, 0.95, 0, 0],
    [5, 0.5, 0.9, -1.5, 0.05],
    [8, 0.1, 0.99, 0, 0.2],
    [13, 1, 1, 2, 0],
    [32, 0.05, 0.5, 0, 0.1],
  ])(
    'update() matches the reference: %i actions, alpha %f, gamma %f, initial %f, terminal %f',
    (actions, alpha, gamma, initial, terminal) => {
      const q = eng.createQTable({ actions, alpha, gamma, initial });
      const ref = new ReferenceQLearner({ actions, alpha, gamma, initial });
      const t = randomStream(20000, 500, actions, actions * 7 + 1, terminal);
      for (let i = 0; i < t.states.length; i++) {
        const done = t.dones[i] === 1;
        const got = q.update(t.states[i], t.actions[i], t.rewards[i], t.nextStates[i], done);
        const want = ref.update(t.states[i], t.actions[i], t.rewards[i], t.nextStates[i], done);
        if (got !== want) throw new Error(`transition ${i}: update returned ${got}, reference ${want}`);
      }
      expectMatches(q, ref);
      q.dispose();
    },
  );

  test.each([4, 8, 16, 17, 32])(
    'batchUpdate of %i actions equals update() in order, in batches of many sizes',
    (actions) => {
      const t = randomStream(30000, 2000, actions, 99 + actions, 0.05);
      const batched = eng.createQTable({ actions, alpha: 0.2, gamma: 0.9 });
      const single = eng.createQTable({ actions, alpha: 0.2, gamma: 0.9 });
      const ref = new ReferenceQLearner({ actions, alpha: 0.2, gamma: 0.9 });
      const sizes = [1, 7, 100, 1000, 4096];
      let at = 0;
      for (let k = 0; at < t.states.length; k++) {
        const end = Math.min(t.states.length, at + sizes[k % sizes.length]);
        batched.batchUpdate({
          states: t.states.subarray(at, end),
          actions: t.actions.subarray(at, end),
          rewards: t.rewards.subarray(at, end),
          nextStates: t.nextStates.subarray(at, end),
          dones: t.dones.subarray(at, end),
        });
        at = end;
      }
      for (let i = 0; i < t.states.length; i++) {
        single.update(t.states[i], t.actions[i], t.rewards[i], t.nextStates[i], t.dones[i] === 1);
        ref.update(t.states[i], t.actions[i], t.rewards[i], t.nextStates[i], t.dones[i] === 1);
      }
      expectMatches(batched, ref);
      expect(Buffer.compare(batched.serialize(), single.serialize())).toBe(0);
      batched.dispose();
      single.dispose();
    },
  );

  test('a batch whose states repeat and chain into each other equals update() in order', () => {
    // s -> s2 where s2 is first updated later in the same batch, self loops, and repeats.
    const batch = {
      states: [5, 6, 5, 5, 7, 6],
      actions: [0, 1, 1, 0, 2, 1],
      rewards: [1, 2, -3, 4, 0.5, 1],
      nextStates: [6, 5, 5, 7, 5, 6],
      dones: [false, false, false, false, true, false],
    };
    const a = eng.createQTable({ actions: 3, alpha: 0.5, gamma: 0.9, initial: 0.25 });
    const ref = new ReferenceQLearner({ actions: 3, alpha: 0.5, gamma: 0.9, initial: 0.25 });
    a.batchUpdate(batch);
    for (let i = 0; i < 6; i++)
      ref.update(batch.states[i], batch.actions[i], batch.rewards[i], batch.nextStates[i], batch.dones[i]);
    expectMatches(a, ref);
    a.dispose();
  });

  test('plain arrays, booleans and a missing dones array are accepted', () => {
    const q = eng.createQTable({ actions: 2 });
    q.batchUpdate({ states: [1, 2], actions: [0, 1], rewards: [1, 1], nextStates: [2, 3] });
    expect(q.get(1, 0)).toBeCloseTo(0.1, 6);
    expect(q.visits(2, 1)).toBe(1);
    q.batchUpdate({ states: [], actions: [], rewards: [], nextStates: [] });
    expect(q.size).toBe(2);
    q.dispose();
  });

  test("rows: get and values of an unseen state give initial without creating a row; update creates only the state's row", () => {
    const q = eng.createQTable({ actions: 6, initial: 1.5 });
    expect(q.get(42, 3)).toBe(1.5);
    expect(Array.from(q.values(42))).toEqual([1.5, 1.5, 1.5, 1.5, 1.5, 1.5]);
    expect(q.visits(42, 3)).toBe(0);
    expect(q.size).toBe(0);
    q.update(1, 2, 1, 42, false);
    expect(q.size).toBe(1);
    expect(q.get(42, 0)).toBe(1.5);
    // target = 1 + 0.95 * 1.5 (the unseen next state counts as all-initial).
    const f = Math.fround;
    expect(q.get(1, 2)).toBe(f(1.5 + f(f(0.1) * f(f(1 + f(f(0.95) * 1.5)) - 1.5))));
    expect(q.values(1)).toHaveLength(6);
    q.dispose();
  });

  test('a chain MDP: the greedy policy after training walks right to the goal', () => {
    // States 0..9; action 1 moves right, action 0 moves left; reaching 9 pays 1 and ends.
    const n = 10;
    const q = eng.createQTable({ actions: 2, alpha: 0.5, gamma: 0.9, epsilon: 1, seed: 3 });
    const traj = eng.createTrajectoryBuffer({ capacity: 1000 });
    for (let episode = 0; episode < 300; episode++) {
      let s = 0;
      for (let step = 0; step < 200; step++) {
        const a = q.selectAction(s);
        const s2 = a === 1 ? s + 1 : Math.max(0, s - 1);
        const done = s2 === n - 1;
        traj.push(s, a, done ? 1 : 0, s2, done);
        q.update(s, a, done ? 1 : 0, s2, done);
        if (done) break;
        s = s2;
      }
      q.batchUpdate(traj.sample(64));
    }
    for (let s = 0; s < n - 1; s++) expect(q.bestAction(s)).toBe(1);
    for (let s = 0; s < n - 2; s++) expect(q.get(s, 1)).toBeCloseTo(0.9 ** (n - 2 - s), 3);
    q.dispose();
    traj.dispose();
  });

  test('a grid world: the greedy walk reaches the goal by a shortest path', () => {
    // 5x5 grid, start (0,0), goal (4,4), walls; each step costs -0.04, the goal pays 1.
    const W = 5;
    const walls = new Set([6, 7, 8, 16, 17, 18]);
    const moves = [
      [0, -1],
      [1, 0],
      [0, 1],
      [-1, 0],
    ];
    const step = (s: number, a: number): number => {
      const x = (s % W) + moves[a][0],
        y = Math.floor(s / W) + moves[a][1];
      if (x < 0 || y < 0 || x >= W || y >= W || walls.has(y * W + x)) return s;
      return y * W + x;
    };
    const goal = 24;
    const q = eng.createQTable({
      actions: 4,
      alpha: 0.3,
      gamma: 0.95,
      epsilon: 1,
      epsilonDecay: 0.99,
      epsilonMin: 0.1,
      seed: 11,
    });
    for (let episode = 0; episode < 600; episode++) {
      let s = 0;
      for (let t = 0; t < 200 && s !== goal; t++) {
        const a = q.selectAction(s);
        const s2 = step(s, a);
        q.update(s, a, s2 === goal ? 1 : -0.04, s2, s2 === goal);
        s = s2;
      }
      q.decayEpsilon();
    }
    // Breadth-first distances to the goal.
    const dist = new Map<number, number>([[goal, 0]]);
    const queue = [goal];
    while (queue.length > 0) {
      const c = queue.shift()!;
      for (let s = 0; s < W * W; s++) {
        if (walls.has(s) || dist.has(s)) continue;
        if ([0, 1, 2, 3].some((a) => step(s, a) === c)) {
          dist.set(s, dist.get(c)! + 1);
          queue.push(s);
        }
      }
    }
    let s = 0;
    let steps = 0;
    while (s !== goal && steps < 50) {
      s = step(s, q.bestAction(s));
      steps++;
    }
    expect(s).toBe(goal);
    expect(steps).toBe(dist.get(0));
    q.dispose();
  });
});
