// The peer libraries of the `peers` suite, installed on demand into bench/peers/node_modules
// (never dependencies of elex-wasm) and wrapped in one shape:
//   { name, build(data, metric, { M, efConstruction }) -> { buildMs, memoryBytes, memoryAfter, search(q, ef, i) } }
// A peer that fails to install or load is returned as { name, skipped: reason }.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { K, buildInChunks, queryRows } = require('./ann.js');

const PEERS = join(__dirname, '..', 'peers');
const peerRequire = createRequire(join(PEERS, 'package.json'));

/** Runs `npm install --prefix bench/peers` unless every peer is present; returns an error text or undefined. */
function ensureInstalled() {
  const names = ['hnswlib-node', 'hnswlib-wasm', 'fake-indexeddb'];
  if (names.every((n) => existsSync(join(PEERS, 'node_modules', n, 'package.json')))) return undefined;
  process.stderr.write('peers: npm install --prefix bench/peers (hnswlib-node, hnswlib-wasm)...\n');
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['install', '--prefix', PEERS, '--no-audit', '--no-fund', '--no-package-lock'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (error) {
    return `npm install failed: ${String(error.stderr || error.message).trim().split('\n').slice(-3).join(' ')}`;
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
      const buildMs = buildInChunks(`peers ${name} ${metric}`, count, (from, to) => {
        for (let i = from; i < to; i++) index.addPoint(toPoint(data.base.subarray(i * data.dim, (i + 1) * data.dim)), i, false);
      }, { progress });
      const points = queryRows(data).map(toPoint);
      let ef = -1;
      return {
        buildMs,
        memoryBytes: memory() - before,
        memoryAfter: memory(),
        search(q, efSearch, i) {
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
    console.log = () => {};   // it logs its file-system set-up
    const { loadHnswlib } = await import(pathToFileURL(join(PEERS, 'node_modules', 'hnswlib-wasm', 'dist', 'hnswlib.js')).href);
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

/** Installs if needed and loads each peer: adapters, or { name, skipped } with the reason. */
async function loadPeers() {
  const installError = ensureInstalled();
  const out = [];
  for (const [name, load] of [['hnswlib-wasm', loadHnswlibWasm], ['hnswlib-node', loadHnswlibNode]]) {
    if (installError) {
      out.push({ name, skipped: installError });
      continue;
    }
    try {
      out.push(await load());
    } catch (error) {
      out.push({ name, skipped: `failed to load: ${error && error.message ? error.message : error}` });
    }
  }
  return out;
}

module.exports = { loadPeers };
