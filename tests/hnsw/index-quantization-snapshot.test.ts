/**
 * Snapshots and persistence of quantized indexes: f16 and i8 write EXIX version 2 with the
 * quantization at offset 60 (f32 keeps version 1, and a version-2 f32 snapshot loads too);
 * serialize / loadIndex, serializeChunks and save / openIndex (checkpoint plus log segments of
 * traced adds, replayed by re-encoding the rows as given) give back the same bytes and answers;
 * corrupt version-2 contents are E_CORRUPT with nothing allocated; a failed add under i8
 * changes nothing, memory included. Both builds.
 */
import { BudgetExceededError, MemoryStore, type Engine, type Metric, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectCorrupt } from '../helpers/errors';
import { fixCrc, HEADER } from '../helpers/index-snapshot';
import { expectSameAnswers, randomOps, type Model } from '../helpers/index-store';
import { randomVectors } from '../helpers/random';

const DIM = 21; // pads to 24 (f16) and 32 (i8): the padding is checked on load
const ROWS = 1500;
const data = randomVectors(ROWS + 50, DIM, 3);
const queries = data.subarray(ROWS * DIM);
const ids = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);

function built(e: Engine, quantization: 'f16' | 'i8', metric: Metric): VectorIndex {
  const index = e.createIndex({ dim: DIM, metric, quantization, M: 8, efConstruction: 64, seed: 9 });
  index.addBatch(ids(0, ROWS), data.subarray(0, ROWS * DIM));
  for (let i = 0; i < 40; i++) index.remove(i * 7);
  for (let i = 0; i < 30; i++) index.add(i * 11 + 1, data.subarray((ROWS - 1 - i) * DIM, (ROWS - i) * DIM));
  return index;
}

/** Byte equality without jest's element-by-element diff (slow on 100 KB). */
function expectSameBytes(a: Uint8Array, b: Uint8Array): void {
  expect(a.length).toBe(b.length);
  expect(Buffer.compare(a, b)).toBe(0);
}

const concat = (chunks: Uint8Array[]) => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

