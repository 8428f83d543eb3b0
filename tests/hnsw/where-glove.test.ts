/**
 * `where` filters on real metadata (issue 22's bar "the same ids as the equivalent predicate"),
 * both builds: the first 8,000 GloVe-100 words (data/glove100) with their WordNet category, their
 * frequency rank (the record number) and a seeded uniform u as attributes. For category and rank
 * filters: idsWhere equals a plain-JS evaluation of the metadata; search with the where returns
 * exactly the ids and distances of the search with the allow-list of the same rows and the same
 * plan, the exact top 10 of those rows where the plan is exact, and, forced to the plain walk,
 * the ids of the equivalent JS predicate (the same walk: the lazy walk, tests/hnsw/where-lazy.test.ts,
 * which reports no allowed count); an IdSet of idsWhere (a where evaluated
 * once for many searches) returns the same.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';
import { bruteForce } from '../helpers/reference';
import { parseFvecs, type Engine, type SearchPlan, type VectorIndex, type Where } from '../../src/index';

const DIR = join(__dirname, '..', '..', 'data', 'glove100');
const N = 8000;
const DIM = 100;
const K = 10;
/** ef 10: the planner's exact scan up to 1,280 allowed ids, the plain walk from 1,600 (20%), the filtered walk between. */
const EF = 10;

const base = parseFvecs(readFileSync(join(DIR, 'glove100k_base.fvecs'))).data.subarray(0, N * DIM);
const allQueries = parseFvecs(readFileSync(join(DIR, 'glove100k_query.fvecs')));
/** 20 query words spread over the query set (frequent to rare). */
const queries = Array.from({ length: 20 }, (_, j) => allQueries.data.subarray(j * 50 * DIM, (j * 50 + 1) * DIM));
const names = new Map(
  readFileSync(join(DIR, 'glove100k_lexnames.tsv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [code, name] = line.split('\t');
      return [Number(code), name] as const;
    }),
);
const lex = readFileSync(join(DIR, 'glove100k_base_lexname.u8')).subarray(0, N);
const next = rng(22);
/** Row i's metadata: its WordNet category's name, its frequency rank and a seeded u in [0, 1). */
const rows = Array.from({ length: N }, (_, i) => ({ category: names.get(lex[i])!, rank: i, u: next() }));
type Row = (typeof rows)[number];

/** The filters, each with its plain-JS meaning and the plan the planner must pick at ef 10. */
const FILTERS: Array<{ where: Where; pass: (r: Row) => boolean; plan: SearchPlan }> = [
  { where: { category: 'noun.animal' }, pass: (r) => r.category === 'noun.animal', plan: 'exact' },
  {
    where: { category: { $in: ['noun.food', 'noun.plant', 'noun.animal'] } },
    pass: (r) => ['noun.food', 'noun.plant', 'noun.animal'].includes(r.category),
    plan: 'exact',
  },
  { where: { rank: { $gte: 1000, $lt: 1800 } }, pass: (r) => r.rank >= 1000 && r.rank < 1800, plan: 'exact' },
  { where: { rank: { $gte: 5000, $lt: 5080 } }, pass: (r) => r.rank >= 5000 && r.rank < 5080, plan: 'exact' },
  {
    where: { category: 'noun.person', rank: { $lt: 4000 } },
    pass: (r) => r.category === 'noun.person' && r.rank < 4000,
    plan: 'exact',
  },
  {
    where: { $or: [{ category: 'verb.motion' }, { rank: { $gte: 7990 } }] },
    pass: (r) => r.category === 'verb.motion' || r.rank >= 7990,
    plan: 'exact',
  },
  {
    where: { category: 'adj.all', rank: { $gte: 100 } },
    pass: (r) => r.category === 'adj.all' && r.rank >= 100,
    plan: 'exact',
  },
  // The 1,500 most frequent words are one run of slots, which the exact scan streams.
  { where: { rank: { $lt: 1500 } }, pass: (r) => r.rank < 1500, plan: 'exact' },
  {
    where: { rank: { $lt: 3000 }, u: { $lt: 0.5 } },
    pass: (r) => r.rank < 3000 && r.u < 0.5,
    plan: 'filtered-walk',
  },
  { where: { u: { $lt: 0.18 } }, pass: (r) => r.u < 0.18, plan: 'filtered-walk' },
  { where: { rank: { $gte: 4000 } }, pass: (r) => r.rank >= 4000, plan: 'walk' },
  {
    where: { category: { $nin: ['none', 'adj.all'] } },
    pass: (r) => r.category !== 'none' && r.category !== 'adj.all',
    plan: 'walk',
  },
  { where: { $not: { category: 'none' } }, pass: (r) => r.category !== 'none', plan: 'walk' },
];

