/**
 * Index snapshots moved by the host: serializeChunks gives serialize()'s bytes in pieces, and
 * loadIndex takes bytes, an iterable or an async iterable of chunks of any sizes, straight into
 * the index's blocks. Neither costs budget beyond the index itself: an index at 85% of its
 * budget saves and loads back. (Above 2 GiB: tests/runtime/above-2gib.test.ts.)
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptSnapshotError, Engine, InvalidArgumentError, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectCorrupt, expectElexError } from '../helpers/errors';
import { randomVectors, rng } from '../helpers/random';

const DIM = 24;
const N = 600;
const data = randomVectors(N + 20, DIM, 5);
const queries = data.subarray(N * DIM);
const ids = Uint32Array.from({ length: N }, (_, i) => i * 3 + 1);

function build(eng: Engine): VectorIndex {
  const index = eng.createIndex({ dim: DIM, metric: 'l2', M: 8, efConstruction: 60, seed: 4 });
  index.addBatch(ids, data.subarray(0, N * DIM));
  for (let i = 0; i < N; i += 7) index.remove(ids[i]);
  return index;
}

/** Every query's answer, as one comparable string. */
function answers(index: VectorIndex): string {
  const r = index.searchBatch(queries, 10, { ef: 50 });
  return `${Array.from(r.ids)}|${Array.from(r.distances)}`;
}

/** `bytes` cut at random points (some empty pieces) by `next`. */
function randomPieces(bytes: Uint8Array, next: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = Math.min(bytes.length, at + Math.floor(next() * next() * 5000));
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return out;
}

