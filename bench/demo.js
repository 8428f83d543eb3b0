// npm start: builds an HNSW index over the bundled data with each build (SIMD and scalar),
// runs every query one at a time, and prints build time, recall@10, latency and memory.
'use strict';
const { Engine, simdSupported } = require('../dist/cjs/index.js');
const { loadDataset } = require('./lib/dataset.js');
const { percentile, table, recallAt } = require('./lib/stats.js');

/** Builds one index and measures it; returns a table row. */
async function measure(data, metric, simd, ef) {
  const engine = await Engine.create({ simd });
  const index = engine.createIndex({ dim: data.dim, metric, seed: 1 });
  const count = data.base.length / data.dim;
  const t0 = performance.now();
  index.addBatch(Uint32Array.from({ length: count }, (_, i) => i), data.base);
  const buildMs = performance.now() - t0;
  const queries = data.queries.length / data.dim;
  const ids = new Uint32Array(queries * 10);
  const lat = new Float64Array(queries);
  for (let warm = 0; warm < 2; warm++) {
    for (let q = 0; q < queries; q++) {
      const query = data.queries.subarray(q * data.dim, (q + 1) * data.dim);
      const t = performance.now();
      const res = index.search(query, 10, { ef });
      lat[q] = performance.now() - t;
      ids.set(res.ids, q * 10);
    }
  }
  const row = [
    engine.simd ? 'SIMD' : 'scalar', metric, ef, buildMs.toFixed(0),
    recallAt(ids, data.truth, queries, 10, data.k).toFixed(4),
    (percentile(lat, 50) * 1000).toFixed(1), (percentile(lat, 95) * 1000).toFixed(1),
    Math.round(engine.usedBytes / index.size),
  ];
  engine.dispose();
  return row;
}

async function main() {
  const builds = simdSupported() ? ['on', 'off'] : ['off'];
  const rows = [];
  let name = '';
  for (const metric of ['cosine', 'l2']) {
    const data = loadDataset(metric);
    name = data.name;
    for (const simd of builds) {
      for (const ef of [32, 64]) rows.push(await measure(data, metric, simd, ef));
    }
  }
  console.log(`\nelex-wasm on ${name}: 10 nearest neighbours, one query at a time, M=16 efConstruction=200\n`);
  console.log(table(['build', 'metric', 'ef', 'build ms', 'recall@10', 'P50 us', 'P95 us', 'bytes/vector'], rows));
  console.log('\nbytes/vector = engine.usedBytes / index.size (vectors, graph links, id map, scratch).');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
