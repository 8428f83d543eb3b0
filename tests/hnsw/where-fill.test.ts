/**
 * An index with attributes fills its budget step by step as one without: the attribute columns
 * grow in chunks never copied (whole columns copied at each growth left holes too small for
 * anything later: two fields stopped an 8 MiB fill of 128-d vectors, 100 a batch, at 76% in use;
 * grown by half again, four fields of 16-d vectors still stopped at 90.5%, 500 a batch). Filled
 * to the first BudgetExceededError, every id keeps its attributes, and its snapshot, loaded into
 * a larger engine, finds by `where` exactly the ids a plain-JS filter does. Many fields in a small
 * budget: each column's chunk holds 512 slots from a 16 MiB budget, fewer below it (32 at 1
 * MiB), since every field grows by a chunk at once: 512-slot chunks stopped 1 MiB fills with 40
 * fields at 89.8% in use, with 64 at 80.1%.
 */
import { BudgetExceededError } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';

const MIB = 1024 * 1024;

/**
 * [budget MiB, dim, vectors a batch, fields]: at 8 MiB the first two stopped under 78% with
 * whole columns grown a segment at a time, the next two at 90.5-92.9% grown by half again; the
 * 1 MiB ones at 80.1-89.8% with chunks of 512 slots at every budget.
 */
const CASES: Array<[number, number, number, number]> = [
  [8, 128, 100, 2],
  [8, 64, 250, 2],
  [8, 16, 500, 4],
  [8, 32, 100, 4],
  [1, 16, 10, 40],
  [1, 16, 1, 64],
];

/** The attributes of id, `fields` of them: a number, a string, a boolean, a fraction, then numbers, strings and booleans in turn. */
function attributesOf(id: number, fields: number): Record<string, number | string | boolean> {
  const all: Record<string, number | string | boolean> = {
    n: id,
    tag: `t${id % 13}`,
    even: id % 2 === 0,
    half: id / 2,
  };
  for (let f = 4; f < fields; f++)
    all[`x${f}`] = f % 3 === 0 ? id * f : f % 3 === 1 ? `s${(id + f) % 7}` : (id + f) % 5 === 0;
  return Object.fromEntries(Object.entries(all).slice(0, fields));
}

describe.each(BUILDS)('an index with attributes filled step by step (simd %s)', (simd) => {
  test.each(CASES)(
    '%i MiB, dim %i, %i a batch, %i fields: >= 95%% in use at the first E_BUDGET, every attribute kept',
    async (BUDGET, DIM, BATCH, FIELDS) => {
      const e = await engine(simd, { budgetBytes: BUDGET * MIB });
      const index = e.createIndex({ dim: DIM, metric: 'l2', M: 16, efConstruction: 32 });
      const next = rng(7);
      const attrs = (id: number) => attributesOf(id, FIELDS);
      let count = 0;
      for (;;) {
        const ids = Array.from({ length: BATCH }, (_, i) => count + i);
        const values = Float32Array.from({ length: BATCH * DIM }, () => next() * 2 - 1);
        try {
          index.addBatch(ids, values, ids.map(attrs));
        } catch (error) {
          if (!(error instanceof BudgetExceededError)) throw error;
          break;
        }
        count += BATCH;
      }
      expect(index.size).toBe(count);
      expect(e.usedBytes / e.budgetBytes).toBeGreaterThanOrEqual(0.95);
      for (let id = 0; id < count; id++) expect(index.attributes(id)).toEqual(attrs(id));
      expect(index.attributes(count)).toBeUndefined();
      const bytes = index.serialize();
      e.dispose();
      const roomy = await engine(simd, { budgetBytes: 32 * MIB });
      const back = roomy.loadIndex(bytes);
      const want = Array.from({ length: count }, (_, id) => id).filter((id) => id % 13 === 5 && id >= 1000);
      const got = Array.from(back.idsWhere({ tag: 't5', n: { $gte: 1000 } })).sort((a, b) => a - b);
      expect(got).toEqual(want);
      roomy.dispose();
    },
  );
});
