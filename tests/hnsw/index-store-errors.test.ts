/**
 * Index stores, bad input and failing stores: a missing name is E_STORE naming it; a manifest or
 * chunk that is cut short, flipped, missing, or re-checksummed into nonsense is E_CORRUPT naming
 * its key, with nothing left allocated in the engine; a store write failing at any point of a
 * save (checkpoint or log) leaves the previous save intact and openable, keeps a quota error
 * typed, and leaves no chunk of the failed save behind; leftovers of interrupted saves are
 * ignored by open and removed by the next save; bad arguments are E_ARGUMENT.
 */
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import {
  CorruptSnapshotError,
  DisposedError,
  Engine,
  IndexedDBStore,
  InvalidArgumentError,
  MemoryStore,
  StoreError,
  StoreQuotaError,
  type ByteStore,
  type VectorIndex,
} from '../../src/index';
import { decodeManifest, encodeManifest, type Manifest } from '../../src/hnsw/store/manifest';
import { decodeLog, encodeLog } from '../../src/hnsw/store/oplog';
import { crc32 } from '../../src/util/crc32';
import { FailingStore, digest } from '../helpers/index-store';

const MANIFEST = '@index/docs/manifest';
let e: Engine;
let index: VectorIndex;
let saved: MemoryStore;

/** `index` saved to `saved` as a checkpoint in 3 chunks plus two log segments. */
beforeAll(async () => {
  e = await Engine.create();
  index = e.createIndex({ dim: 6, metric: 'l2', efConstruction: 30, seed: 5 });
  index.addBatch(
    Array.from({ length: 120 }, (_, i) => i),
    Float32Array.from({ length: 720 }, (_, i) => Math.sin(i)),
  );
  saved = new MemoryStore();
  await index.save(saved, 'docs', { chunkBytes: 5000 });
  index.add(500, [1, 2, 3, 4, 5, 6]);
  await index.save(saved, 'docs');
  index.remove(3);
  await index.save(saved, 'docs');
  // Warm the engine's staging blocks, so usedBytes compares like with like below.
  (await e.openIndex(saved, 'docs')).dispose();
});
afterAll(() => e.dispose());

async function copyOf(store: MemoryStore): Promise<MemoryStore> {
  const copy = new MemoryStore();
  for (const k of await store.keys()) await copy.write(k, (await store.read(k))!);
  return copy;
}

async function manifestOf(store: ByteStore): Promise<Manifest> {
  return decodeManifest((await store.read(MANIFEST))!, MANIFEST);
}

/** Asserts opening `store` is E_CORRUPT with a message matching `text`, leaving usedBytes as it was. */
async function expectCorruptOpen(store: ByteStore, text: RegExp): Promise<void> {
  const used = e.usedBytes;
  const error = await e.openIndex(store, 'docs').catch((err: unknown) => err);
  expect(error).toBeInstanceOf(CorruptSnapshotError);
  expect((error as CorruptSnapshotError).code).toBe('E_CORRUPT');
  expect((error as Error).message).toMatch(text);
  expect(e.usedBytes).toBe(used);
}

test('a missing name is E_STORE naming it', async () => {
  const error = await e.openIndex(saved, 'nope').catch((err: unknown) => err);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('E_STORE');
  expect((error as Error).message).toMatch(/no index named 'nope'.*'@index\/nope\/manifest'/);
});

test('a manifest cut short, flipped anywhere or padded is E_CORRUPT naming its key; nothing stays allocated', async () => {
  const bytes = (await saved.read(MANIFEST))!;
  for (const cut of [0, 10, 43, bytes.length - 1]) {
    const store = await copyOf(saved);
    await store.write(MANIFEST, bytes.subarray(0, cut));
    await expectCorruptOpen(store, /the manifest '@index\/docs\/manifest' is not valid/);
  }
  for (let at = 0; at < bytes.length; at++) {
    const store = await copyOf(saved);
    const flipped = bytes.slice();
    flipped[at] ^= 0x10;
    await store.write(MANIFEST, flipped);
    await expectCorruptOpen(store, /'@index\/docs\/manifest'/);
  }
  const store = await copyOf(saved);
  await store.write(MANIFEST, new Uint8Array([...bytes, 0, 0, 0, 0]));
  await expectCorruptOpen(store, /manifest/);
});