const idsOf = (pass: (r: Row) => boolean): Uint32Array =>
  Uint32Array.from(rows.flatMap((r, i) => (pass(r) ? [i] : [])));

describe.each(BUILDS)('where on GloVe metadata (simd %s)', (simd) => {
  let eng: Engine;
  let index: VectorIndex;

  beforeAll(async () => {
    eng = await engine(simd);
    index = eng.createIndex({
      dim: DIM,
      metric: 'cosine',
      M: 16,
      efConstruction: 100,
      efSearch: EF,
      seed: 1,
      fields: { category: 'string', rank: 'number', u: 'number' },
    });
    index.addBatch(
      Uint32Array.from({ length: N }, (_, i) => i),
      base,
      rows,
    );
  });
  afterAll(() => eng.dispose());

  test.each(FILTERS.map((f) => [JSON.stringify(f.where), f] as const))(
    'idsWhere(%s) is the plain-JS evaluation of the metadata',
    (_, { where, pass }) => {
      const ids = index.idsWhere(where);
      expect(ids.length).toBeGreaterThan(0);
      expect(Array.from(ids)).toEqual(Array.from(idsOf(pass)));
    },
  );

  test.each(FILTERS.map((f) => [JSON.stringify(f.where), f] as const))(
    'search with %s: the allow-list of the same rows (same plan), the exact top 10 where exact, the predicate when walked',
    (_, { where, pass, plan }) => {
      const list = idsOf(pass);
      for (const [j, q] of queries.entries()) {
        const r = index.search(q, K, { where });
        // The first search of a where at a share the plain walk gets is the lazy walk, which
        // counts nothing; the next ones use its resident set (the index is unchanged).
        expect([r.plan, r.allowed]).toEqual([plan, plan === 'walk' && j === 0 ? undefined : list.length]);
        const listed = index.search(q, K, { filter: list, plan: r.plan });
        expect(Array.from(r.ids)).toEqual(Array.from(listed.ids));
        expect(Array.from(r.distances)).toEqual(Array.from(listed.distances));
        // The planner picks the same plan from the same count.
        expect(index.search(q, K, { filter: list }).plan).toBe(r.plan);
        if (plan === 'exact') {
          const truth = bruteForce('cosine', base, list, (id) => id, DIM, q, K).map((x) => x.id);
          expect(Array.from(r.ids)).toEqual(truth);
        }
        // The predicate's search is the plain walk; the where forced to it returns its ids
        // (unless that walk found fewer than k and fell back to the exact scan).
        const walked = index.search(q, K, { where, plan: 'walk' });
        const predicate = index.search(q, K, { filter: (id: number) => pass(rows[id]) });
        if (walked.plan === 'walk') expect(Array.from(walked.ids)).toEqual(Array.from(predicate.ids));
        else expect(predicate.ids.length).toBeLessThan(Math.min(K, list.length));
      }
    },
  );

  test('a where repeated over many searches: idSet(idsWhere(where)) returns the ids and plan of the where search', () => {
    for (const { where } of FILTERS) {
      const set = index.idSet(index.idsWhere(where));
      for (const q of queries) {
        const r = index.search(q, K, { where });
        const s = index.search(q, K, { filter: set });
        expect([s.plan, s.allowed, Array.from(s.ids)]).toEqual([r.plan, r.allowed ?? s.allowed, Array.from(r.ids)]);
      }
      set.release();
    }
  });
});
