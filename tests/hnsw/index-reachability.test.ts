/**
 * Every live id stays reachable through add, replace, remove and slot reuse: a replaced slot's
 * old neighbours are relinked among themselves (assembly/hnsw/repair.ts), and a node about to
 * lose its last layer-0 in-link is linked again (assembly/hnsw/indegree.ts). Checked on the
 * graph itself (a breadth-first walk over layer 0 of serialize()'s bytes, in plain JS, from the
 * entry point) and through the API: search(q, size) returns every live id, and a filter
 * accepting only one live id finds it. Both builds.
 */
import type { Engine } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';
import { churn, expectAllReachable, unreachedSlots } from '../helpers/graph-walk';

describe.each(BUILDS)('simd %s', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  // The cases that disconnected the graph before repair: re-adds over few ids in 2-d (l2,
  // defaults), more of them, and removes with new ids reusing the removed slots.
  test.each([
    ['400 adds over 100 ids, 2-d', 2, 400, 100, 0, [1, 2, 3, 4, 5]],
    ['3,000 adds over 750 ids, 2-d', 2, 3000, 750, 0, [1, 2, 3]],
    ['5,000 adds and 40% removes over 300 ids, 2-d', 2, 5000, 300, 0.4, [1, 2, 3, 4]],
    ['3,000 adds and removes over 750 ids, 8-d', 8, 3000, 750, 0.3, [1, 2, 3]],
    ['5,000 adds and removes over 1,000 ids, 16-d', 16, 5000, 1000, 0.3, [1, 2]],
  ])('%s: every live id is reachable', (_name, dim, ops, idSpace, removeShare, seeds) => {
    for (const seed of seeds as number[]) {
      const index = e.createIndex({ dim: dim as number, metric: 'l2', seed });
      const live = churn(index, seed * 101, ops as number, idSpace as number, removeShare as number);
      expectAllReachable(index, live);
      index.dispose();
    }
  });

  test('distinct adds with a small M (prunes that used to orphan nodes) stay reachable', () => {
    const next = rng(7);
    const index = e.createIndex({ dim: 8, metric: 'l2', M: 4, efConstruction: 100 });
    const n = 20000;
    index.addBatch(
      Uint32Array.from({ length: n }, (_, i) => i),
      Float32Array.from({ length: n * 8 }, () => next()),
    );
    expect(unreachedSlots(index)).toEqual([]);
    index.dispose();
  });

  test('a replaced vector is found at its new place and no longer at its old one', () => {
    const index = e.createIndex({ dim: 2, metric: 'l2', seed: 3 });
    const next = rng(11);
    for (let id = 0; id < 200; id++) index.add(id, [next(), next()]);
    index.add(17, [5, 5]);
    expect(Array.from(index.search([5, 5], 1).ids)).toEqual([17]);
    const near = index.search([0.5, 0.5], 200, { ef: 200 });
    expect(near.ids.length).toBe(200);
    expect(near.ids[199]).toBe(17);
    index.dispose();
  });
});