test('manifests with a valid checksum but impossible content are E_CORRUPT', async () => {
  const good = await manifestOf(saved);
  const cases: Array<[string, (m: Manifest) => void, RegExp]> = [
    [
      'a log first',
      (m) => {
        m.parts[0].kind = 2;
      },
      /part 0 has kind 2/,
    ],
    [
      'a checkpoint later',
      (m) => {
        m.parts[1].kind = 1;
      },
      /part 1 has kind 1/,
    ],
    [
      'parts out of order',
      (m) => {
        m.parts.reverse();
      },
      /kind|newer/,
    ],
    [
      'the last part not the last save',
      (m) => {
        m.stamp.token ^= 1;
      },
      /last part is not the last save/,
    ],
    [
      'an empty chunk',
      (m) => {
        m.parts[0].chunks[1].length = 0;
      },
      /chunk 1 is empty/,
    ],
    [
      'a wrong dim',
      (m) => {
        m.dim = 7;
      },
      /says dim 7/,
    ],
    [
      'a wrong size',
      (m) => {
        m.size = 999;
      },
      /says 999 ids/,
    ],
    [
      'efSearch 0',
      (m) => {
        m.efSearch = 0;
      },
      /efSearch 0/,
    ],
    [
      'a chunk length',
      (m) => {
        m.parts[0].chunks[0].length += 4;
      },
      /holds 5000 bytes, the manifest says 5004/,
    ],
    [
      'a chunk CRC',
      (m) => {
        m.parts[2].chunks[0].crc ^= 1;
      },
      /chunk '@index\/docs\/3-[0-9a-f]{8}\/0' does not match its checksum/,
    ],
  ];
  for (const [what, edit, text] of cases) {
    const m = structuredClone(good);
    edit(m);
    const store = await copyOf(saved);
    await store.write(MANIFEST, encodeManifest(m));
    try {
      await expectCorruptOpen(store, text);
    } catch (error) {
      throw new Error(`${what}: ${(error as Error).message}`);
    }
  }
  // Version 2 is unknown: refused, not guessed at.
  const v2 = encodeManifest(good);
  new DataView(v2.buffer).setUint32(4, 2, true);
  new DataView(v2.buffer).setUint32(v2.length - 4, crc32(v2.subarray(0, v2.length - 4)), true);
  const store = await copyOf(saved);
  await store.write(MANIFEST, v2);
  await expectCorruptOpen(store, /version 2/);
});

test('a chunk flipped, cut short or missing is E_CORRUPT naming its key', async () => {
  const m = await manifestOf(saved);
  const keys = (await saved.keys()).filter((k) => k !== MANIFEST).sort();
  expect(keys.length).toBe(m.parts.reduce((n, p) => n + p.chunks.length, 0));
  for (const key of keys) {
    const bytes = (await saved.read(key))!;
    const quoted = new RegExp(`'${key.replace(/[/-]/g, '\\$&')}'`);
    let store = await copyOf(saved);
    const flipped = bytes.slice();
    flipped[Math.floor(bytes.length / 2)] ^= 1;
    await store.write(key, flipped);
    await expectCorruptOpen(store, quoted);
    store = await copyOf(saved);
    await store.write(key, bytes.subarray(0, bytes.length - 1));
    await expectCorruptOpen(store, quoted);
    store = await copyOf(saved);
    await store.delete(key);
    await expectCorruptOpen(store, new RegExp(`${quoted.source} named by '@index/docs/manifest' is missing`));
  }
});

test('checksummed parts that do not load or replay are E_CORRUPT naming the part; nothing stays allocated', async () => {
  const good = await manifestOf(saved);
  /** The store with part `p` replaced by `bytes` (one chunk) and the manifest re-checksummed. */
  const withPart = async (p: number, bytes: Uint8Array): Promise<MemoryStore> => {
    const store = await copyOf(saved);
    const m = structuredClone(good);
    m.parts[p].chunks = [{ length: bytes.length, crc: crc32(bytes) }];
    const stamp = m.parts[p].stamp;
    await store.write(`@index/docs/${stamp.generation}-${stamp.token.toString(16).padStart(8, '0')}/0`, bytes);
    await store.write(MANIFEST, encodeManifest(m));
    return store;
  };
  // The stored checkpoint itself (so the engine stages as many bytes as before), with dim 0.
  const stamp = good.parts[0].stamp;
  const chunks = await Promise.all(
    good.parts[0].chunks.map((_, i) => saved.read(`@index/docs/1-${stamp.token.toString(16).padStart(8, '0')}/${i}`)),
  );
  const snapshot = new Uint8Array(Buffer.concat(chunks.map((c) => c!)));
  snapshot[12] = 0; // the engine refuses the snapshot
  await expectCorruptOpen(
    await withPart(0, snapshot),
    /the checkpoint '@index\/docs\/1-[0-9a-f]{8}\/0' is not valid: loadIndex/,
  );
  await expectCorruptOpen(
    await withPart(1, encodeLog([{ kind: 'remove', id: 77777 }], 6)),
    /log segment '@index\/docs\/2-.*removes id 77777, which is not there/,
  );
  const nan = Float32Array.from([1, 2, NaN, 4, 5, 6]);
  await expectCorruptOpen(
    await withPart(2, encodeLog([{ kind: 'add', ids: Uint32Array.of(9), vectors: nan }], 6)),
    /log segment '@index\/docs\/3-.*does not replay/,
  );
  await expectCorruptOpen(await withPart(2, encodeLog([], 5)), /dim 5, the index has 6/);
  const log = encodeLog([{ kind: 'remove', id: 1 }], 6);
  log[16] = 9; // an unknown record tag
  log.set(new Uint8Array(Uint32Array.of(crc32(log.subarray(0, log.length - 4))).buffer), log.length - 4);
  await expectCorruptOpen(await withPart(1, log), /record 0 has tag 9/);
});

