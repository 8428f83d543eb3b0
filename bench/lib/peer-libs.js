// The peer libraries of the `peers` suite (hnswlib-node, usearch, hnswlib-wasm), installed on
// demand into bench/peers/node_modules (never dependencies of elex-wasm; the `filter` suite's
// PGlite too, through ensureInstalled) and wrapped in one shape:
//   { name, build(data, metric, { M, efConstruction }) -> { buildMs, memoryBytes, memoryAfter, search(q, ef, i), dispose? } }
// A peer that fails to install or load is returned as { name, skipped: reason }.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { createRequire } = require('node:module');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { K, buildInChunks, queryRows } = require('./ann.js');

const PEERS = join(__dirname, '..', 'peers');
const peerRequire = createRequire(join(PEERS, 'package.json'));

/**
 * Runs `npm install --prefix bench/peers` unless every package of `names` (default: the peers
 * suite's) is present; returns an error text or undefined.
 */
function ensureInstalled(names = [...PEER_NAMES, 'fake-indexeddb']) {
  if (names.every((n) => existsSync(join(PEERS, 'node_modules', n, 'package.json')))) return undefined;
  process.stderr.write(`peers: npm install --prefix bench/peers (${names.join(', ')})...\n`);
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['install', '--prefix', PEERS, '--no-audit', '--no-fund', '--no-package-lock'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return undefined;
  } catch (error) {
    return `npm install failed: ${String(error.stderr || error.message)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ')}`;
  }
}

/** hnswlib's space for an elex metric ('cosine' normalises like elex; 'l2' is squared L2 in both). */
const space = (metric) => (metric === 'l2' ? 'l2' : 'cosine');

/** Wraps an hnswlib-style HierarchicalNSW class (`make(metric, dim)` -> an index). */
function hnswlibAdapter(name, make, { toPoint, init, setEf, memory }) {
  return {
    name,
    build(data, metric, { M, efConstruction, progress }) {
      const count = data.base.length / data.dim;
      const index = make(space(metric), data.dim);
      const before = memory();
      init(index, count, M, efConstruction);
      const buildMs = buildInChunks(
        `peers ${name} ${metric}`,
        count,
        (from, to) => {
          for (let i = from; i < to; i++)
            index.addPoint(toPoint(data.base.subarray(i * data.dim, (i + 1) * data.dim)), i, false);
        },
        { progress },
      );
      const points = queryRows(data).map(toPoint);
      let ef = -1;
      return {
        buildMs,
        memoryBytes: memory() - before,
        memoryAfter: memory(),
        search(_q, efSearch, i) {
          if (efSearch !== ef) setEf(index, (ef = efSearch));
          return index.searchKnn(points[i], K, undefined).neighbors;
        },
      };
    },
  };
}

/** hnswlib-node (native addon over hnswlib C++); takes plain arrays. Memory: RSS growth (rough). */
function loadHnswlibNode() {
  const { HierarchicalNSW } = peerRequire('hnswlib-node');
  return hnswlibAdapter('hnswlib-node', (s, dim) => new HierarchicalNSW(s, dim), {
    toPoint: (row) => Array.from(row),
    init: (index, n, M, efC) => index.initIndex(n, M, efC, 100),
    setEf: (index, ef) => index.setEf(ef),
    memory: () => process.memoryUsage().rss,
  });
}

/**
 * hnswlib-wasm (hnswlib C++ compiled by Emscripten for browsers). In Node it needs `window`
 * defined while it loads and an IndexedDB for its file system (fake-indexeddb).
 * Memory: growth of its WebAssembly heap.
 */
