/**
 * A refused load gives back every byte it took: junk that starts with a snapshot magic (EXIX,
 * EXQT, EXTB), and real snapshots with one byte flipped, at sizes from below a header to twice
 * the budget, leave engine.usedBytes exactly where it was, in a small engine, both builds.
 */
import { BudgetExceededError, CorruptSnapshotError, Engine } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { rng } from '../helpers/random';

const BUDGET = 1 << 20;
const SIZES = [3, 40, 100, 4096, 300_000, 2 << 20];

/** `n` random bytes starting with `magic` (as much of it as fits). */
function junk(magic: string, n: number, seed: number): Uint8Array {
  const words = new Uint32Array((n + 3) >> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  const bytes = new Uint8Array(words.buffer, 0, n);
  for (let i = 0; i < Math.min(4, n); i++) bytes[i] = magic.charCodeAt(i);
  return bytes;
}

/** Real snapshots of each kind, made in another engine. */
async function realSnapshots(simd: 'on' | 'off'): Promise<Record<string, Uint8Array>> {
  const e = await Engine.create({ simd });
  const index = e.createIndex({ dim: 8, metric: 'l2' });
  const next = rng(7);
  for (let i = 0; i < 50; i++)
    index.add(
      i,
      Float32Array.from({ length: 8 }, () => next()),
    );
  const q = e.createQTable({ actions: 4 });
  q.update(1, 2, 1, 3);
  const t = e.createTrajectoryBuffer({ capacity: 8 });
  t.push(1, 2, 0.5, 3, false);
  const out = { EXIX: index.serialize(), EXQT: q.serialize(), EXTB: t.serialize() };
  e.dispose();
  return out;
}

describe.each(BUILDS)('refused loads give their bytes back (simd %s)', (simd) => {
  let real: Record<string, Uint8Array>;
  beforeAll(async () => {
    real = await realSnapshots(simd);
  });

  const loaders: Array<[string, (e: Engine, bytes: Uint8Array) => unknown]> = [
    ['EXIX', (e, b) => e.loadIndex(b)],
    ['EXIX', (e, b) => e.loadIndex([b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)])],
    ['EXQT', (e, b) => e.loadQTable(b)],
    ['EXTB', (e, b) => e.loadTrajectoryBuffer(b)],
  ];

  test.each(loaders.map(([magic, load], i) => [`${magic} #${i}`, magic, load] as const))(
    '%s: junk after the magic, at every size',
    async (_, magic, load) => {
      const e = await Engine.create({ simd, budgetBytes: BUDGET });
      // Leave some staging and an object in place first: the refusal must not free those either.
      const keep = e.createQTable({ actions: 2 });
      for (const [i, n] of SIZES.entries()) {
        const before = e.usedBytes;
        expect(() => load(e, junk(magic, n, 100 + i))).toThrow(CorruptSnapshotError);
        expect(e.usedBytes).toBe(before);
      }
      expect(keep.get(0, 0)).toBe(0);
      e.dispose();
    },
  );

  test.each(loaders.map(([magic, load], i) => [`${magic} #${i}`, magic, load] as const))(
    '%s: a real snapshot with one byte flipped, or cut short',
    async (_, magic, load) => {
      const e = await Engine.create({ simd, budgetBytes: BUDGET });
      const bytes = real[magic];
      for (const at of [4, 20, bytes.length >> 1, bytes.length - 5, bytes.length - 1]) {
        const bad = bytes.slice();
        bad[at] ^= 0x41;
        const before = e.usedBytes;
        let error: unknown;
        try {
          load(e, bad);
        } catch (err) {
          error = err;
        }
        // A flipped size field may announce more than the budget: refused over budget instead.
        expect(error instanceof CorruptSnapshotError || error instanceof BudgetExceededError).toBe(true);
        expect(e.usedBytes).toBe(before);
      }
      for (const cut of [5, bytes.length >> 1, bytes.length - 1]) {
        const before = e.usedBytes;
        expect(() => load(e, bytes.subarray(0, cut))).toThrow(CorruptSnapshotError);
        expect(e.usedBytes).toBe(before);
      }
      // The engine still loads the real bytes.
      expect(() => load(e, bytes)).not.toThrow();
      e.dispose();
    },
  );
});
