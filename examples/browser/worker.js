// A module worker that owns an elex-wasm Engine and one VectorIndex, so building and searching
// a large index never blocks the page. The page talks to it through index-worker.js.
// Protocol: { id, op, args } in, { id, result } or { id, error: { name, code, message } } out.
import { Engine } from '../../dist/browser/elex.js';

let engine = null;
let index = null;

const ops = {
  /** Creates the engine and the index; returns which build runs. */
  async create(engineOptions, indexOptions) {
    engine?.dispose();
    engine = await Engine.create(engineOptions);
    index = engine.createIndex(indexOptions);
    return { simd: engine.simd, budgetBytes: engine.budgetBytes };
  },
  /** Adds rows (ids.length * dim floats); returns the index size and memory in use. */
  addBatch(ids, vectors) {
    index.addBatch(ids, vectors);
    return { size: index.size, usedBytes: engine.usedBytes, pressure: engine.monitor.pressure };
  },
  /** Top-k for each query row: { ids, distances }, row-major. */
  searchBatch(queries, k, options) {
    return index.searchBatch(queries, k, options);
  },
  /** Memory in use and the monitor's pressure. */
  stats() {
    return { size: index?.size ?? 0, usedBytes: engine?.usedBytes ?? 0, pressure: engine?.monitor.pressure ?? 0 };
  },
};

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    if (!(op in ops)) throw new TypeError(`unknown op '${op}'`);
    const result = await ops[op](...args);
    const transfer = result?.ids instanceof Uint32Array ? [result.ids.buffer, result.distances.buffer] : [];
    self.postMessage({ id, result }, transfer);
  } catch (error) {
    self.postMessage({ id, error: { name: error.name, code: error.code, message: error.message } });
  }
};
