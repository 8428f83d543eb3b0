// Suite `memory-store`: ElexStore (elex-wasm/langgraph) against LangGraph's InMemoryStore
// (@langchain/langgraph-checkpoint) as an agent's memory: one store of 50K items (GloVe-100
// vectors as their "embeddings", through a table lookup so no model runs), 10K of them in one
// user's namespace ['user-0', 'memories'] and the rest over 40 other users. Each query searches
// ['user-0'] for the 10 nearest memories, through store.search (the whole BaseStore path: the
// query's embedding lookup, the batch, the items handed back). Recall@10 is against
// InMemoryStore's answers (an exact scan of that user's items); QPS are medians of interleaved
// passes of both stores, side by side in one process.
'use strict';
const { Engine } = require('elex-wasm');
const { loadDataset } = require('../lib/dataset.js');
const { requireOptional } = require('../lib/optional.js');
const { silent } = require('../lib/progress.js');
const { table, median } = require('../lib/stats.js');

const K = 10;
const USERS = 41;
const EF_CONSTRUCTION = 100;
const MIN_MS = 200;

/** Embeddings that look texts up: 'm<i>' is base row i, 'q<j>' query row j. */
function tableEmbeddings(data) {
  const row = (array, i) => Array.from(array.subarray(i * data.dim, (i + 1) * data.dim));
  const vector = (text) =>
    text[0] === 'q' ? row(data.queries, Number(text.slice(1))) : row(data.base, Number(text.slice(1)));
  return {
    model: `${data.name}-table`,
    async embedDocuments(texts) {
      return texts.map(vector);
    },
    async embedQuery(text) {
      return vector(text);
    },
  };
}

/** Milliseconds a call of `body(q)` takes over the nq queries in turn, repeated for at least MIN_MS. */
async function timePerQuery(nq, body) {
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let q = 0; q < nq; q++) await body(q);
    calls += nq;
    elapsed = performance.now() - t0;
  } while (elapsed < MIN_MS);
  return elapsed / calls;
}

