/**
 * The host's EXQT / EXTB writer (src/qlearn/snapshot.ts): the same bytes the engine's own writer
 * produced (SHA-256 of snapshots taken with the last build that serialised inside WebAssembly,
 * same workload), and no engine memory taken, so a full engine can still serialise.
 */
import { createHash } from 'node:crypto';
import { BudgetExceededError, Engine } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { rng } from '../helpers/random';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 of the snapshots of the workload below, as the in-engine writer (commit 3c9766e) wrote them. */
const GOLDEN = [
  'qtable 3 aa36f30df8e3f1907d9b83d48069e28c6358d28ab9081b6193279d8e939d0efd',
  'qtable 1 abb344d9b462f9a27e894dd23c612a2afe0bcebbf8ffa5d4b48a05df7d11e2bf',
  'qtable 4 a4299022658658bf027e74d5cb0e89abcd128fa3be1bbcb8263c6bdd960791d4',
  'qtable 6 8d7bfdc5cb7fcb8180bc3a5700c7be0e24a798a90954de5de8bdfd4df216bfc8',
  'qtable 17 c4dcb64f10bc9c88e48bf2ba2bc71ef64ed773a6522093d6a700dfc328eecd01',
  'trajectory 5 d7c852521e2ef7aad0cb92b29fbb12ffd60b1f2045065498628e6221f7309591',
  'trajectory 1 a23b31f10ab8a466573cfe5e10f4776d81b48bf6d5e73164047e2f0d1e3b0e45',
  'trajectory 10 850f0d9b6b27622e94f3f9264eefab042d99c88b1c60fdaed975a24b3b00e54e',
  'trajectory 100 2816229483189eb2e14c51b294c68f984886146994e9705fa2bc4adf8fa4e4d8',
  'trajectory 64 eb8e9427184ad4907709d2ff3a1c1e9eee839ea58293b96686f3e2e2a96c249a',
];

/** Tables with and without padding lanes and empty ones; rings empty, full, wrapped and not. */
function workload(engine: Engine): string[] {
  const out: string[] = [];
  for (const [actions, states, steps] of [
    [3, 1, 0],
    [1, 5, 20],
    [4, 50, 400],
    [6, 300, 3000],
    [17, 40, 500],
  ]) {
    const next = rng(actions * 7 + 1);
    const q = engine.createQTable({
      actions,
      alpha: 0.3,
      gamma: 0.9,
      epsilon: 0.5,
      epsilonDecay: 0.99,
      initial: -0.25,
      seed: actions,
    });
    for (let i = 0; i < steps; i++) {
      const s = (Math.floor(next() * states) * 2654435761) >>> 0;
      const a = q.selectAction(s);
      q.update(s, a, next() * 4 - 2, (Math.floor(next() * states) * 2654435761) >>> 0, next() < 0.1);
      if (i % 50 === 0) q.decayEpsilon();
    }
    out.push(`qtable ${actions} ${sha(q.serialize())}`);
  }
  for (const [capacity, pushes, samples] of [
    [5, 0, 0],
    [1, 3, 2],
    [10, 25, 7],
    [100, 30, 0],
    [64, 64, 5],
  ]) {
    const next = rng(capacity);
    const t = engine.createTrajectoryBuffer({ capacity, seed: capacity + 3 });
    for (let i = 0; i < pushes; i++) {
      t.push(Math.floor(next() * 1e6), Math.floor(next() * 9), next() * 2 - 1, Math.floor(next() * 1e6), next() < 0.2);
    }
    if (samples > 0) t.sample(samples);
    out.push(`trajectory ${capacity} ${sha(t.serialize())}`);
  }
  return out;
}

test.each(BUILDS)('the host writes the bytes the engine wrote (simd %s)', async (simd) => {
  const engine = await Engine.create({ simd, budgetBytes: 8 << 20 });
  expect(workload(engine)).toEqual(GOLDEN);
  engine.dispose();
});

test('serialising needs no engine memory: it works with the budget used up, and loads back', async () => {
  const engine = await Engine.create({ budgetBytes: 1 << 20 });
  const q = engine.createQTable({ actions: 8 });
  const t = engine.createTrajectoryBuffer({ capacity: 512 });
  for (let s = 0; ; s++) {
    t.push(s, s % 8, 0.5, s + 1, false);
    try {
      q.update(s, s % 8, 1, s + 1, false);
    } catch (error) {
      expect(error).toBeInstanceOf(BudgetExceededError);
      break;
    }
  }
  const used = engine.usedBytes;
  const qBytes = q.serialize();
  const tBytes = t.serialize();
  expect(qBytes.length).toBeGreaterThan(10_000);
  expect(engine.usedBytes).toBe(used);
  const roomy = await Engine.create({ budgetBytes: 8 << 20 });
  expect(sha(roomy.loadQTable(qBytes).serialize())).toBe(sha(qBytes));
  expect(sha(roomy.loadTrajectoryBuffer(tBytes).serialize())).toBe(sha(tBytes));
  engine.dispose();
  roomy.dispose();
});