/** Asserts byte equality (jest's toEqual walks typed arrays element by element: seconds here). */
function expectSame(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(
    Buffer.compare(
      Buffer.from(actual.buffer, actual.byteOffset, actual.length),
      Buffer.from(expected.buffer, expected.byteOffset, expected.length),
    ),
  ).toBe(0);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

describe.each(BUILDS)('streamed index snapshots (simd %s)', (simd) => {
  let eng: Engine;
  let index: VectorIndex;
  let bytes: Uint8Array;

  /** A small index (4-byte chunks of the big one would take seconds). */
  function build4(): VectorIndex {
    const small = eng.createIndex({ dim: 3, metric: 'cosine', M: 4, seed: 2 });
    small.addBatch(
      [1, 2, 3, 4, 5, 6, 7],
      data.subarray(0, 21).map((x) => x + 0.5),
    );
    small.remove(3);
    return small;
  }

  beforeAll(async () => {
    eng = await engine(simd, { budgetBytes: 64 << 20 });
    index = build(eng);
    bytes = index.serialize();
  });
  afterAll(() => eng.dispose());

  test.each([4, 1000, 4096, 1 << 20])(
    'serializeChunks(%i) concatenates to serialize(), full chunks but the last',
    (size) => {
      const source = size === 4 ? build4() : index;
      const chunks = [...source.serializeChunks(size)];
      if (size === 4) {
        expectSame(concat(chunks), source.serialize());
        return;
      }
      expectSame(concat(chunks), bytes);
      for (const c of chunks.slice(0, -1)) expect(c.length).toBe(size);
      expect(chunks[chunks.length - 1].length).toBeGreaterThan(0);
      expect(chunks[chunks.length - 1].length).toBeLessThanOrEqual(size);
    },
  );

  test('every chunk size, the CRC-32 straddling the last two chunks included, concatenates to serialize()', () => {
    // Attribute strings make a snapshot's length any number of bytes, so its CRC-32 can start
    // 1-3 bytes before a chunk ends (that threw a RangeError, and failed an index store's save).
    const residues = new Set<number>();
    for (const kind of ['a', 'ab', 'abc', 'abcd']) {
      const small = build4();
      small.setAttributes(1, { kind });
      const whole = small.serialize();
      residues.add(whole.length % 4);
      for (let size = 4; size <= whole.length + 8; size += 4) {
        const chunks = [...small.serializeChunks(size)];
        expectSame(concat(chunks), whole);
        for (const c of chunks.slice(0, -1)) expect(c.length).toBe(size);
        expect(chunks[chunks.length - 1].length).toBe(whole.length - size * (chunks.length - 1));
      }
      expectSame(concat([...eng.loadIndex(small.serializeChunks(8)).serializeChunks(12)]), whole);
    }
    expect([...residues].sort()).toEqual([0, 1, 2, 3]);
  });

  test('loads from bytes, an array, a generator and an async generator of random pieces: same bytes and answers', async () => {
    const next = rng(8);
    const expected = answers(index);
    const sources = [
      () => eng.loadIndex(bytes),
      () => eng.loadIndex(randomPieces(bytes, next)),
      () =>
        eng.loadIndex(
          (function* () {
            yield* randomPieces(bytes, next);
          })(),
        ),
      () => eng.loadIndex(index.serializeChunks(1024)),
    ];
    for (const load of sources) {
      const copy = load();
      expectSame(copy.serialize(), bytes);
      expect(answers(copy)).toBe(expected);
      copy.dispose();
    }
    const streamed = await eng.loadIndex(
      (async function* () {
        for (const piece of randomPieces(bytes, next)) {
          await new Promise((resolve) => setImmediate(resolve));
          yield piece;
        }
      })(),
    );
    expectSame(streamed.serialize(), bytes);
    expect(answers(streamed)).toBe(expected);
    expect([streamed.efSearch, streamed.seed, streamed.M, streamed.metric]).toEqual([
      index.efSearch,
      index.seed,
      index.M,
      index.metric,
    ]);
    streamed.dispose();
  });

  test('loads from a file read stream (Buffers as they arrive)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-exix-'));
    const file = join(dir, 'index.exix');
    writeFileSync(file, bytes);
    const copy = await eng.loadIndex(createReadStream(file, { highWaterMark: 4093 }));
    expectSame(copy.serialize(), bytes);
    copy.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a loaded index grows the same graph from the same adds', () => {
    const copy = eng.loadIndex(index.serializeChunks(776));
    const extra = randomVectors(50, DIM, 77);
    const extraIds = Array.from({ length: 50 }, (_, i) => 100000 + i);
    const twin = eng.loadIndex(bytes);
    copy.addBatch(extraIds, extra);
    twin.addBatch(extraIds, extra);
    expectSame(copy.serialize(), twin.serialize());
    copy.dispose();
    twin.dispose();
  });

  test('cut, padded, flipped or foreign streams are E_CORRUPT with nothing allocated', async () => {
    const used = eng.usedBytes;
    const next = rng(3);
    for (const cut of [0, 3, 79, 80, 81, 500, bytes.length - 5, bytes.length - 1]) {
      expectCorrupt(() => eng.loadIndex(randomPieces(bytes.subarray(0, cut), next)));
      expectCorrupt(() =>
        eng.loadIndex(
          (function* () {
            yield bytes.subarray(0, cut);
          })(),
        ),
      );
      await expect(
        eng.loadIndex(
          (async function* () {
            yield bytes.subarray(0, cut);
          })(),
        ),
      ).rejects.toBeInstanceOf(CorruptSnapshotError);
    }
    const padded = concat([bytes, new Uint8Array([0])]);
    expectCorrupt(() => eng.loadIndex(padded));
    expectCorrupt(() =>
      eng.loadIndex(
        (function* () {
          yield bytes;
          yield new Uint8Array(1);
        })(),
      ),
    );
    for (let round = 0; round < 50; round++) {
      const bad = bytes.slice();
      bad[Math.floor(next() * bad.length)] ^= 1 << Math.floor(next() * 8);
      expectCorrupt(() =>
        eng.loadIndex(
          (function* () {
            yield* randomPieces(bad, next);
          })(),
        ),
      );
    }
    expect(eng.usedBytes).toBe(used);
    const q = eng.createQTable({ actions: 2 });
    const withQ = eng.usedBytes;
    expectCorrupt(() => eng.loadIndex([q.serialize()]));
    expect(eng.usedBytes).toBe(withQ);
    q.dispose();
  });

  test('a bad chunk or a failing stream is its own error, with nothing allocated', async () => {
    const used = eng.usedBytes;
    expectElexError(
      () => eng.loadIndex([bytes.subarray(0, 500), 'x' as unknown as Uint8Array]),
      InvalidArgumentError,
      'E_ARGUMENT',
    );
    expectElexError(() => eng.loadIndex(42 as unknown as Uint8Array), InvalidArgumentError, 'E_ARGUMENT');
    const failure = new Error('disk gone');
    expect(() =>
      eng.loadIndex(
        (function* () {
          yield bytes.subarray(0, 2000);
          throw failure;
        })(),
      ),
    ).toThrow(failure);
    await expect(
      eng.loadIndex(
        (async function* () {
          yield bytes.subarray(0, 2000);
          throw failure;
        })(),
      ),
    ).rejects.toBe(failure);
    expect(eng.usedBytes).toBe(used);
    const copy = eng.loadIndex(bytes); // the engine is fine afterwards
    expect(answers(copy)).toBe(answers(index));
    copy.dispose();
  });

  test('changing or disposing the index while its chunks are read throws at the next chunk', () => {
    const copy = eng.loadIndex(bytes);
    const changed = copy.serializeChunks(4096);
    changed.next();
    copy.add(999999, data.subarray(0, DIM));
    expectElexError(() => changed.next(), InvalidArgumentError, 'E_ARGUMENT', /changed/);
    const removed = copy.serializeChunks(4096);
    removed.next();
    copy.remove(ids[1]);
    expectElexError(() => removed.next(), InvalidArgumentError, 'E_ARGUMENT');
    const disposed = copy.serializeChunks(4096);
    disposed.next();
    copy.dispose();
    expect(() => disposed.next()).toThrow(/dispos/i);
    expectElexError(() => index.serializeChunks(6), InvalidArgumentError, 'E_ARGUMENT');
    expectElexError(() => index.serializeChunks(0), InvalidArgumentError, 'E_ARGUMENT');
  });
});

