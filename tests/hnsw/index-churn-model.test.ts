/**
 * Model-based churn: seeded streams of adds, replaces, batches, removes, compactions, clears,
 * incremental saves to a MemoryStore, reopens (engine.openIndex) and loads
 * (engine.loadIndex(index.serialize())), under f32, f16 and i8, l2 and cosine, several M. Checked:
 * - after every save, openIndex returns the saved index byte for byte (serialize() equal);
 * - a twin (the reopened index after a save; the index left behind by a reopen or a load)
 *   follows every later operation and stays byte-equal to the working index, so both grow the
 *   same graph from the same operations (compaction included);
 * - a plain-JS model of the live id -> vector map: ids(), has() and get() against it, get()
 *   within the quantization's tolerance of the vector given when it was added and, from then on,
 *   exactly the decoded form it returned then (through compactions, saves, reopens and loads).
 * Also the regression of compact leaving stale layer-0 in-degrees in the slots past the live
 * nodes: compact, add, and the index and its snapshot (or its reopened store copy) must grow the
 * same graph.
 */
import { MemoryStore, type Engine, type Quantization, type VectorIndex } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { rng } from '../helpers/random';

type Metric = 'l2' | 'cosine';

/** One stream's parameters. */
interface Stream {
  quantization: Quantization;
  metric: Metric;
  dim: number;
  M: number;
  seeds: number[];
}

const OPS = 400;

/**
 * Operation mixes, as cumulative thresholds for add, addBatch, remove, compact, clear, save,
 * reopen (load takes the rest): growing (appends into the slots a compaction left), churning
 * (removes, slot reuse, compactions) and mixed. A stream switches mix every PHASE_OPS operations.
 */
const PHASES = [
  cumulative([0.6, 0.2, 0.05, 0.02, 0, 0.06, 0.04]),
  cumulative([0.3, 0.05, 0.45, 0.03, 0.005, 0.08, 0.05]),
  cumulative([0.4, 0.1, 0.25, 0.05, 0.005, 0.1, 0.05]),
];
const PHASE_OPS = 40;

function cumulative(weights: number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}
const ID_SPACE = 600;

/** Throws with `what` unless a and b hold the same bytes (no byte-by-byte diff in the output). */
function expectSameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  if (!Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) {
    let at = 0;
    while (at < Math.min(a.length, b.length) && a[at] === b[at]) at++;
    throw new Error(`${what}: snapshots differ (${a.length} and ${b.length} bytes, first at byte ${at})`);
  }
}

/** Largest per-value error `get` may show for `given` (documented in VectorIndex.get). */
function tolerance(q: Quantization, x: number, maxAbs: number): number {
  if (q === 'f32') return 1e-6;
  if (q === 'f16') return Math.max(Math.abs(x) * 2 ** -11, 2 ** -15) * 1.0001; // no subnormals: 2^-14 is the least step
  return (maxAbs / 254) * 1.0001 + 1e-6;
}

/** Checks `got` against `given` (normalized under cosine) within the quantization's tolerance. */
function expectNear(got: Float32Array, given: Float32Array, s: Stream, what: string): void {
  let want = Array.from(given);
  if (s.metric === 'cosine') {
    const norm = Math.sqrt(want.reduce((n, x) => n + x * x, 0));
    want = want.map((x) => x / norm);
  }
  if (s.quantization === 'f32' && s.metric === 'l2') {
    if (!got.every((x, i) => x === given[i])) throw new Error(`${what}: get() is not the vector added`);
    return;
  }
  const maxAbs = Math.max(...want.map(Math.abs));
  want.forEach((x, i) => {
    if (!(Math.abs(got[i] - x) <= tolerance(s.quantization, x, maxAbs))) {
      throw new Error(`${what}: get()[${i}] = ${got[i]}, added ${x} (${s.quantization})`);
    }
  });
}

