#!/usr/bin/env node
// Index stores on SIFT-128 10K (data/sift128): time and bytes of a full save (checkpoint), of a
// save after 1% of the vectors changed (log segment), of opening a checkpoint, and of opening a
// checkpoint with a log of 2% and of 10% of the vectors; FileStore (in a temp dir) and MemoryStore.
// Medians of `runs` (default 5). Usage: node bench/persist.js [runs]. Needs `npm run build`.
'use strict';
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Engine, FileStore, MemoryStore, parseFvecs } = require('elex-wasm');
const { readFileSync } = require('node:fs');

const DIM = 128;
const runs = Number(process.argv[2] ?? 5);
const sift = (file) => parseFvecs(readFileSync(join(__dirname, '..', 'data', 'sift128', file)));
const base = sift('sift128_base.fvecs');
const queries = sift('sift128_query.fvecs');
const q = (i) => queries.data.subarray(i * DIM, (i + 1) * DIM);

/** A store counting the bytes written through it. */
function counting(inner) {
  const store = { bytes: 0, read: (k) => inner.read(k), delete: (k) => inner.delete(k), keys: () => inner.keys() };
  store.write = (k, b) => { store.bytes += b.length; return inner.write(k, b); };
  return store;
}

/** Applies `count` changes: half new ids (query vectors), 30% replacements, 20% removes. */
function change(index, count, from) {
  for (let i = 0; i < count; i++) {
    const r = i % 10;
    if (r < 5) index.add(20000 + from + i, q((from + i) % 1000));
    else if (r < 8) index.add((from + i * 7) % 10000, q((from + i + 500) % 1000));
    else index.remove((from + i * 13) % 10000);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(body) {
  const t = process.hrtime.bigint();
  const result = await body();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

async function main() {
  const engine = await Engine.create();
  const index = engine.createIndex({ dim: DIM, metric: 'l2' });
  index.addBatch(Array.from({ length: 10000 }, (_, i) => i), base.data);
  const snapshot = index.serialize();
  const rows = [];
  for (const kind of ['FileStore', 'MemoryStore']) {
    const m = { full: [], fullBytes: 0, inc: [], incBytes: 0, open: [], open2: [], open10: [], load: [], logBytes: 0 };
    for (let run = 0; run < runs; run++) {
      const dir = mkdtempSync(join(tmpdir(), 'elex-persist-bench-'));
      const store = counting(kind === 'FileStore' ? new FileStore(dir) : new MemoryStore());
      const ix = engine.loadIndex(snapshot);
      m.full.push((await time(() => ix.save(store, 'sift'))).ms);
      m.fullBytes = store.bytes;
      change(ix, 100, run * 100);
      store.bytes = 0;
      m.inc.push((await time(() => ix.save(store, 'sift'))).ms);
      m.incBytes = store.bytes;
      // A fresh checkpoint, then logs of 2% and 10% of the vectors on top of it.
      await ix.save(store, 'sift', { logShare: 0 });
      const plain = await time(() => engine.openIndex(store, 'sift'));
      m.open.push(plain.ms);
      plain.result.dispose();
      store.bytes = 0;
      let from = 5000 + run * 1000;
      for (const [changes, into] of [[200, m.open2], [800, m.open10]]) {
        change(ix, changes, from);
        from += changes;
        const logged = await ix.save(store, 'sift');
        if (logged.kind !== 'log') throw new Error(`expected a log segment, got ${logged.kind}`);
        const withLog = await time(() => engine.openIndex(store, 'sift'));
        into.push(withLog.ms);
        withLog.result.dispose();
      }
      m.logBytes = store.bytes;
      const bytes = ix.serialize();
      m.load.push((await time(() => engine.loadIndex(bytes))).ms);
      ix.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
    rows.push([kind, m]);
  }
  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`SIFT-128 10K, M 16, efConstruction 200, ${engine.simd ? 'SIMD' : 'scalar'} build; medians of ${runs} runs; checkpoint ${kb(snapshot.length)}`);
  console.log('| store | full save | bytes | save after 1% changed | bytes | open (checkpoint) | open (+ 2% log) | open (+ 10% log) | 10% log bytes | loadIndex(bytes) |');
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const [kind, m] of rows) {
    console.log(`| ${kind} | ${median(m.full).toFixed(1)} ms | ${kb(m.fullBytes)} | ${median(m.inc).toFixed(1)} ms | ${kb(m.incBytes)} | ` +
      `${median(m.open).toFixed(1)} ms | ${median(m.open2).toFixed(1)} ms | ${median(m.open10).toFixed(1)} ms | ${kb(m.logBytes)} | ${median(m.load).toFixed(1)} ms |`);
  }
  engine.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