/** Runs the suite: { suite, params, results, table, notes }. */
async function run({ quick = false, data: dataPath, progress = silent } = {}) {
  const { InMemoryStore } = requireOptional('@langchain/langgraph-checkpoint', 'the memory-store suite');
  const { ElexStore } = require('elex-wasm/langgraph');
  progress.step('loading the dataset');
  const data = loadDataset('cosine', dataPath ?? 'glove');
  const total = Math.min(50000, data.base.length / data.dim);
  const own = Math.round(total / 5);
  const nq = Math.min(quick ? 50 : 100, data.queries.length / data.dim);
  const passes = quick ? 3 : 5;
  const efs = quick ? [64] : [32, 64, 128];
  const embeddings = tableEmbeddings(data);
  const index = { dims: data.dim, embeddings, fields: ['text'] };
  const engine = await Engine.create({ budgetBytes: 1500 << 20 });
  const elex = new ElexStore({ index, engine, hnsw: { efConstruction: EF_CONSTRUCTION, seed: 1 } });
  const memory = new InMemoryStore({ index });
  // Item i: user 0 for the first `own` rows, then users 1..40 in turn.
  const namespaceOf = (i) => [`user-${i < own ? 0 : 1 + (i % (USERS - 1))}`, 'memories'];
  progress.step(`putting ${total} items in both stores`);
  const t0 = performance.now();
  for (let from = 0; from < total; from += 1000) {
    const ops = [];
    for (let i = from; i < Math.min(total, from + 1000); i++)
      ops.push({
        namespace: namespaceOf(i),
        key: `m${i}`,
        value: { text: `m${i}`, n: i, parity: i % 2 ? 'odd' : 'even' },
      });
    await elex.batch(ops);
    await memory.batch(ops);
    progress.step(`putting items: ${Math.min(total, from + 1000)} / ${total}`);
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  const search = (store, q, ef, filter) => {
    if (ef !== undefined) elex.index.efSearch = ef;
    return store.search(['user-0'], { query: `q${q}`, limit: K, ...(filter ? { filter } : {}) });
  };
  progress.step('the exact answers (InMemoryStore)');
  const truth = [];
  for (let q = 0; q < nq; q++) truth.push(new Set((await search(memory, q)).map((item) => item.key)));
  const rows = [];
  const results = [];
  for (const ef of efs) {
    progress.step(`ef ${ef}`);
    let hits = 0;
    for (let q = 0; q < nq; q++) for (const item of await search(elex, q, ef)) if (truth[q].has(item.key)) hits++;
    const elexMs = [];
    const memoryMs = [];
    for (let p = 0; p < passes; p++) {
      memoryMs.push(await timePerQuery(nq, (q) => search(memory, q)));
      elexMs.push(await timePerQuery(nq, (q) => search(elex, q, ef)));
    }
    const result = {
      ef,
      recall: hits / (nq * K),
      elexQps: 1000 / median(elexMs),
      memoryQps: 1000 / median(memoryMs),
    };
    result.ratio = result.elexQps / result.memoryQps;
    results.push(result);
    rows.push([
      ef,
      result.recall.toFixed(3),
      result.elexQps.toFixed(0),
      result.memoryQps.toFixed(1),
      `${result.ratio.toFixed(1)}x`,
    ]);
  }
  // With a filter: half of the user's items (parity 'even'), evaluated on the items first.
  const filter = { parity: 'even' };
  progress.step('ef 64 with a filter');
  elex.index.efSearch = 64;
  const filteredTruth = [];
  for (let q = 0; q < nq; q++)
    filteredTruth.push(new Set((await search(memory, q, undefined, filter)).map((item) => item.key)));
  let filteredHits = 0;
  for (let q = 0; q < nq; q++)
    for (const item of await search(elex, q, undefined, filter)) if (filteredTruth[q].has(item.key)) filteredHits++;
  const filteredElexMs = [];
  const filteredMemoryMs = [];
  for (let p = 0; p < passes; p++) {
    filteredMemoryMs.push(await timePerQuery(nq, (q) => search(memory, q, undefined, filter)));
    filteredElexMs.push(await timePerQuery(nq, (q) => search(elex, q, undefined, filter)));
  }
  const filtered = {
    ef: 64,
    filter,
    recall: filteredHits / (nq * K),
    elexQps: 1000 / median(filteredElexMs),
    memoryQps: 1000 / median(filteredMemoryMs),
  };
  filtered.ratio = filtered.elexQps / filtered.memoryQps;
  results.push(filtered);
  rows.push([
    `64, filter { parity: 'even' }`,
    filtered.recall.toFixed(3),
    filtered.elexQps.toFixed(0),
    filtered.memoryQps.toFixed(1),
    `${filtered.ratio.toFixed(1)}x`,
  ]);
  const itemBytes = elex.itemBytes;
  const usedBytes = engine.usedBytes;
  elex.dispose();
  engine.dispose();
  const text = [
    `${data.name} vectors as embeddings, ${total} items (${own} in ['user-0', 'memories'], the rest over ${USERS - 1} other users), k ${K}, ${nq} queries searching ['user-0']; ElexStore: M 16, efConstruction ${EF_CONSTRUCTION}; both stores filled in ${buildSeconds.toFixed(1)} s.`,
    `ElexStore memory: ${(usedBytes / 2 ** 20).toFixed(1)} MiB in the engine (the index), ${(itemBytes / 2 ** 20).toFixed(1)} MiB of items in the host.\n`,
    table(['ef', 'recall@10', 'QPS ElexStore', 'QPS InMemoryStore', 'ElexStore / InMemoryStore'], rows),
    `\nQPS: medians of ${passes} interleaved passes (each at least ${MIN_MS} ms) of store.search(['user-0'], { query, limit: ${K} }) (the last row with the filter: half of the user's items pass). Recall@10 against InMemoryStore's exact answers.`,
  ].join('\n');
  return {
    suite: 'memory-store',
    params: {
      total,
      own,
      users: USERS,
      queries: nq,
      passes,
      efConstruction: EF_CONSTRUCTION,
      dataset: data.name,
      quick,
    },
    results,
    table: text,
    notes: [],
  };
}

module.exports = { run, requires: ['@langchain/langgraph-checkpoint'], truth: ['cosine'] };
