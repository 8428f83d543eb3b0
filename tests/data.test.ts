/** The vendored SIFT-128 set in data/sift128 is byte for byte the one its README describes (sha256 table). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from './helpers/data';

const readme = readFileSync(join(DATA_DIR, 'README.md'), 'utf8');
const listed = [...readme.matchAll(/^\| `(sift128_[a-z0-9_]+\.[fi]vecs)` \| ([0-9a-f]{64}) \|$/gm)].map((m) => [m[1], m[2]]);

test('the README lists a checksum for each of the six files', () => {
  expect(listed.map(([file]) => file).sort()).toEqual([
    'sift128_base.fvecs', 'sift128_groundtruth_cosine.ivecs', 'sift128_groundtruth_cosine_sim.fvecs',
    'sift128_groundtruth_l2.ivecs', 'sift128_groundtruth_l2_dist.fvecs', 'sift128_query.fvecs',
  ]);
});

test.each(listed)('%s matches its sha256', (file, sha) => {
  expect(createHash('sha256').update(readFileSync(join(DATA_DIR, file))).digest('hex')).toBe(sha);
});
