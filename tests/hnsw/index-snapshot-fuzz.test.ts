/**
 * Index snapshots under attack, both builds: byte flips (everywhere in the header, at random
 * elsewhere), truncations, appended bytes, foreign bytes, and snapshots whose checksum was
 * recomputed over structurally bad contents (link targets, levels, offsets, labels, tombstones,
 * vectors, parameters). Each either loads an index identical to the original or throws
 * CorruptSnapshotError; never a trap, never a hang, and a failed load leaves usedBytes as it was.
 */
import { CorruptSnapshotError, EngineBrokenError, type Engine, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { fingerprint } from '../helpers/snapshot';
import { randomVectors, rng } from '../helpers/random';
import { HEADER, edited, fixCrc, layout, type Layout } from '../helpers/index-snapshot';
import { expectCorrupt, thrownBy as thrown } from '../helpers/errors';

const N = 300;
const DIM = 14;
const data = randomVectors(N + 40, DIM, 21);
const probes = Array.from({ length: 6 }, (_, i) => data.slice((N + i) * DIM, (N + i + 1) * DIM));
const checkedIds = [0, 1, 5, 10, 17, 150, 299, 1000, 1001];

/** A small index with several levels (M 4), removed slots and replaced ids. */
function small(eng: Engine): VectorIndex {
  const index = eng.createIndex({ dim: DIM, M: 4, efConstruction: 32, seed: 77 });
  index.addBatch(
    Uint32Array.from({ length: N }, (_, i) => i),
    data.subarray(0, N * DIM),
  );
  for (let i = 0; i < N; i += 10) index.remove(i);
  index.add(10, data.subarray(N * DIM, (N + 1) * DIM));
  index.add(1000, data.subarray((N + 1) * DIM, (N + 2) * DIM));
  return index;
}

/** Level of node i as the snapshot says. */
function levelOf(v: DataView, l: Layout, i: number): number {
  const at = v.getUint32(l.upperAt + 4 * i, true);
  return at === 0 ? 0 : v.getUint32(l.upper + 4 * (at - 1), true);
}

/** Byte offset of node i's list on `level` (>= 1). */
function upperList(v: DataView, l: Layout, i: number, level: number): number {
  const at = v.getUint32(l.upperAt + 4 * i, true);
  return l.upper + 4 * (at - 1) + 4 * (1 + (level - 1) * (1 + l.M));
}

function firstNode(l: Layout, test: (i: number) => boolean): number {
  for (let i = 0; i < l.count; i++) if (test(i)) return i;
  throw new Error('no such node in the test index');
}

/** Structurally bad snapshots with a valid checksum: name -> edit. */
const badEdits: Array<[string, (v: DataView, l: Layout) => void]> = [
  ['version 3', (v) => v.setUint32(4, 3, true)],
  // Version 2 sizes the vectors by the quantization at offset 60: an f32 snapshot relabelled i8 announces other lengths.
  [
    'version 2 relabelled i8',
    (v) => {
      v.setUint32(4, 2, true);
      v.setUint32(60, 2, true);
    },
  ],
  [
    'version 2, unknown quantization',
    (v) => {
      v.setUint32(4, 2, true);
      v.setUint32(60, 3, true);
    },
  ],
  ['kind 2', (v) => v.setUint32(8, 2, true)],
  ['dim 0', (v) => v.setUint32(12, 0, true)],
  ['dim 13 (a padding float is then data)', (v) => v.setUint32(12, 13, true)],
  ['metric 3', (v) => v.setUint32(16, 3, true)],
  ['M 1', (v) => v.setUint32(20, 1, true)],
  ['efConstruction 0', (v) => v.setUint32(24, 0, true)],
  ['efSearch 100001', (v) => v.setUint32(28, 100001, true)],
  ['a huge count', (v) => v.setUint32(36, 0xffffffff, true)],
  ['count one more', (v, l) => v.setUint32(36, l.count + 1, true)],
  ['deleted one more', (v, l) => v.setUint32(40, l.deleted + 1, true)],
  ['deleted one less', (v, l) => v.setUint32(40, l.deleted - 1, true)],
  ['deleted above count', (v, l) => v.setUint32(40, l.count + 1, true)],
  ['entry = count', (v, l) => v.setInt32(44, l.count, true)],
  ['entry -1 with nodes', (v) => v.setInt32(44, -1, true)],
  [
    'entry on a lower level',
    (v, l) =>
      v.setInt32(
        44,
        firstNode(l, (i) => levelOf(v, l, i) < l.maxLevel),
        true,
      ),
  ],
  ['maxLevel one more', (v, l) => v.setUint32(48, l.maxLevel + 1, true)],
  ['maxLevel one less', (v, l) => v.setUint32(48, l.maxLevel - 1, true)],
  ['maxLevel 32', (v) => v.setUint32(48, 32, true)],
  ['upperUsed 0', (v) => v.setUint32(52, 0, true)],
  ['reuseHint past the tombstones', (v, l) => v.setUint32(56, Math.ceil(l.count / 32), true)],
  ['quantization word set in version 1', (v) => v.setUint32(60, 1, true)],
  ['generator state 0', (v) => v.setBigUint64(64, 0n, true)],
  ['reserved tail set', (v) => v.setUint8(79, 1)],
  ['a NaN component', (v, l) => v.setFloat32(l.vectors + 4 * 3, NaN, true)],
  ['an infinite component', (v, l) => v.setFloat32(l.vectors + 4 * l.stride * 7, -Infinity, true)],
  [
    'a squared norm past float32',
    (v, l) => {
      v.setFloat32(l.vectors, 3e38, true);
      v.setFloat32(l.vectors + 4, 3e38, true);
    },
  ],
  ['a non-zero padding float', (v, l) => v.setFloat32(l.vectors + 4 * (l.stride * 2 + DIM), 1, true)],
  ['a layer-0 link target = count', (v, l) => v.setUint32(l.links0 + 4, l.count, true)],
  ['a layer-0 link target 0xFFFFFFFF', (v, l) => v.setUint32(l.links0 + 4 * (1 + l.M0) * 9 + 4, 0xffffffff, true)],
  ['a layer-0 link count past 2M', (v, l) => v.setUint32(l.links0 + 4 * (1 + l.M0) * 3, l.M0 + 1, true)],
  [
    'a stale layer-0 tail',
    (v, l) => {
      const i = firstNode(l, (n) => v.getUint32(l.links0 + 4 * (1 + l.M0) * n, true) < l.M0);
      v.setUint32(l.links0 + 4 * (1 + l.M0) * i + 4 * l.M0, 1, true);
    },
  ],
  [
    'an upperAt past the end',
    (v, l) => v.setUint32(l.upperAt + 4 * firstNode(l, (i) => levelOf(v, l, i) > 0), l.upperUsed + 5, true),
  ],
  [
    'an upperAt on a level-0 node',
    (v, l) => v.setUint32(l.upperAt + 4 * firstNode(l, (i) => levelOf(v, l, i) === 0), 1, true),
  ],
  [
    'an upperAt of 0xFFFFFFFF',
    (v, l) => v.setUint32(l.upperAt + 4 * firstNode(l, (i) => levelOf(v, l, i) > 0), 0xffffffff, true),
  ],
  ['an upper record of level 0', (v, l) => v.setUint32(l.upper, 0, true)],
  ['an upper record of level 32', (v, l) => v.setUint32(l.upper, 32, true)],
  ['an upper record one level higher', (v, l) => v.setUint32(l.upper, v.getUint32(l.upper, true) + 1, true)],
  ['an upper link count past M', (v, l) => v.setUint32(l.upper + 4, l.M + 1, true)],
  [
    'an upper link target = count',
    (v, l) => {
      const i = firstNode(l, (n) => levelOf(v, l, n) > 0 && v.getUint32(upperList(v, l, n, 1), true) > 0);
      v.setUint32(upperList(v, l, i, 1) + 4, l.count, true);
    },
  ],
  [
    'an upper link to a node below that layer',
    (v, l) => {
      const i = firstNode(l, (n) => levelOf(v, l, n) > 0 && v.getUint32(upperList(v, l, n, 1), true) > 0);
      v.setUint32(
        upperList(v, l, i, 1) + 4,
        firstNode(l, (n) => levelOf(v, l, n) === 0),
        true,
      );
    },
  ],
  ['duplicate labels', (v, l) => v.setUint32(l.labels + 4 * 7, v.getUint32(l.labels + 4 * 8, true), true)],
  ['a removed slot sharing a live label', (v, l) => v.setUint32(l.labels + 4 * 20, 21, true)],
  [
    'a tombstone bit past count',
    (v, l) => {
      const last = l.tombs + 4 * (Math.ceil(l.count / 32) - 1);
      v.setUint32(last, (v.getUint32(last, true) | 0x80000000) >>> 0, true);
      v.setUint32(40, l.deleted + 1, true);
    },
  ],
];

describe.each(BUILDS)('index snapshot fuzz (simd %s)', (simd) => {
  let eng: Engine;
  let original: VectorIndex;
  let bytes: Uint8Array;
  let print: string;

  /** Searches, adds to, removes from and reloads a loaded index. */
  function exercise(copy: VectorIndex): void {
    // An edit may leave another dim (padding read as zeros): use rows of the loaded dim.
    const d = copy.dim;
    const rows = (first: number, n: number): Float32Array => data.subarray(first * d, (first + n) * d);
    for (let q = 0; q < 4; q++) copy.search(rows(N + q, 1), 7, { ef: 20 });
    copy.searchBatch(rows(0, 5), 3);
    copy.addBatch([5000, 5001, 5002, 3], rows(N + 10, 4));
    copy.remove(1);
    copy.remove(5001);
    copy.search(rows(N, 1), 5);
    const again = eng.loadIndex(copy.serialize());
    again.dispose();
  }

  /** Loads `bad`: it must be CorruptSnapshotError, or an index identical to the original. */
  function loadOrCorrupt(bad: Uint8Array): 'loaded' | 'corrupt' {
    let copy: VectorIndex | undefined;
    const error = thrown(() => {
      copy = eng.loadIndex(bad);
    });
    if (error !== undefined) {
      expect(error).toBeInstanceOf(CorruptSnapshotError);
      return 'corrupt';
    }
    expect(fingerprint(copy!, checkedIds, probes)).toBe(print);
    copy!.dispose();
    return 'loaded';
  }

  beforeAll(async () => {
    eng = await engine(simd);
    original = small(eng);
    bytes = original.serialize();
    print = fingerprint(original, checkedIds, probes);
    // Loads stage nothing; run the work of the random-edits test once, so the staging blocks that
    // searches and adds keep are at their size and usedBytes compares across loads.
    const warm = eng.loadIndex(bytes);
    expect(fingerprint(warm, checkedIds, probes)).toBe(print);
    exercise(warm);
    warm.dispose();
  });
  afterAll(() => eng.dispose());

  test('the test index has removed slots and several levels', () => {
    const l = layout(bytes);
    expect(l.deleted).toBe(28);
    expect(l.maxLevel).toBeGreaterThanOrEqual(2);
  });

  test('every header byte and 3,000 random bytes flipped: E_CORRUPT, nothing allocated', () => {
    const used = eng.usedBytes;
    const next = rng(31);
    const at = [
      ...Array.from({ length: HEADER }, (_, i) => i),
      ...Array.from({ length: 3000 }, () => Math.floor(next() * bytes.length)),
    ];
    for (const i of at) {
      for (const mask of i < HEADER ? [0x01, 0x10, 0x80, 0xff] : [1 << Math.floor(next() * 8)]) {
        const bad = bytes.slice();
        bad[i] ^= mask;
        expect(loadOrCorrupt(bad)).toBe('corrupt');
      }
    }
    expect(eng.usedBytes).toBe(used);
  });

  test('truncations at many lengths and appended bytes: E_CORRUPT, nothing allocated', () => {
    const used = eng.usedBytes;
    const lengths = new Set<number>([0, 1, 3, 4, 5, 79, 80, 83, 84, bytes.length - 4, bytes.length - 1]);
    for (let len = 0; len < bytes.length; len += 97) lengths.add(len);
    for (const len of lengths) expect(loadOrCorrupt(bytes.slice(0, len))).toBe('corrupt');
    for (const extra of [1, 4, 16, 4096]) {
      const longer = new Uint8Array(bytes.length + extra);
      longer.set(bytes);
      expect(loadOrCorrupt(longer)).toBe('corrupt');
      // Appended bytes that carry a checksum of their own still do not make a snapshot.
      expect(loadOrCorrupt(fixCrc(longer.slice()))).toBe('corrupt');
    }
    expect(eng.usedBytes).toBe(used);
  });

  test('foreign bytes: wrong magic, other snapshot kinds, random bytes with our magic', () => {
    const used = eng.usedBytes;
    const wrong = bytes.slice();
    wrong.set([0x45, 0x58, 0x51, 0x54]);
    expectCorrupt(() => eng.loadIndex(wrong));
    expectCorrupt(() => eng.loadIndex(fixCrc(wrong)));
    const q = eng.createQTable({ actions: 3 });
    q.update(1, 0, 1, 2);
    expectCorrupt(() => eng.loadIndex(q.serialize()));
    const traj = eng.createTrajectoryBuffer({ capacity: 4 });
    expectCorrupt(() => eng.loadIndex(traj.serialize()));
    expectCorrupt(() => eng.loadQTable(bytes));
    expectCorrupt(() => eng.loadTrajectoryBuffer(bytes));
    q.dispose();
    traj.dispose();
    const next = rng(8);
    for (const len of [84, 500, bytes.length]) {
      const random = Uint8Array.from({ length: len }, () => Math.floor(next() * 256));
      random.set([0x45, 0x58, 0x49, 0x58, 1, 0, 0, 0, 1, 0, 0, 0]);
      expectCorrupt(() => eng.loadIndex(fixCrc(random)));
    }
    expect(eng.usedBytes).toBe(used);
  });

  test.each(badEdits)('valid checksum over bad contents: %s is E_CORRUPT, nothing allocated', (_name, edit) => {
    const used = eng.usedBytes;
    expectCorrupt(() => eng.loadIndex(edited(bytes, edit)));
    expect(eng.usedBytes).toBe(used);
  });

  test('valid checksum over harmless edits: seed and efSearch load as written', () => {
    const copy = eng.loadIndex(
      edited(bytes, (v) => {
        v.setUint32(28, 99, true);
        v.setUint32(32, 12345, true);
      }),
    );
    expect([copy.efSearch, copy.seed]).toEqual([99, 12345]);
    copy.efSearch = original.efSearch;
    expect(fingerprint(copy, checkedIds, probes)).toBe(print);
    copy.dispose();
  });

  test('2,000 random edits with a recomputed checksum: E_CORRUPT, or an index that works', () => {
    const used = eng.usedBytes;
    const next = rng(55);
    const l = layout(bytes);
    const counts = { loaded: 0, corrupt: 0 };
    for (let round = 0; round < 2000; round++) {
      const bad = bytes.slice();
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) {
        // Half the edits land in the graph sections, where structure lives.
        const i =
          next() < 0.5 ? Math.floor(next() * (bytes.length - 4)) : l.links0 + Math.floor(next() * (l.crc - l.links0));
        bad[i] ^= next() < 0.5 ? 1 << Math.floor(next() * 8) : Math.floor(next() * 256);
      }
      fixCrc(bad);
      let copy: VectorIndex | undefined;
      const error = thrown(() => {
        copy = eng.loadIndex(bad);
      });
      if (error !== undefined) {
        expect(error).toBeInstanceOf(CorruptSnapshotError);
        counts.corrupt++;
        continue;
      }
      counts.loaded++;
      const work = thrown(() => exercise(copy!));
      expect(work).not.toBeInstanceOf(EngineBrokenError);
      expect(work).toBeUndefined();
      copy!.dispose();
      expect(eng.usedBytes).toBe(used);
    }
    expect(counts.loaded).toBeGreaterThan(100);
    expect(counts.corrupt).toBeGreaterThan(100);
    expect(eng.usedBytes).toBe(used);
  });
});