/** Runs one seeded stream; returns how many saves wrote a log segment (not a checkpoint). */
async function runStream(e: Engine, s: Stream, seed: number): Promise<number> {
  const next = rng(seed * 7919 + s.dim);
  const label = `${s.quantization} ${s.metric} M ${s.M} seed ${seed}`;
  const options = { dim: s.dim, metric: s.metric, M: s.M, efConstruction: 24, seed, quantization: s.quantization };
  const store = new MemoryStore();
  const model = new Map<number, Float32Array>();
  /** id -> what get() returned right after its last add: the stored form, which must not change. */
  const decoded = new Map<number, Float32Array>();
  let main: VectorIndex = e.createIndex(options);
  let twin: VectorIndex | undefined;
  let logSaves = 0;
  /** Whether main was saved to or opened from the store (a loaded index overwrites the save there). */
  let bound = false;
  const vector = (): Float32Array => Float32Array.from({ length: s.dim }, () => next() * 2 - 1);
  const id = (): number => Math.floor(next() * ID_SPACE);

  const both = (f: (index: VectorIndex) => void): void => {
    f(main);
    if (twin) f(twin);
  };
  const added = (at: number, v: Float32Array, op: number): void => {
    model.set(at, v);
    const got = main.get(at)!;
    expectNear(got, v, s, `${label} op ${op} id ${at}`);
    decoded.set(at, got);
  };
  const checkModel = (op: number): void => {
    const where = `${label} op ${op}`;
    const ids = Array.from(main.ids()).sort((a, b) => a - b);
    const want = Array.from(model.keys()).sort((a, b) => a - b);
    if (ids.join() !== want.join()) throw new Error(`${where}: ids() ${ids.join()} but the model holds ${want.join()}`);
    expect(main.size).toBe(model.size);
    for (let at = 0; at < ID_SPACE; at++) {
      if (main.has(at) !== model.has(at)) throw new Error(`${where}: has(${at}) is ${main.has(at)}`);
      const got = main.get(at);
      if (got === undefined) continue;
      const stored = decoded.get(at)!;
      if (!got.every((x, i) => Object.is(x, stored[i]))) throw new Error(`${where}: get(${at}) changed since its add`);
    }
    if (twin) expectSameBytes(twin.serialize(), main.serialize(), `${where}: the twin`);
  };
  /** Saves main (incrementally when its binding allows) and opens the save; checks the bytes. */
  const saveAndOpen = async (op: number): Promise<VectorIndex> => {
    const result = await main.save(store, 'churn', { overwrite: !bound });
    bound = true;
    if (result.kind !== 'checkpoint') logSaves++;
    const opened = await e.openIndex(store, 'churn');
    expectSameBytes(opened.serialize(), main.serialize(), `${label} op ${op}: openIndex after a ${result.kind} save`);
    return opened;
  };

  let t = PHASES[0];
  /** Set after a compaction: the next operation persists (the twin then starts from the compacted state). */
  let persistNext = false;
  for (let op = 0; op < OPS; op++) {
    if (op % PHASE_OPS === 0) t = PHASES[Math.floor(next() * PHASES.length)];
    let r = next();
    if (persistNext) r = t[4] + next() * (1 - t[4]);
    persistNext = false;
    if (r < t[0]) {
      const at = id();
      const v = vector();
      both((index) => index.add(at, v));
      added(at, v, op);
    } else if (r < t[1]) {
      const n = 1 + Math.floor(next() * 16);
      const ids = Array.from({ length: n }, id);
      if (n > 2) ids[n - 1] = ids[0];
      const rows = new Float32Array(n * s.dim);
      for (let j = 0; j < rows.length; j++) rows[j] = next() * 2 - 1;
      both((index) => index.addBatch(ids, rows));
      const last = new Map(ids.map((at, j) => [at, j]));
      for (const [at, j] of last) added(at, rows.slice(j * s.dim, (j + 1) * s.dim), op);
    } else if (r < t[2]) {
      const at = id();
      const present = model.delete(at);
      decoded.delete(at);
      both((index) => expect(index.remove(at)).toBe(present));
    } else if (r < t[3]) {
      both((index) => index.compact());
      persistNext = next() < 0.5;
    } else if (r < t[4]) {
      both((index) => index.clear());
      model.clear();
      decoded.clear();
    } else if (r < t[5]) {
      const opened = await saveAndOpen(op);
      twin?.dispose();
      twin = opened;
    } else if (r < t[6]) {
      const opened = await saveAndOpen(op);
      twin?.dispose();
      twin = main;
      main = opened;
    } else {
      bound = false;
      const bytes = main.serialize();
      const loaded = e.loadIndex(bytes);
      expectSameBytes(loaded.serialize(), bytes, `${label} op ${op}: loadIndex`);
      twin?.dispose();
      twin = main;
      main = loaded;
    }
    if (op % 20 === 19) checkModel(op);
  }
  checkModel(OPS);
  (await saveAndOpen(OPS)).dispose();
  twin?.dispose();
  main.dispose();
  return logSaves;
}