describe('snapshots cost no budget', () => {
  test('an index at 85% of a 128 MiB budget serialises (usedBytes unchanged) and loads back in an engine of the same budget', async () => {
    const budgetBytes = 128 << 20;
    const full = await Engine.create({ budgetBytes });
    const dim = 128;
    const index = full.createIndex({ dim, metric: 'l2', M: 8, efConstruction: 16, seed: 1 });
    // Reserve the slots for ~87% of the budget up front (growing step by step copies blocks),
    // at the per-slot cost a small reserve shows, then fill them.
    const before = full.usedBytes;
    index.reserve(1000);
    const perSlot = (full.usedBytes - before) / 1000;
    const slots = Math.floor((0.87 * budgetBytes - before) / perSlot);
    index.reserve(slots);
    const batch = 2000;
    const rows = randomVectors(batch, dim, 9);
    let next = 0;
    while (next + batch <= slots) {
      index.addBatch(
        Uint32Array.from({ length: batch }, (_, i) => next + i),
        rows.map((x, i) => x + ((next + i) % 97) * 1e-3),
      );
      next += batch;
    }
    const used = full.usedBytes;
    expect(used / budgetBytes).toBeGreaterThanOrEqual(0.85);
    const chunks: Uint8Array[] = [];
    for (const chunk of index.serializeChunks()) {
      expect(full.usedBytes).toBe(used);
      chunks.push(chunk);
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(total).toBeGreaterThan(0.6 * budgetBytes); // the snapshot alone would not fit beside the index
    const probe = index.search(rows.subarray(0, dim), 5, { ef: 40 });
    full.dispose();

    const again = await Engine.create({ budgetBytes });
    const loaded = again.loadIndex(chunks);
    expect(again.usedBytes).toBeLessThanOrEqual(used);
    expect(loaded.size).toBe(next);
    const hit = loaded.search(rows.subarray(0, dim), 5, { ef: 40 });
    expect(Array.from(hit.ids)).toEqual(Array.from(probe.ids));
    again.dispose();
  }, 300_000);
});