test('recorded neighbours that do not fit the index are E_CORRUPT naming the segment; nothing stays allocated', async () => {
  const good = await manifestOf(saved);
  const stamp = good.parts[1].stamp;
  const key = `@index/docs/${stamp.generation}-${stamp.token.toString(16).padStart(8, '0')}/0`;
  const [add] = decodeLog((await saved.read(key))!, 6, key);
  if (add.kind !== 'add' || add.links === undefined) throw new Error('the first log segment should be one traced add');
  // id 500 went to node 120: [layers, repair words (0), kept, neighbours...] per row, layer 0 last.
  expect(add.links[0]).toBeGreaterThanOrEqual(1);
  expect(add.links[1]).toBe(0);
  /** The store with the first segment's add re-recorded with `links`. */
  const withLinks = async (links: number[]): Promise<MemoryStore> => {
    const store = await copyOf(saved);
    const bytes = encodeLog([{ ...add, links: Uint32Array.from(links) }], 6);
    const m = structuredClone(good);
    m.parts[1].chunks = [{ length: bytes.length, crc: crc32(bytes) }];
    await store.write(key, bytes);
    await store.write(MANIFEST, encodeManifest(m));
    return store;
  };
  const links = [...add.links];
  const opened = await e.openIndex(await withLinks(links), 'docs');
  expect(digest(opened)).toBe(digest(index));
  opened.dispose();
  const last = links.length - 1;
  const cases: [string, number[]][] = [
    ['a neighbour out of range', [...links.slice(0, last), 9999]],
    ['the node itself', [...links.slice(0, last), 120]],
    ['one layer too many', [links[0] + 1, ...links.slice(1), 0]],
    ['a repair record on a row that repairs nothing', [links[0], 2, 0, 0, ...links.slice(2)]],
    ['a word past the last row', [...links, 0]],
    ['cut short', links.slice(0, last)],
    [
      'more than M neighbours',
      [links[0], ...links.slice(1, last - links[last]), 17, ...Array.from({ length: 17 }, (_, i) => i)],
    ],
  ];
  for (const [, bad] of cases) {
    // The first open may grow the engine's staging blocks (kept for later calls, as any call's are).
    await expect(e.openIndex(await withLinks(bad), 'docs')).rejects.toThrow(CorruptSnapshotError);
    await expectCorruptOpen(
      await withLinks(bad),
      /log segment '@index\/docs\/2-.*does not replay: the (neighbours recorded|recorded neighbours)/,
    );
  }
});

