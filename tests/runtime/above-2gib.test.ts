/**
 * Every snapshot path with its blocks above 2 GiB, where an i32 address read without `>>> 0`
 * would be negative: index serialize / serializeChunks / loadIndex, Q-table and trajectory
 * serialize and load, agent eviction, flush, close and reload. One 3 GiB engine, its first
 * 2.1 GiB taken by a reserved filler index.
 */
import { Engine, MemoryStore, type VectorIndex } from '../../src/index';
import { randomVectors } from '../helpers/random';
import { sameBytes } from '../helpers/snapshot';

const DIM = 24;
const N = 400;
const data = randomVectors(N + 10, DIM, 5);
let eng: Engine;

function answers(index: VectorIndex): string {
  const r = index.searchBatch(data.subarray(N * DIM), 5, { ef: 40 });
  return `${Array.from(r.ids)}|${Array.from(r.distances)}`;
}

beforeAll(async () => {
  eng = await Engine.create({ budgetBytes: 3 * 1024 ** 3 });
  const filler = eng.createIndex({ dim: 1024, metric: 'l2', M: 2, efConstruction: 1 });
  filler.reserve(520_000);
  expect(eng.reservedBytes).toBeGreaterThan(2 ** 31);
}, 120_000);
afterAll(() => eng?.dispose());

test('an index: serialize, serializeChunks and loadIndex, here and into a small engine', async () => {
  const index = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 60, seed: 4 });
  index.addBatch(
    Array.from({ length: N }, (_, i) => i + 1),
    data.subarray(0, N * DIM),
  );
  index.remove(7);
  expect(index.get(2)).toEqual(data.subarray(DIM, 2 * DIM));
  const bytes = index.serialize();
  const chunks = [...index.serializeChunks(4096)];
  expect(sameBytes(Buffer.concat(chunks), bytes)).toBe(true);
  const copy = eng.loadIndex(chunks);
  expect(sameBytes(copy.serialize(), bytes)).toBe(true);
  expect(answers(copy)).toBe(answers(index));
  const small = await Engine.create({ budgetBytes: 16 << 20 });
  const low = small.loadIndex(bytes);
  expect(answers(low)).toBe(answers(index));
  small.dispose();
});

test('a Q-table and a trajectory buffer: serialize and load back exactly', () => {
  const q = eng.createQTable({ actions: 4, seed: 3 });
  const t = eng.createTrajectoryBuffer({ capacity: 64 });
  for (let i = 0; i < 300; i++) {
    q.update(i % 50, i % 4, Math.sin(i), (i + 1) % 50, i % 9 === 0);
    t.push(i % 50, i % 4, Math.sin(i), (i + 1) % 50, i % 9 === 0);
  }
  const qBytes = q.serialize();
  const q2 = eng.loadQTable(qBytes);
  expect(sameBytes(q2.serialize(), qBytes)).toBe(true);
  for (let s = 0; s < 50; s++) expect(Array.from(q2.values(s))).toEqual(Array.from(q.values(s)));
  const tBytes = t.serialize();
  const t2 = eng.loadTrajectoryBuffer(tBytes);
  expect(sameBytes(t2.serialize(), tBytes)).toBe(true);
  expect(t2.toBatch()).toEqual(t.toBatch());
});

test('an agent cache: eviction, flush, close, and a reload from the store', async () => {
  const store = new MemoryStore();
  const options = { store, maxAgents: 4, qtable: { actions: 3, seed: 1 }, trajectoryCapacity: 16 };
  const cache = eng.createAgentCache(options);
  const seen: Record<string, number[]> = {};
  for (let a = 0; a < 12; a++) {
    seen[`a${a}`] = await cache.use(`a${a}`, (agent) => {
      for (let i = 0; i < 20; i++) agent.q.update(i % 5, i % 3, a + i * 0.1, (i + 1) % 5, false);
      agent.trajectory.push(a, 1, 0.5, a + 1, false);
      return Array.from({ length: 5 }, (_, s) => Array.from(agent.q.values(s))).flat();
    });
  }
  // Every agent not resident now was evicted at least once on the way.
  expect(cache.size).toBeLessThan(12);
  expect(cache.stats.evictions).toBeGreaterThanOrEqual(12 - cache.size);
  await cache.flush();
  await cache.close();
  const again = eng.createAgentCache(options);
  for (let a = 0; a < 12; a++) {
    const back = await again.use(`a${a}`, (agent) =>
      Array.from({ length: 5 }, (_, s) => Array.from(agent.q.values(s))).flat(),
    );
    expect(back).toEqual(seen[`a${a}`]);
  }
  await again.close();
});
