/**
 * Scan codes give their room back (docs/vector-index.md, "Scan codes"): an index load and an
 * agent that would not fit beside them go in, with the codes freed first and no agent evicted.
 * Each engine's budget is set from the sizes measured in a roomy engine: the object fits beside
 * the index, but not beside the index and its codes.
 */
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { bruteForce } from '../helpers/reference';
import { MemoryStore, type Engine, type VectorIndex } from '../../src/index';
import { QTABLE } from '../helpers/agents';

const DIM = 32;
const COUNT = 6000;
const DATA = randomVectors(COUNT, DIM, 41);
const ALL = Uint32Array.from({ length: COUNT }, (_, i) => i);
const QUERY = randomVectors(1, DIM, 42);

/** The index of DATA in `e`, and (when `codes`) a filtered exact search that makes its scan codes. */
function filled(e: Engine, codes: boolean): VectorIndex {
  const index = e.createIndex({ dim: DIM, metric: 'cosine', M: 8, efConstruction: 16, seed: 7 });
  index.addBatch(ALL, DATA);
  if (codes) index.search(QUERY, 10, { filter: ALL, plan: 'exact' });
  return index;
}

/** The exact answer over every row, by brute force. */
const truth = () => bruteForce('cosine', DATA, Array.from(ALL), (id) => id, DIM, QUERY, 10).map((t) => t.id);

/**
 * The largest budget, from `start` down in pages, in which the index gets its codes and `object`
 * bytes do not fit beside them (an engine's tables grow by less near its budget, so the room is
 * found by trying): that engine, its index and the bytes in use without the codes. Null when none.
 */
async function tightEngine(
  simd: 'on' | 'off',
  start: number,
  object: number,
): Promise<{ e: Engine; index: VectorIndex; withoutCodes: number } | null> {
  for (let budget = start; budget > start / 2; budget -= 65536) {
    const e = await engine(simd, { budgetBytes: budget });
    const index = filled(e, false);
    const withoutCodes = e.usedBytes;
    index.search(QUERY, 10, { filter: ALL, plan: 'exact' });
    const made = e.usedBytes - withoutCodes >= COUNT * (16 + DIM + 8);
    if (made && e.usedBytes + object > budget) return { e, index, withoutCodes };
    e.dispose();
    if (!made) return null;
  }
  return null;
}

describe.each(BUILDS)('simd %s', (simd) => {
  test('a load that fits only without the codes: they are freed first, and the answers stay exact', async () => {
    const roomy = await engine(simd, { budgetBytes: 256 * 2 ** 20 });
    const plain = roomy.usedBytes;
    const snapshot = filled(roomy, false).serialize();
    const indexBytes = roomy.usedBytes - plain;
    roomy.dispose();
    // From a roomy budget down a page at a time (a load takes less room near the budget): the
    // first engine whose load went in but would not have beside the codes.
    let found = false;
    for (let budget = 2 * plain + 3 * indexBytes; budget > plain + indexBytes && !found; budget -= 65536) {
      const e = await engine(simd, { budgetBytes: budget });
      const kept = filled(e, false);
      const withoutCodes = e.usedBytes;
      kept.search(QUERY, 10, { filter: ALL, plan: 'exact' });
      const codesBytes = e.usedBytes - withoutCodes;
      expect(codesBytes).toBeGreaterThanOrEqual(COUNT * (16 + DIM + 8)); // the codes were made
      const loaded = e.loadIndex(snapshot); // over budget here, the test fails: the codes were not freed
      if (e.usedBytes + codesBytes > budget) {
        found = true;
        expect(e.usedBytes).toBeLessThanOrEqual(budget);
        expect(Array.from(loaded.search(QUERY, 10, { filter: ALL, plan: 'exact' }).ids)).toEqual(truth());
        expect(Array.from(kept.search(QUERY, 10, { filter: ALL, plan: 'exact' }).ids)).toEqual(truth());
      }
      e.dispose();
    }
    expect(found).toBe(true);
  });

  test('an agent that fits only without the codes: they are freed first, and no agent is evicted', async () => {
    const trajectoryCapacity = 20_000;
    const roomy = await engine(simd, { budgetBytes: 256 * 2 ** 20 });
    const plain = roomy.usedBytes;
    const cache = roomy.createAgentCache({ store: new MemoryStore(), qtable: QTABLE, trajectoryCapacity });
    const before = roomy.usedBytes;
    await cache.get('a');
    const agentBytes = roomy.usedBytes - before;
    const cacheBytes = before - plain;
    const beforeIndex = roomy.usedBytes;
    filled(roomy, false);
    const indexBytes = roomy.usedBytes - beforeIndex;
    roomy.dispose();
    const tight = await tightEngine(
      simd,
      plain + indexBytes + 2 * (cacheBytes + agentBytes),
      cacheBytes + agentBytes + 128 * 1024,
    );
    expect(tight).not.toBeNull();
    const { e, index } = tight as { e: Engine; index: VectorIndex };
    const withCodes = e.usedBytes;
    const agents = e.createAgentCache({ store: new MemoryStore(), qtable: QTABLE, trajectoryCapacity });
    const agent = await agents.get('a');
    agent.q.update(1, 2, 1, 3);
    expect(agents.stats.evictions).toBe(0);
    expect(e.usedBytes).toBeLessThan(withCodes + cacheBytes + agentBytes);
    expect(Array.from(index.search(QUERY, 10, { filter: ALL, plan: 'exact' }).ids)).toEqual(truth());
    e.dispose();
  });
});