describe('a store write failing at any point of a save leaves the previous save', () => {
  test.each([
    ['a foreign error', () => new Error('disk on fire'), StoreError, 'E_STORE'],
    ['a quota error', () => new StoreQuotaError('full', undefined), StoreQuotaError, 'E_QUOTA'],
  ])('%s, checkpoint and log saves', async (_what, error, type, code) => {
    for (const kind of ['checkpoint', 'log'] as const) {
      // Count the writes of a save of this kind.
      const probe = new FailingStore(await copyOf(saved));
      const ix = await e.openIndex(probe, 'docs');
      ix.add(9000, [0, 0, 1, 0, 0, 0]);
      expect((await ix.save(probe, 'docs', { chunkBytes: 1024, logShare: kind === 'log' ? 0.25 : 0 })).kind).toBe(kind);
      const writes = probe.writes;
      expect(writes).toBeGreaterThan(kind === 'log' ? 1 : 3);
      ix.dispose();
      for (let ok = 0; ok < writes; ok++) {
        const inner = await copyOf(saved);
        const store = new FailingStore(inner, error);
        const opened = await e.openIndex(store, 'docs');
        opened.add(9000, [0, 0, 1, 0, 0, 0]);
        store.okWrites = ok;
        const failure = await opened
          .save(store, 'docs', { chunkBytes: 1024, logShare: kind === 'log' ? 0.25 : 0 })
          .catch((err: unknown) => err);
        expect(failure).toBeInstanceOf(type);
        expect((failure as StoreError).code).toBe(code);
        // The store holds exactly what it held: same keys, and it opens to the previous state.
        expect((await inner.keys()).sort()).toEqual((await saved.keys()).sort());
        expect(digest(await e.openIndex(inner, 'docs'))).toBe(digest(index));
        // Once the store works again the same index saves its state (nothing lost).
        store.okWrites = Infinity;
        await opened.save(store, 'docs');
        const again = await e.openIndex(inner, 'docs');
        expect(again.has(9000)).toBe(true);
        expect(digest(again)).toBe(digest(opened));
        opened.dispose();
        again.dispose();
      }
    }
  });

  test('IndexedDB quota during a save: StoreQuotaError, the previous save opens', async () => {
    const store = new IndexedDBStore('index-quota', { indexedDB: new IDBFactory() });
    const ix = e.createIndex({ dim: 6, metric: 'l2' });
    ix.addBatch(
      [1, 2, 3],
      Float32Array.from({ length: 18 }, (_, i) => i),
    );
    await ix.save(store, 'docs');
    const before = digest(ix);
    ix.addBatch(
      [4, 5],
      Float32Array.from({ length: 12 }, (_, i) => -i),
    );
    const put = jest.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    try {
      await expect(ix.save(store, 'docs')).rejects.toBeInstanceOf(StoreQuotaError);
    } finally {
      put.mockRestore();
    }
    expect(digest(await e.openIndex(store, 'docs'))).toBe(before);
    await ix.save(store, 'docs');
    expect(digest(await e.openIndex(store, 'docs'))).toBe(digest(ix));
    store.close();
  });

  test('a manifest write that throws after it landed counts as saved', async () => {
    const inner = await copyOf(saved);
    const store: ByteStore = {
      read: (k) => inner.read(k),
      delete: (k) => inner.delete(k),
      keys: () => inner.keys(),
      async write(k, bytes) {
        await inner.write(k, bytes);
        if (k === MANIFEST) throw new Error('lost the acknowledgement');
      },
    };
    const ix = await e.openIndex(store, 'docs');
    ix.add(4242, [6, 5, 4, 3, 2, 1]);
    expect((await ix.save(store, 'docs')).kind).toBe('log');
    expect(digest(await e.openIndex(inner, 'docs'))).toBe(digest(ix));
  });

  test('the first save through a new store object failing: a retry through it saves (no false conflict)', async () => {
    const inner = await copyOf(saved);
    const ix = await e.openIndex(inner, 'docs');
    ix.add(4343, [1, 1, 2, 3, 5, 8]);
    let fail = true;
    const other: ByteStore = {
      read: (k) => inner.read(k),
      delete: (k) => inner.delete(k),
      keys: () => inner.keys(),
      async write(k, bytes) {
        if (fail) {
          fail = false;
          throw new Error('once');
        }
        await inner.write(k, bytes);
      },
    };
    await expect(ix.save(other, 'docs')).rejects.toThrow('once');
    expect((await ix.save(other, 'docs')).kind).toBe('checkpoint');
    expect(digest(await e.openIndex(inner, 'docs'))).toBe(digest(ix));
    // A conflict is still one: another index saves meanwhile, then this one's save through `other` is refused.
    const rival = await e.openIndex(inner, 'docs');
    rival.remove(4343);
    await rival.save(inner, 'docs');
    ix.add(4444, [2, 2, 2, 2, 2, 2]);
    await expect(ix.save(other, 'docs')).rejects.toThrow(/conflicting saves/);
  });
});

