/**
 * Index stores, format compatibility: tests/fixtures/index-store-v1/ is a FileStore directory
 * holding the index 'golden' as saved by the first release of the format (a checkpoint in
 * several chunks and two log segments), and expected.json what it must open to: live ids, every
 * vector, efSearch, and k-NN answers at an ef past the index size. Every later version must open
 * it to exactly that (the answers also equal a plain-JS brute force over the vectors), keep
 * growing it, and save it again. ELEX_WRITE_GOLDEN=index-store-v1 rewrites the directory
 * (never do that for a released version: write a new one).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, FileStore } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { cleanTempDirs, digest, tempDir } from '../helpers/index-store';
import { randomVectors } from '../helpers/random';
import { bruteForce } from '../helpers/reference';

const DIR = join(__dirname, '..', 'fixtures', 'index-store-v1');
const NAME = 'golden';
const DIM = 8;
const K = 5;
const EF = 400;

interface Expected {
  name: string;
  dim: number;
  metric: 'l2';
  efSearch: number;
  size: number;
  /** Live ids, ascending, and their vectors (float32, little-endian, base64), in the same order. */
  ids: number[];
  vectors: string;
  queries: number[][];
  answers: Array<{ ids: number[]; distances: number[] }>;
}

const f32 = (base64: string) => new Float32Array(new Uint8Array(Buffer.from(base64, 'base64')).buffer);

afterAll(cleanTempDirs);

if (process.env.ELEX_WRITE_GOLDEN === 'index-store-v1') {
  test('writes tests/fixtures/index-store-v1', async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    const e = await Engine.create();
    const index = e.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 50, seed: 1 });
    const store = new FileStore(DIR);
    const rows = randomVectors(300, DIM, 7);
    const row = (i: number) => rows.subarray(i * DIM, (i + 1) * DIM);
    index.addBatch(
      Array.from({ length: 200 }, (_, i) => i),
      rows.subarray(0, 200 * DIM),
    );
    expect((await index.save(store, NAME, { chunkBytes: 4096 })).kind).toBe('checkpoint');
    for (let i = 200; i < 220; i++) index.add(i, row(i));
    for (let i = 0; i < 10; i++) index.remove(i * 7);
    for (let i = 0; i < 5; i++) index.add(100 + i, row(250 + i));
    expect((await index.save(store, NAME, { chunkBytes: 4096 })).kind).toBe('log');
    for (let i = 0; i < 5; i++) index.remove(150 + i);
    index.addBatch([300, 301, 302], rows.subarray(260 * DIM, 263 * DIM));
    index.efSearch = 77;
    expect((await index.save(store, NAME, { chunkBytes: 4096 })).kind).toBe('log');
    const ids = Array.from({ length: 400 }, (_, i) => i).filter((i) => index.has(i));
    const vectors = new Float32Array(ids.length * DIM);
    ids.forEach((id, j) => vectors.set(index.get(id)!, j * DIM));
    const queries = Array.from({ length: 6 }, (_, q) => Array.from(randomVectors(1, DIM, 100 + q)));
    const answers = queries.map((q) => {
      const r = index.search(q, K, { ef: EF });
      return { ids: Array.from(r.ids), distances: Array.from(r.distances) };
    });
    const expected: Expected = {
      name: NAME,
      dim: DIM,
      metric: 'l2',
      efSearch: 77,
      size: index.size,
      ids,
      vectors: Buffer.from(vectors.buffer).toString('base64'),
      queries,
      answers,
    };
    writeFileSync(join(DIR, 'expected.json'), `${JSON.stringify(expected, null, 1)}\n`);
    e.dispose();
  });
}

test('the golden v1 store opens to the ids, vectors, efSearch and answers it was saved with, grows, and saves again', async () => {
  const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;
  const vectors = f32(expected.vectors);
  for (const simd of BUILDS) {
    const e = await engine(simd);
    const index = await e.openIndex(new FileStore(DIR), expected.name);
    expect(index.size).toBe(expected.size);
    expect(index.dim).toBe(expected.dim);
    expect(index.metric).toBe(expected.metric);
    expect(index.efSearch).toBe(expected.efSearch);
    const live = new Set(expected.ids);
    for (let id = 0; id < 400; id++) expect(index.has(id)).toBe(live.has(id));
    expected.ids.forEach((id, j) => expect(index.get(id)).toEqual(vectors.subarray(j * DIM, (j + 1) * DIM)));
    expected.queries.forEach((q, i) => {
      const r = index.search(q, K, { ef: EF });
      const truth = bruteForce('l2', vectors, expected.ids, (id) => expected.ids.indexOf(id), DIM, q, K);
      expect(Array.from(r.ids)).toEqual(expected.answers[i].ids);
      expect(Array.from(r.ids)).toEqual(truth.map((t) => t.id));
      r.distances.forEach((d, j) => {
        expect(d).toBeCloseTo(expected.answers[i].distances[j], 5);
        expect(d).toBeCloseTo(truth[j].distance, 5);
      });
    });
    // It grows and saves again (in a copy: the golden directory is never written).
    const copy = join(tempDir(), 'golden');
    cpSync(DIR, copy, { recursive: true });
    const store = new FileStore(copy);
    const grown = await e.openIndex(store, expected.name);
    grown.addBatch(
      [1000, 1001],
      Float32Array.from({ length: 2 * DIM }, (_, i) => i),
    );
    grown.remove(expected.ids[0]);
    expect((await grown.save(store, expected.name)).kind).toBe('log');
    const again = await e.openIndex(store, expected.name);
    expect(digest(again)).toBe(digest(grown));
    expect(
      Array.from(
        again.search(
          Float32Array.from({ length: DIM }, (_, i) => i),
          1,
        ).ids,
      ),
    ).toEqual([1000]);
    e.dispose();
  }
});
