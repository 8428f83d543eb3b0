/**
 * EXIX version 1 written before storage v2 (tests/fixtures/index-v1, by the flat-block build) loads
 * into the segmented layout, whatever the segment size: the same live ids and vectors, exact
 * answers at an ef past the index size, the same bytes when serialised again, and the same later
 * growth in every build and segment size (the snapshot after the same adds, which reuse removed
 * slots and replace ids, is the one recorded since relist's rescue appends only: see the golden README).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { bruteForce } from '../helpers/reference';

const DIR = join(__dirname, '..', 'fixtures', 'index-v1');
const bytes = new Uint8Array(readFileSync(join(DIR, 'golden.exix')));
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  afterAddsAppendOnlyRescue: Record<'on' | 'off', string>;
  sha256_on: string;
  sha256_off: string;
};
const DIM = 16;
const data = randomVectors(2000, DIM, 1);
const live = Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 7 !== 3);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(BUILDS)('golden EXIX v1 (simd %s)', (simd) => {
  // The default budget gives one segment (it holds up to 4096 such nodes); 4 MiB gives four of 512.
  test.each([undefined, 4 * 1024 * 1024])('loads into an engine of budget %s', async (budgetBytes) => {
    const e = await engine(simd, budgetBytes === undefined ? {} : { budgetBytes });
    const index = e.loadIndex(bytes);
    expect(index.capacity).toBe(budgetBytes === undefined ? 2000 : 2048);
    expect(index.size).toBe(live.length);
    expect(Array.from(index.ids()).sort((a, b) => a - b)).toEqual(live);
    for (const id of live)
      expect(Array.from(index.get(id)!)).toEqual(Array.from(data.subarray(id * DIM, (id + 1) * DIM)));
    expect(index.has(3)).toBe(false);
    const queries = randomVectors(5, DIM, 9);
    for (let q = 0; q < 5; q++) {
      const query = queries.subarray(q * DIM, (q + 1) * DIM);
      const truth = bruteForce('l2', data, live, (id) => id, DIM, query, 10).map((r) => r.id);
      expect(Array.from(index.search(query, 10, { ef: 2000 }).ids)).toEqual(truth);
    }
    expect(sha256(index.serialize())).toBe(simd === 'on' ? expected.sha256_on : expected.sha256_off);
    index.addBatch(
      Uint32Array.from({ length: 300 }, (_, i) => 5000 + i),
      randomVectors(300, DIM, 2),
    );
    index.addBatch(
      Uint32Array.from({ length: 10 }, (_, i) => 10 + i),
      randomVectors(10, DIM, 3),
    );
    expect(sha256(index.serialize())).toBe(expected.afterAddsAppendOnlyRescue[simd]);
    e.dispose();
  });
});