const seeds = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const STREAMS: Stream[] = [
  { quantization: 'f32', metric: 'l2', dim: 13, M: 4, seeds: seeds(1, 7) },
  { quantization: 'f16', metric: 'l2', dim: 13, M: 4, seeds: seeds(11, 7) },
  { quantization: 'i8', metric: 'l2', dim: 13, M: 4, seeds: seeds(21, 7) },
  { quantization: 'f32', metric: 'cosine', dim: 13, M: 6, seeds: seeds(31, 4) },
  { quantization: 'f16', metric: 'cosine', dim: 8, M: 3, seeds: seeds(41, 4) },
  { quantization: 'i8', metric: 'cosine', dim: 16, M: 5, seeds: seeds(51, 4) },
];

describe('index churn against a plain-JS model', () => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(BUILDS[0]);
  });
  afterAll(() => e.dispose());

  test.each(STREAMS.map((s) => [`${s.quantization} ${s.metric} dim ${s.dim} M ${s.M}`, s] as const))(
    '%s: saves reopen byte for byte, twins grow the same graph, ids and vectors match the model',
    async (_name, s) => {
      let logSaves = 0;
      const failed: string[] = [];
      for (const seed of s.seeds) {
        try {
          logSaves += await runStream(e, s, seed);
        } catch (error) {
          failed.push(String(error));
        }
      }
      expect(failed).toEqual([]);
      // The streams must exercise incremental saves (log segments), not checkpoints alone.
      expect(logSaves).toBeGreaterThan(0);
    },
  );
});

describe.each(BUILDS)('compact leaves the slots past the live nodes as new ones (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test.each(['f32', 'f16', 'i8'] as const)(
    '%s: compact, add, and the index and its snapshot grow the same graph',
    async (quantization) => {
      for (const seed of [1, 2, 3, 4]) {
        const next = rng(seed);
        const dim = 13;
        const vector = () => Float32Array.from({ length: dim }, () => next() * 2 - 1);
        const index = e.createIndex({ dim, metric: 'l2', M: 4, efConstruction: 24, seed, quantization });
        for (let i = 0; i < 200; i++) index.add(i, vector());
        for (let i = 0; i < 200; i += 2) index.remove(i);
        index.compact();
        const store = new MemoryStore();
        await index.save(store, 'c');
        const loaded = e.loadIndex(index.serialize());
        const reopened = await e.openIndex(store, 'c');
        // Appended nodes take the slots the compaction left behind.
        for (let i = 0; i < 150; i++) {
          const v = vector();
          for (const x of [index, loaded, reopened]) x.add(1000 + i, v);
        }
        const bytes = index.serialize();
        expectSameBytes(loaded.serialize(), bytes, `${quantization} seed ${seed}: loaded snapshot`);
        expectSameBytes(reopened.serialize(), bytes, `${quantization} seed ${seed}: reopened store`);
        // The saved log of those adds opens to the same index.
        await index.save(store, 'c');
        const again = await e.openIndex(store, 'c');
        expectSameBytes(again.serialize(), bytes, `${quantization} seed ${seed}: reopened after a log save`);
        for (const x of [index, loaded, reopened, again]) x.dispose();
      }
    },
  );
});
