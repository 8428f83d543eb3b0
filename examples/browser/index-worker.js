// The page's side of worker.js: every call is a promise answered by the worker. Vectors are
// transferred, not copied, so adding 100k rows costs the page no more than a postMessage.
// Errors come back as Error objects with the engine's name and code (e.g. BudgetExceededError, E_BUDGET).

export class IndexWorker {
  /** Starts worker.js (or `url`) as a module worker. */
  constructor(url = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map();
    this.nextId = 0;
    this.worker.onmessage = ({ data }) => {
      const call = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error) call.reject(Object.assign(new Error(data.error.message), data.error));
      else call.resolve(data.result);
    };
  }

  call(op, args, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /** Engine.create(engineOptions) and engine.createIndex(indexOptions) in the worker. */
  create(engineOptions, indexOptions) {
    return this.call('create', [engineOptions, indexOptions]);
  }

  /** index.addBatch in the worker; `vectors` is transferred (unusable here afterwards). */
  addBatch(ids, vectors) {
    return this.call('addBatch', [ids, vectors], [vectors.buffer]);
  }

  /** index.searchBatch in the worker: { ids, distances }. */
  searchBatch(queries, k, options) {
    return this.call('searchBatch', [queries, k, options]);
  }

  /** { size, usedBytes, pressure } of the worker's engine. */
  stats() {
    return this.call('stats', []);
  }

  /** Stops the worker and its engine. */
  terminate() {
    this.worker.terminate();
  }
}