describe.each(BUILDS)('quantized snapshots (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  describe.each([
    ['f16', 'l2'],
    ['f16', 'cosine'],
    ['i8', 'l2'],
    ['i8', 'cosine'],
    ['i8', 'dot'],
  ] as const)('%s %s', (quantization, metric) => {
    let index: VectorIndex;
    let bytes: Uint8Array;
    beforeAll(() => {
      index = built(e, quantization, metric);
      bytes = index.serialize();
    });
    afterAll(() => index.dispose());

    test('version 2 with the quantization in the header; the vector part is 2 dims (f16) or dim + 8 (i8)', () => {
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      expect(v.getUint32(4, true)).toBe(2);
      expect(v.getUint32(60, true)).toBe(quantization === 'f16' ? 1 : 2);
      const vectorBytes = quantization === 'f16' ? 2 * 24 : 8 + 32;
      const n = v.getUint32(36, true);
      const upperUsed = v.getUint32(52, true);
      expect(bytes.length).toBe(
        HEADER + n * (vectorBytes + 4 * (1 + 16) + 4 + 4) + 4 * (upperUsed - 1) + 4 * Math.ceil(n / 32) + 4,
      );
    });

    test('loadIndex and serializeChunks round trip: same bytes, same answers, same later growth', () => {
      const loaded = e.loadIndex(bytes);
      expect(loaded.quantization).toBe(quantization);
      expectSameBytes(loaded.serialize(), bytes);
      expectSameAnswers(index, loaded, queries, 10);
      const chunks = Array.from(index.serializeChunks(1024));
      expectSameBytes(concat(chunks), bytes);
      const fromChunks = e.loadIndex(chunks);
      expectSameBytes(fromChunks.serialize(), bytes);
      // The loaded index grows the same graph as the original from the same adds.
      const more = data.subarray(0, 20 * DIM);
      const copy = e.loadIndex(bytes);
      copy.addBatch(ids(5000, 5020), more);
      fromChunks.addBatch(ids(5000, 5020), more);
      expectSameBytes(fromChunks.serialize(), copy.serialize());
      for (const x of [loaded, fromChunks, copy]) x.dispose();
    });

    test('corrupt vector parts are E_CORRUPT with nothing allocated', () => {
      const used = e.usedBytes;
      const edits: Array<(v: DataView) => void> =
        quantization === 'f16'
          ? [
              (v) => v.setUint16(HEADER + 2 * 3, 0x7c00, true), // Inf
              (v) => v.setUint16(HEADER + 2 * 3, 0x0001, true), // a subnormal code
              (v) => v.setUint16(HEADER + 2 * DIM, 0x3c00, true), // padding past dim
            ]
          : [
              (v) => v.setFloat32(HEADER, NaN, true), // scale
              (v) => v.setFloat32(HEADER, -1, true),
              (v) => v.setFloat32(HEADER + 4, v.getFloat32(HEADER + 4, true) * 1.0001, true), // squared norm
              (v) => v.setInt8(HEADER + 8 + 2, -128), // a code absmax never writes
              (v) => v.setInt8(HEADER + 8 + DIM, 1), // padding past dim
            ];
      for (const edit of edits) {
        const copy = bytes.slice();
        edit(new DataView(copy.buffer));
        expectCorrupt(() => e.loadIndex(fixCrc(copy)));
      }
      const relabelled = bytes.slice();
      new DataView(relabelled.buffer).setUint32(60, quantization === 'f16' ? 2 : 1, true);
      expectCorrupt(() => e.loadIndex(fixCrc(relabelled)));
      expect(e.usedBytes).toBe(used);
    });
  });

  test('f32 writes version 1; the same index as version 2 (quantization 0) loads and answers the same', () => {
    const index = e.createIndex({ dim: DIM, metric: 'l2', M: 8, seed: 9 });
    index.addBatch(ids(0, 300), data.subarray(0, 300 * DIM));
    const v1 = index.serialize();
    expect(new DataView(v1.buffer).getUint32(4, true)).toBe(1);
    const v2 = v1.slice();
    new DataView(v2.buffer).setUint32(4, 2, true);
    const loaded = e.loadIndex(fixCrc(v2));
    expect(loaded.quantization).toBe('f32');
    expectSameBytes(loaded.serialize(), v1);
    expectSameAnswers(index, loaded, queries, 10);
    index.dispose();
    loaded.dispose();
  });

  test.each(['f16', 'i8'] as const)(
    '%s: save / openIndex with log segments opens to the index the same calls build unsaved',
    async (quantization) => {
      const store = new MemoryStore();
      const saved = e.createIndex({ dim: DIM, metric: 'l2', quantization, M: 8, efConstruction: 48, seed: 4 });
      const unsaved = e.createIndex({ dim: DIM, metric: 'l2', quantization, M: 8, efConstruction: 48, seed: 4 });
      const models: Model[] = [new Map(), new Map()];
      const kinds: string[] = [];
      for (let cycle = 0; cycle < 5; cycle++) {
        randomOps(saved, models[0], 100 + cycle, cycle === 0 ? 300 : 40, 400);
        randomOps(unsaved, models[1], 100 + cycle, cycle === 0 ? 300 : 40, 400);
        kinds.push((await saved.save(store, 'q', { logShare: 2 })).kind);
      }
      expect(kinds[0]).toBe('checkpoint');
      expect(kinds.slice(1)).toContain('log');
      const opened = await e.openIndex(store, 'q');
      expect(opened.quantization).toBe(quantization);
      expectSameBytes(opened.serialize(), unsaved.serialize());
      expectSameBytes(saved.serialize(), unsaved.serialize());
      expectSameAnswers(unsaved, opened, queries, 10);
      for (const x of [saved, unsaved, opened]) x.dispose();
    },
  );

  test('a failed add under i8 changes nothing, memory included', async () => {
    const small = await engine(simd, { budgetBytes: 2 << 20 });
    const index = small.createIndex({ dim: 128, metric: 'l2', quantization: 'i8', M: 16, efConstruction: 32 });
    const rows = randomVectors(1000, 128, 8);
    let next = 0;
    let failure: unknown;
    while (failure === undefined) {
      const before = index.serialize();
      const used = small.usedBytes;
      try {
        index.addBatch(ids(next, next + 1000), rows);
        next += 1000;
      } catch (error) {
        failure = error;
        expect(small.usedBytes).toBe(used);
        expectSameBytes(index.serialize(), before);
      }
    }
    expect(failure).toBeInstanceOf(BudgetExceededError);
    expect(index.size).toBe(next);
    small.dispose();
  });
});
