/** Random interleavings of add / remove / replace / search against a brute-force model. */
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';
import { bruteForce, recall } from '../helpers/reference';

const dim = 12;

describe.each(BUILDS)('random operation sequences (simd %s)', (simd) => {
  test.each([1, 2, 3])('seed %i: never returns removed ids, recall stays high', async (seed) => {
    const next = rng(seed);
    const e = await engine(simd);
    const metric = (['cosine', 'l2', 'dot'] as const)[seed % 3];
    const index = e.createIndex({ dim, metric, M: 8, efConstruction: 100, seed });
    const model = new Map<number, Float32Array>();
    const vec = () => {
      const v = new Float32Array(dim);
      for (let i = 0; i < dim; i++) v[i] = next() * 2 - 1;
      return v;
    };
    let recallSum = 0;
    let searches = 0;
    for (let step = 0; step < 3000; step++) {
      const op = next();
      const id = Math.floor(next() * 800);
      if (op < 0.55) {
        const v = vec();
        index.add(id, v);
        model.set(id, v);
      } else if (op < 0.8) {
        expect(index.remove(id)).toBe(model.delete(id));
      } else if (op < 0.85) {
        expect(index.has(id)).toBe(model.has(id));
      } else if (model.size > 0) {
        const q = vec();
        const res = index.search(q, 10, { ef: 80 });
        const ids = Array.from(model.keys());
        const flat = new Float32Array(ids.length * dim);
        ids.forEach((k, i) => flat.set(model.get(k)!, i * dim));
        const rowOf = new Map(ids.map((k, i) => [k, i]));
        const truth = bruteForce(metric, flat, ids, (k) => rowOf.get(k)!, dim, q, 10).map((r) => r.id);
        for (const found of res.ids) expect(model.has(found)).toBe(true);
        expect(res.ids.length).toBe(Math.min(10, model.size));
        recallSum += recall(res.ids, truth);
        searches++;
      }
      expect(index.size).toBe(model.size);
    }
    expect(searches).toBeGreaterThan(100);
    expect(recallSum / searches).toBeGreaterThanOrEqual(0.95);
    e.dispose();
  });
});
