/**
 * EXIX version 3 (an attributes section after the version 2 core) as first written
 * (tests/fixtures/index-v3, see its README) loads in both builds: the same ids, attributes and
 * fields, `where` answers equal to the plain-JS reference, exact filtered answers, and the same
 * bytes when serialised again. `ELEX_WRITE_GOLDEN=index-v3` writes the fixture (only for the
 * version that introduced it; never rewrite it after).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';
import { bruteForce } from '../helpers/reference';
import { passes } from '../helpers/where-reference';
import type { Attributes, Where } from '../../src/index';

const DIR = join(__dirname, '..', 'fixtures', 'index-v3');
const FILE = join(DIR, 'golden.exix');
const DIM = 8;
const N = 200;
const data = randomVectors(N, DIM, 1);
const KINDS = ['note', 'task', 'mail'];

/** The attributes id i was added with (none for i % 11 == 0). */
function attributesOf(i: number): Attributes | undefined {
  if (i % 11 === 0) return undefined;
  return { kind: KINDS[i % 3], ts: 1733300000 + i * 0.5, pinned: i % 5 === 0 };
}

/** Every id's attributes after the recorded operations, for the live ids. */
function expectedAttributes(): Map<number, Attributes> {
  const out = new Map<number, Attributes>();
  for (let i = 0; i < N; i++) if (i % 7 !== 3) out.set(i, attributesOf(i) ?? {});
  out.set(1, { kind: 'ünïcode ✓', rank: -2 });
  return out;
}

if (process.env.ELEX_WRITE_GOLDEN === 'index-v3') {
  test('writes tests/fixtures/index-v3/golden.exix', async () => {
    const e = await engine('off');
    const index = e.createIndex({ dim: DIM, metric: 'l2', M: 4, efConstruction: 32, seed: 5 });
    index.addBatch(
      Array.from({ length: N }, (_, i) => i),
      data,
      Array.from({ length: N }, (_, i) => attributesOf(i)),
    );
    for (let i = 0; i < N; i++) if (i % 7 === 3) index.remove(i);
    index.setAttributes(1, { kind: 'ünïcode ✓', rank: -2 });
    if (!existsSync(DIR)) mkdirSync(DIR, { recursive: true });
    writeFileSync(FILE, index.serialize());
    e.dispose();
  });
}

const WHERES: Where[] = [
  { kind: 'note' },
  { kind: 'ünïcode ✓' },
  { ts: { $gte: 1733300050, $lt: 1733300080 } },
  { pinned: true, kind: { $ne: 'task' } },
  { $or: [{ rank: { $lt: 0 } }, { kind: { $in: ['mail'] } }] },
  { kind: { $exists: false } },
  { $not: { pinned: false } },
];

describe.each(BUILDS)('golden EXIX v3 (simd %s)', (simd) => {
  test('loads: ids, fields, attributes, where answers, exact filtered search, the same bytes again', async () => {
    const bytes = new Uint8Array(readFileSync(FILE));
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(3);
    const e = await engine(simd);
    const index = e.loadIndex(bytes);
    const model = expectedAttributes();
    expect(Array.from(index.ids()).sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
    expect(index.fields).toEqual({ kind: 'string', ts: 'number', pinned: 'boolean', rank: 'number' });
    for (const [id, a] of model) expect(index.attributes(id)).toEqual(a);
    const query = randomVectors(1, DIM, 9);
    for (const where of WHERES) {
      const pass = [...model].filter(([, a]) => passes(a, where)).map(([id]) => id);
      expect(Array.from(index.idsWhere(where)).sort((a, b) => a - b)).toEqual(pass.sort((a, b) => a - b));
      const truth = bruteForce('l2', data, pass, (id) => id, DIM, query, 5).map((r) => r.id);
      expect(Array.from(index.search(query, 5, { where, plan: 'exact' }).ids)).toEqual(truth);
    }
    expect(index.serialize()).toEqual(bytes);
    e.dispose();
  });
});
