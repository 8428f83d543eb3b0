// Suite `persist`: index stores (index.save / engine.openIndex) on real data. Per store
// (FileStore in a temp dir, MemoryStore) and size (SIFT-128 10K or --data, l2; the full run adds
// GloVe-100 100K, cosine, data/glove100): a full save (checkpoint), a save after 1%
// of the vectors changed (a log segment), opening the checkpoint alone and with a log of 10% of
// the vectors, and loadIndex(bytes); time and bytes written, and the engine's peak usedBytes
// during each, above what it held before (saving should cost only scratch, opening the index
// itself). Medians of several runs, each on a fresh copy of one built index (M 16, efConstruction 200).
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Engine, FileStore, MemoryStore } = require('elex-wasm');
const { buildInChunks } = require('../lib/ann.js');
const { loadDataset } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { median, table } = require('../lib/stats.js');

const KIB = 1024;

/** A byte store counting the bytes written through it. */
function counting(inner) {
  const store = { bytes: 0, read: (k) => inner.read(k), delete: (k) => inner.delete(k), keys: () => inner.keys() };
  store.write = (k, b) => {
    store.bytes += b.length;
    return inner.write(k, b);
  };
  return store;
}

/**
 * Applies `count` changes drawn from the rows of `data`: half new ids, 30% replacements of
 * existing ids, 20% removes. `from` makes each call's changes different.
 */
function change(index, data, count, from) {
  const n = data.count;
  const row = (i) => data.base.subarray((i % n) * data.dim, ((i % n) + 1) * data.dim);
  for (let i = 0; i < count; i++) {
    const r = i % 10;
    const at = from + i;
    if (r < 5) index.add(n + at, row(at * 7919));
    else if (r < 8) index.add((at * 7) % n, row(at * 104729 + 3));
    else index.remove((at * 13) % n);
  }
}

/** Runs body; returns its result, ms, and how far the engine's peak usedBytes rose above usedBytes before. */
async function measure(engine, body) {
  engine.resetPeakUsedBytes();
  const before = engine.usedBytes;
  const t = process.hrtime.bigint();
  const result = await body();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { result, ms, peak: engine.peakUsedBytes - before };
}

/** One run on a fresh copy of `snapshot` in `store`; pushes each measurement into m. */
async function runOnce(engine, snapshot, data, store, m, run) {
  const changes = Math.round(data.count / 100);
  const ix = engine.loadIndex(snapshot);
  const full = await measure(engine, () => ix.save(store, 'bench'));
  m.full.push(full.ms);
  m.fullPeak.push(full.peak);
  m.fullBytes = store.bytes;
  change(ix, data, changes, run * changes);
  store.bytes = 0;
  const inc = await measure(engine, () => ix.save(store, 'bench'));
  if (inc.result.kind !== 'log') throw new Error(`expected a log segment after 1% changed, got ${inc.result.kind}`);
  m.inc.push(inc.ms);
  m.incPeak.push(inc.peak);
  m.incBytes = store.bytes;
  // A fresh checkpoint, opened alone, then with a log of 10% of the vectors on top of it.
  await ix.save(store, 'bench', { logShare: 0 });
  const plain = await measure(engine, () => engine.openIndex(store, 'bench'));
  m.open.push(plain.ms);
  m.openPeak.push(plain.peak);
  plain.result.dispose();
  change(ix, data, changes * 10, (run + 10) * changes * 10);
  store.bytes = 0;
  if ((await ix.save(store, 'bench')).kind !== 'log') throw new Error('expected a log segment of 10% of the vectors');
  m.logBytes = store.bytes;
  const logged = await measure(engine, () => engine.openIndex(store, 'bench'));
  m.open10.push(logged.ms);
  m.open10Peak.push(logged.peak);
  logged.result.dispose();
  const bytes = ix.serialize();
  const load = await measure(engine, () => engine.loadIndex(bytes));
  m.load.push(load.ms);
  m.loadPeak.push(load.peak);
  load.result.dispose();
  ix.dispose();
}

