// The other side of the `filter` suite: stores that filter by metadata the way their users do.
//   LangChain's MemoryVectorStore (an exact scan, the filter a function of each Document)
//   PGlite with pgvector (Postgres in WebAssembly, an HNSW index with hnsw.iterative_scan)
// Each returns { name, search(q, where) -> Promise<ids>, plan?(q, where) } over the rows of a
// filter level: ids are row positions, `where` a filter of bench/lib/filter-where.js.
// A store that cannot be loaded is { name, skipped: reason }.
'use strict';
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { K } = require('./ann.js');
const { allows, sqlOf } = require('./filter-where.js');
const { ensureInstalled } = require('./peer-libs.js');

/** The reason a module could not be loaded, in one line. */
const reason = (error) => `failed to load: ${String(error?.message ?? error).split('\n')[0]}`;

/**
 * LangChain's MemoryVectorStore over `level` (its rows' vectors and metadata { id, rank, lex, u }),
 * cosine (its own similarity), filtered by a function of each Document's metadata.
 */
async function langchainStore(level) {
  const name = 'LangChain MemoryVectorStore';
  let MemoryVectorStore;
  let Document;
  try {
    const from = createRequire(join(__dirname, '..', '..', 'package.json'));
    ({ MemoryVectorStore } = from('@langchain/classic/vectorstores/memory'));
    ({ Document } = from('@langchain/core/documents'));
  } catch (error) {
    return { name, skipped: reason(error) };
  }
  const unused = () => Promise.reject(new Error('the benchmark hands vectors over'));
  const store = new MemoryVectorStore({ embedDocuments: unused, embedQuery: unused });
  const { dim, base, meta } = level;
  const vectors = [];
  const docs = [];
  for (let i = 0; i < level.count; i++) {
    vectors.push(Array.from(base.subarray(i * dim, (i + 1) * dim)));
    docs.push(
      new Document({ pageContent: '', metadata: { id: i, rank: meta.rank[i], lex: meta.lex[i], u: meta.u[i] } }),
    );
  }
  await store.addVectors(vectors, docs);
  const queries = level.queryRows.map((row) => Array.from(row));
  return {
    name,
    async search(q, where) {
      const found = await store.similaritySearchVectorWithScore(queries[q], K, (doc) =>
        allows(where, doc.metadata.rank, doc.metadata.lex, doc.metadata.u),
      );
      return found.map(([doc]) => doc.metadata.id);
    },
  };
}

/** pgvector's text form of a vector. */
const vectorText = (row) => `[${Array.from(row).join(',')}]`;

/**
 * PGlite (in memory) with pgvector over `level`: a table of (id, rank, lex, u, embedding), an
 * HNSW index (vector_cosine_ops, m, ef_construction), ANALYZEd; searches run with
 * hnsw.ef_search = ef and hnsw.iterative_scan = relaxed_order. Postgres's planner picks the
 * index or a sequential scan; plan() says which (EXPLAIN). Installs the packages into
 * bench/peers on first use.
 */
async function pgliteStore(level, { M, efConstruction, ef, progress }) {
  const name = 'PGlite + pgvector';
  const packages = ['@electric-sql/pglite', '@electric-sql/pglite-pgvector'];
  const installError = ensureInstalled(packages);
  if (installError) return { name, skipped: installError };
  let db;
  try {
    const peers = join(__dirname, '..', 'peers', 'node_modules');
    const { PGlite } = await import(pathToFileURL(join(peers, packages[0], 'dist', 'index.js')).href);
    const { vector } = await import(pathToFileURL(join(peers, packages[1], 'dist', 'index.js')).href);
    db = await PGlite.create({ extensions: { vector } });
  } catch (error) {
    return { name, skipped: reason(error) };
  }
  const { dim, base, meta } = level;
  await db.exec(
    `CREATE EXTENSION vector; CREATE TABLE items (id int PRIMARY KEY, rank int, lex smallint, u double precision, embedding vector(${dim}))`,
  );
  for (let from = 0; from < level.count; from += 500) {
    const values = [];
    for (let i = from; i < Math.min(level.count, from + 500); i++)
      values.push(
        `(${i}, ${meta.rank[i]}, ${meta.lex[i]}, ${meta.u[i]}, '${vectorText(base.subarray(i * dim, (i + 1) * dim))}')`,
      );
    await db.exec(`INSERT INTO items VALUES ${values.join(',')}`);
  }
  progress.step(`PGlite: HNSW index over ${level.count} rows`);
  const t0 = performance.now();
  await db.exec(
    `CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops) WITH (m = ${M}, ef_construction = ${efConstruction}); ANALYZE items`,
  );
  const buildMs = performance.now() - t0;
  await db.exec(`SET hnsw.ef_search = ${ef}; SET hnsw.iterative_scan = relaxed_order`);
  const queries = level.queryRows.map(vectorText);
  const statement = (where) => {
    const [clause, params] = sqlOf(where, 2);
    return [`SELECT id FROM items WHERE ${clause} ORDER BY embedding <=> $1 LIMIT ${K}`, params];
  };
  return {
    name,
    buildMs,
    async search(q, where) {
      const [sql, params] = statement(where);
      return (await db.query(sql, [queries[q], ...params])).rows.map((r) => r.id);
    },
    /** 'hnsw' when Postgres's plan scans the HNSW index, else 'seq scan'. */
    async plan(q, where) {
      const [sql, params] = statement(where);
      const lines = (await db.query(`EXPLAIN ${sql}`, [queries[q], ...params])).rows.map((r) => Object.values(r)[0]);
      return lines.some((line) => /Index Scan using \S*embedding/.test(line)) ? 'hnsw' : 'seq scan';
    },
    close: () => db.close(),
  };
}

module.exports = { langchainStore, pgliteStore };
