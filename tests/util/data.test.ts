/**
 * The vendored data sets (data/sift128, data/glove100) are byte for byte what their READMEs describe (sha256 tables),
 * and GloVe's metadata (a WordNet category byte per record) has one byte per record, every code named.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const DATA = join(__dirname, '..', '..', 'data');

/** GloVe's metadata files (the WordNet category of each record's word, and the names of the categories). */
const GLOVE_METADATA = ['glove100k_base_lexname.u8', 'glove100k_lexnames.tsv', 'glove100k_query_lexname.u8'];

const sets: Array<[folder: string, prefix: string, extra: string[]]> = [
  ['sift128', 'sift128', []],
  ['glove100', 'glove100k', GLOVE_METADATA],
];
const expectedFiles = (prefix: string, extra: string[]) =>
  [
    `${prefix}_base.fvecs`,
    `${prefix}_groundtruth_cosine.ivecs`,
    `${prefix}_groundtruth_cosine_sim.fvecs`,
    `${prefix}_groundtruth_l2.ivecs`,
    `${prefix}_groundtruth_l2_dist.fvecs`,
    `${prefix}_query.fvecs`,
    ...extra,
  ].sort();

/** The (file, sha256) rows of a folder's README table. */
function listed(folder: string): Array<[string, string]> {
  const readme = readFileSync(join(DATA, folder, 'README.md'), 'utf8');
  return [...readme.matchAll(/^\| `([a-z0-9_]+\.(?:[fi]vecs|u8|tsv))` \| ([0-9a-f]{64}) \|$/gm)].map((m) => [
    m[1],
    m[2],
  ]);
}

describe.each(sets)('data/%s', (folder, prefix, extra) => {
  test('the README lists a checksum for each of its files', () => {
    expect(
      listed(folder)
        .map(([file]) => file)
        .sort(),
    ).toEqual(expectedFiles(prefix, extra));
  });

  test.each(listed(folder))('%s matches its sha256', (file, sha) => {
    expect(
      createHash('sha256')
        .update(readFileSync(join(DATA, folder, file)))
        .digest('hex'),
    ).toBe(sha);
  });
});

describe('data/glove100 metadata', () => {
  const dir = join(DATA, 'glove100');
  const names = new Map(
    readFileSync(join(dir, 'glove100k_lexnames.tsv'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t'))
      .map(([code, name]) => [Number(code), name]),
  );

  test("the name table is WordNet 3's 45 lexicographer files, codes 0-44 in order, and 255 none", () => {
    expect([...names.keys()]).toEqual([...Array.from({ length: 45 }, (_, i) => i), 255]);
    expect([names.get(0), names.get(5), names.get(18), names.get(43), names.get(44), names.get(255)]).toEqual([
      'adj.all',
      'noun.animal',
      'noun.person',
      'verb.weather',
      'adj.ppl',
      'none',
    ]);
  });

  test.each([
    ['glove100k_base_lexname.u8', 'glove100k_base.fvecs'],
    ['glove100k_query_lexname.u8', 'glove100k_query.fvecs'],
  ])('%s has one byte per record of %s, each a named code', (file, vectors) => {
    const codes = readFileSync(join(dir, file));
    expect(codes.length).toBe(statSync(join(dir, vectors)).size / (4 + 4 * 100));
    const unnamed = [...new Set(codes)].filter((code) => !names.has(code));
    expect(unnamed).toEqual([]);
    // Real categories, not one code everywhere: dozens of them, a quarter of the base in WordNet.
    expect(new Set(codes).size).toBeGreaterThan(file.includes('base') ? 40 : 20);
  });
});