/** Builds `data` once and measures `runs` runs per store kind. */
async function measureSize(data, runs, progress) {
  const engine = await Engine.create({ budgetBytes: 1024 << 20 });
  const index = engine.createIndex({ dim: data.dim, metric: data.metric, M: 16, efConstruction: 200, seed: 1 });
  const ids = Uint32Array.from({ length: data.count }, (_, i) => i);
  const before = engine.usedBytes;
  progress.step(`${data.name}: building ${data.count} vectors`);
  buildInChunks(
    `persist ${data.name}`,
    data.count,
    (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)),
    { progress },
  );
  const indexBytes = engine.usedBytes - before;
  const snapshot = index.serialize();
  index.dispose();
  const rows = [];
  for (const kind of ['FileStore', 'MemoryStore']) {
    const m = {
      full: [],
      fullPeak: [],
      inc: [],
      incPeak: [],
      open: [],
      openPeak: [],
      open10: [],
      open10Peak: [],
      load: [],
      loadPeak: [],
    };
    for (let run = 0; run < runs; run++) {
      progress.step(`${data.name}: ${kind}, run ${run + 1}/${runs}`);
      const dir = mkdtempSync(join(tmpdir(), 'elex-persist-bench-'));
      try {
        await runOnce(
          engine,
          snapshot,
          data,
          counting(kind === 'FileStore' ? new FileStore(dir) : new MemoryStore()),
          m,
          run,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    rows.push({ kind, m });
  }
  engine.dispose();
  return {
    name: data.name,
    metric: data.metric,
    count: data.count,
    indexBytes,
    checkpointBytes: snapshot.length,
    rows,
  };
}

/** A loaded dataset as this suite uses it. */
function asSet(data, metric) {
  return { name: data.name, metric, dim: data.dim, count: data.base.length / data.dim, base: data.base };
}

async function run({ quick = false, data: dataPath, progress = silent } = {}) {
  const sets = [{ data: asSet(loadDataset('l2', dataPath), 'l2'), runs: quick ? 3 : 5 }];
  const notes = [];
  if (quick) notes.push('Quick: one data set only (the full run adds GloVe-100 100K, cosine).');
  else sets.push({ data: asSet(loadDataset('cosine', 'glove'), 'cosine'), runs: 3 });
  const sizes = [];
  for (const { data, runs } of sets) sizes.push({ ...(await measureSize(data, runs, progress)), runs });
  const ms = (xs) => `${median(xs).toFixed(1)} ms`;
  const kib = (n) => `${(n / KIB).toFixed(0)} KiB`;
  const lines = [];
  for (const s of sizes) {
    const rows = s.rows.map(({ kind, m }) => [
      kind,
      ms(m.full),
      kib(m.fullBytes),
      ms(m.inc),
      `${kib(m.incBytes)} (${((100 * m.incBytes) / m.fullBytes).toFixed(2)}%)`,
      ms(m.open),
      `${ms(m.open10)} (${(median(m.open10) / median(m.open)).toFixed(2)}x)`,
      kib(m.logBytes),
      ms(m.load),
      `${kib(Math.max(median(m.fullPeak), median(m.incPeak)))}`,
      `${(median(m.openPeak) / s.indexBytes).toFixed(3)}x / ${(median(m.open10Peak) / s.indexBytes).toFixed(3)}x / ${(median(m.loadPeak) / s.indexBytes).toFixed(3)}x`,
    ]);
    lines.push(
      `${s.name} (${s.metric}), ${s.count} vectors, M 16, efConstruction 200: the index holds ${kib(s.indexBytes)} of engine memory, its checkpoint is ${kib(s.checkpointBytes)}; medians of ${s.runs} runs.\n`,
      table(
        [
          'store',
          'full save',
          'bytes',
          'save after 1% changed',
          'bytes (of full)',
          'open checkpoint',
          'open + 10% log (vs checkpoint)',
          '10% log bytes',
          'loadIndex(bytes)',
          'peak above before, saves',
          'peak / index bytes: open, open + log, loadIndex',
        ],
        rows,
      ),
      '',
    );
  }
  lines.push(
    "Peak: the engine's peakUsedBytes during the call minus usedBytes before it. Saves copy out of linear memory (no engine memory but scratch); opens and loads allocate the index's final blocks and copy into them, so their peak is the index itself (about 1.0x) plus scratch.",
  );
  return {
    suite: 'persist',
    params: { quick, sizes: sizes.map((s) => ({ name: s.name, count: s.count, runs: s.runs })) },
    results: sizes,
    table: lines.join('\n'),
    notes,
  };
}

/** The ground truth the suite reads whatever --metric says (bench/cli.js checks it first). */
const truth = ['l2'];

module.exports = { run, truth };
