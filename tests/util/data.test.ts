/** The vendored data sets (data/sift128, data/glove100) are byte for byte what their READMEs describe (sha256 tables). */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DATA = join(__dirname, '..', '..', 'data');

const sets: Array<[folder: string, prefix: string]> = [
  ['sift128', 'sift128'],
  ['glove100', 'glove100k'],
];
const expectedFiles = (prefix: string) => [
  `${prefix}_base.fvecs`,
  `${prefix}_groundtruth_cosine.ivecs`,
  `${prefix}_groundtruth_cosine_sim.fvecs`,
  `${prefix}_groundtruth_l2.ivecs`,
  `${prefix}_groundtruth_l2_dist.fvecs`,
  `${prefix}_query.fvecs`,
];

/** The (file, sha256) rows of a folder's README table. */
function listed(folder: string): Array<[string, string]> {
  const readme = readFileSync(join(DATA, folder, 'README.md'), 'utf8');
  return [...readme.matchAll(/^\| `([a-z0-9_]+\.[fi]vecs)` \| ([0-9a-f]{64}) \|$/gm)].map((m) => [m[1], m[2]]);
}

describe.each(sets)('data/%s', (folder, prefix) => {
  test('the README lists a checksum for each of the six files', () => {
    expect(
      listed(folder)
        .map(([file]) => file)
        .sort(),
    ).toEqual(expectedFiles(prefix));
  });

  test.each(listed(folder))('%s matches its sha256', (file, sha) => {
    expect(
      createHash('sha256')
        .update(readFileSync(join(DATA, folder, file)))
        .digest('hex'),
    ).toBe(sha);
  });
});