test('leftovers of an interrupted save are never read and the next save removes them; failing deletes do not fail a save', async () => {
  const inner = await copyOf(saved);
  let deletesFail = true;
  const store: ByteStore = {
    ...bind(inner),
    delete: async (k) => {
      if (deletesFail) throw new Error('busy');
      await inner.delete(k);
    },
  };
  const junk = [
    '@index/docs/4-deadbeef/0',
    '@index/docs/4-deadbeef/1',
    '@index/docs/manifest.tmp',
    '@index/docs/1-00000000/0',
  ];
  for (const k of junk) await store.write(k, new Uint8Array([1, 2, 3]));
  await store.write('@index/docsmore/manifest', new Uint8Array([9])); // another name's key: never touched
  const ix = await e.openIndex(store, 'docs');
  expect(digest(ix)).toBe(digest(index));
  ix.remove(4);
  await ix.save(store, 'docs');
  expect((await store.keys()).filter((k) => junk.includes(k)).sort()).toEqual([...junk].sort());
  deletesFail = false;
  ix.remove(5);
  await ix.save(store, 'docs');
  const keys = await store.keys();
  expect(keys.filter((k) => junk.includes(k))).toEqual([]);
  expect(keys).toContain('@index/docsmore/manifest');
  const m = await manifestOf(store);
  expect(keys.filter((k) => k.startsWith('@index/docs/')).length).toBe(
    1 + m.parts.reduce((n, p) => n + p.chunks.length, 0),
  );
});

function bind(store: MemoryStore): ByteStore {
  return {
    read: (k) => store.read(k),
    write: (k, b) => store.write(k, b),
    delete: (k) => store.delete(k),
    keys: () => store.keys(),
  };
}

test('bad arguments are E_ARGUMENT, a disposed index E_DISPOSED, a failing read E_STORE', async () => {
  const ix = e.createIndex({ dim: 2 });
  ix.add(1, [1, 0]);
  const store = new MemoryStore();
  for (const bad of [null, {}, { read() {}, write() {}, delete() {} }, 'dir']) {
    await expect(ix.save(bad as unknown as ByteStore, 'x')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(e.openIndex(bad as unknown as ByteStore, 'x')).rejects.toBeInstanceOf(InvalidArgumentError);
  }
  for (const name of ['', 'n'.repeat(101), '😀'.repeat(51), 'a\uD800b', '\uDC00', 7, undefined]) {
    await expect(ix.save(store, name as string)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(e.openIndex(store, name as string)).rejects.toBeInstanceOf(InvalidArgumentError);
  }
  for (const options of [
    { chunkBytes: 100 },
    { chunkBytes: 1024.5 },
    { logShare: -1 },
    { logShare: NaN },
    { overwrite: 1 },
    { logshare: 0.1 },
    null,
  ]) {
    await expect(ix.save(store, 'x', options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  }
  await expect(ix.save(store, 'x', { logshare: 0.1 } as never)).rejects.toThrow(
    /save: unknown option 'logshare' \(did you mean 'logShare'\?\)/,
  );
  expect(await store.keys()).toEqual([]);
  await ix.save(store, 'x');
  const failing: ByteStore = {
    ...bind(store),
    read: async () => {
      throw new Error('io');
    },
  };
  await expect(e.openIndex(failing, 'x')).rejects.toMatchObject({
    code: 'E_STORE',
    message: expect.stringMatching(/reading '@index\/x\/manifest' failed: Error: io/),
  });
  ix.dispose();
  await expect(ix.save(store, 'x')).rejects.toBeInstanceOf(DisposedError);
});

test('another process saving while a save writes its chunks: the later manifest write is refused, the other save stays whole', async () => {
  const inner = await copyOf(saved);
  // Two "processes": two store objects over the same values, so the in-process queue does not order them.
  let interleave: (() => Promise<void>) | undefined;
  const mine: ByteStore = {
    ...bind(inner),
    async write(k, bytes) {
      await inner.write(k, bytes);
      const other = interleave;
      interleave = undefined;
      if (other && k !== MANIFEST) await other();
    },
  };
  const theirs = bind(inner);
  const a = await e.openIndex(mine, 'docs');
  const b = await e.openIndex(theirs, 'docs');
  a.add(7001, [1, 1, 1, 1, 1, 1]);
  b.add(7002, [2, 2, 2, 2, 2, 2]);
  interleave = async () => {
    await b.save(theirs, 'docs');
  };
  await expect(a.save(mine, 'docs')).rejects.toThrow(/conflicting saves: the store holds generation 4/);
  const opened = await e.openIndex(inner, 'docs');
  expect(digest(opened)).toBe(digest(b));
  const m = await manifestOf(inner);
  expect((await inner.keys()).sort()).toEqual(
    [
      MANIFEST,
      ...m.parts.flatMap((p) =>
        p.chunks.map((_, i) => `@index/docs/${p.stamp.generation}-${p.stamp.token.toString(16).padStart(8, '0')}/${i}`),
      ),
    ].sort(),
  );
});