async function loadHnswlibWasm() {
  await import(pathToFileURL(peerRequire.resolve('fake-indexeddb/auto')).href);
  const hadWindow = 'window' in globalThis;
  if (!hadWindow) globalThis.window = globalThis;
  let lib;
  const log = console.log;
  try {
    console.log = () => {}; // it logs its file-system set-up
    const { loadHnswlib } = await import(
      pathToFileURL(join(PEERS, 'node_modules', 'hnswlib-wasm', 'dist', 'hnswlib.js')).href
    );
    lib = await loadHnswlib();
  } finally {
    console.log = log;
    if (!hadWindow) delete globalThis.window;
  }
  return hnswlibAdapter('hnswlib-wasm', (s, dim) => new lib.HierarchicalNSW(s, dim, ''), {
    toPoint: (row) => Float32Array.from(row),
    init: (index, n, M, efC) => index.initIndex(n, M, efC, 100),
    setEf: (index, ef) => index.setEfSearch(ef),
    memory: () => lib.HEAPU8.byteLength,
  });
}

/**
 * usearch (Unum's HNSW in C++, a native addon with prebuilt binaries); f32 vectors, no
 * quantisation, single thread for adds and searches. Its Node binding fixes the search ef
 * (`expansion_search`) when an index is made, so after the build the index is saved to a temp
 * file and loaded once per ef into an index made with that ef (untimed, on first use; a loaded
 * index holds the same graph). Memory: RSS growth of the build (rough).
 */
function loadUsearch() {
  const { Index } = peerRequire('usearch');
  return {
    name: 'usearch',
    build(data, metric, { M, efConstruction, progress }) {
      const count = data.base.length / data.dim;
      const make = (ef) =>
        new Index({
          dimensions: data.dim,
          metric: metric === 'l2' ? 'l2sq' : 'cos',
          quantization: 'f32',
          connectivity: M,
          expansion_add: efConstruction,
          expansion_search: ef,
          multi: false,
        });
      const before = process.memoryUsage().rss;
      const built = make(64);
      const keys = BigUint64Array.from({ length: count }, (_, i) => BigInt(i));
      const buildMs = buildInChunks(
        `peers usearch ${metric}`,
        count,
        (from, to) => built.add(keys.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim), 1),
        { progress },
      );
      const memoryBytes = process.memoryUsage().rss - before;
      const dir = mkdtempSync(join(tmpdir(), 'elex-bench-usearch-'));
      const file = join(dir, 'index.usearch');
      built.save(file);
      const byEf = new Map();
      const ids = new Uint32Array(K);
      const points = queryRows(data);
      return {
        buildMs,
        memoryBytes,
        memoryAfter: process.memoryUsage().rss,
        search(_q, ef, i) {
          let index = byEf.get(ef);
          if (!index) {
            index = make(ef);
            index.load(file);
            byEf.set(ef, index);
          }
          const { keys: found } = index.search(points[i], K, 1);
          for (let j = 0; j < K; j++) ids[j] = j < found.length ? Number(found[j]) : 0xffffffff;
          return ids;
        },
        dispose: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

/** The peers, in the order they run (hnswlib-node, the baseline of the ratios, first). */
const PEER_NAMES = ['hnswlib-node', 'usearch', 'hnswlib-wasm'];
const LOADERS = { 'hnswlib-node': loadHnswlibNode, usearch: loadUsearch, 'hnswlib-wasm': loadHnswlibWasm };

/** Installs if needed and loads each peer: adapters, or { name, skipped } with the reason. */
async function loadPeers() {
  const installError = ensureInstalled();
  const out = [];
  for (const [name, load] of PEER_NAMES.map((n) => [n, LOADERS[n]])) {
    if (installError) {
      out.push({ name, skipped: installError });
      continue;
    }
    try {
      out.push(await load());
    } catch (error) {
      out.push({ name, skipped: `failed to load: ${error?.message ? error.message : error}` });
    }
  }
  return out;
}

/** One peer's module (installing the peers if needed), or { skipped } with the reason. */
function requirePeer(name) {
  const installError = ensureInstalled([name]);
  if (installError) return { skipped: installError };
  try {
    return { module: peerRequire(name) };
  } catch (error) {
    return { skipped: `failed to load: ${error?.message ? error.message : error}` };
  }
}

module.exports = { PEER_NAMES, loadPeers, ensureInstalled, requirePeer };
