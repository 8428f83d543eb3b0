/**
 * Issue 24's bar line "a 2-thread engine of 48 MiB fills to E_BUDGET through addBatchAsync with
 * the budget held and the index still answering", at real scale, both builds: GloVe-100 words
 * (data/glove100, cosine, M 16) added by addBatchAsync in batches of 10,000, then of 1,000, until
 * one is refused (the scalar build, slower, fills 24 MiB to keep the file near a minute). Checked: the refusal is a BudgetExceededError that changes nothing (the
 * snapshot is the one before it), usedBytes never passes budgetBytes, the threads ran the
 * batches, the engine ends above 90% full (how full is printed), every node is reachable and
 * every layer-0 list well formed (the pipelined build at scale), and the index still answers:
 * searchBatchAsync gives searchBatch's ids, with recall@10 >= 0.9 against exact ground truth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BudgetExceededError, Engine, parseFvecs } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { malformedLists, unreachedSlots } from '../helpers/graph-walk';
import { bruteForce, recall } from '../helpers/reference';
import { sameBytes } from '../helpers/snapshot';

const DIM = 100;
/** The budget per build: 48 MiB (about 80,000 vectors) where SIMD runs, half on the scalar build. */
const BUDGET = { on: 48 * 1024 * 1024, off: 24 * 1024 * 1024 };
const base = parseFvecs(readFileSync(join(__dirname, '..', '..', 'data', 'glove100', 'glove100k_base.fvecs'))).data;
const ROWS = base.length / DIM;

describe.each(BUILDS)('a 2-thread engine of 48 MiB (24 MiB scalar), simd %s', (simd) => {
  test('fills to E_BUDGET through addBatchAsync: the budget held, a refused batch changes nothing, the index answers', async () => {
    const engine = await Engine.create({ simd, threads: 2, budgetBytes: BUDGET[simd] });
    expect(engine.threads).toBe(2);
    const index = engine.createIndex({ dim: DIM, metric: 'cosine', M: 16, efConstruction: 40, seed: 5 });
    let added = 0;
    let threaded = 0;
    let snapshot = index.serialize();
    for (const size of [10000, 1000]) {
      let refused: unknown = null;
      while (refused === null && added + size <= ROWS) {
        const before = engine.runtime.pool!.callsRun;
        try {
          await index.addBatchAsync(
            Uint32Array.from({ length: size }, (_, i) => added + i),
            base.subarray(added * DIM, (added + size) * DIM),
          );
          added += size;
          if (engine.runtime.pool!.callsRun > before) threaded = added;
          snapshot = index.serialize();
        } catch (error) {
          refused = error;
        }
        expect(engine.usedBytes).toBeLessThanOrEqual(engine.budgetBytes);
      }
      expect(refused).toBeInstanceOf(BudgetExceededError);
      expect(index.size).toBe(added);
      expect(sameBytes(index.serialize(), snapshot)).toBe(true); // the refused batch changed nothing
    }
    const full = engine.usedBytes / engine.budgetBytes;
    console.log(
      `simd ${simd}: ${added} GloVe-100 vectors in ${BUDGET[simd] >> 20} MiB, usedBytes/budgetBytes ${full.toFixed(3)}, ` +
        `batches on the threads up to ${threaded} vectors`,
    );
    expect(full).toBeGreaterThan(0.9);
    expect(threaded).toBeGreaterThanOrEqual(added * 0.6); // most of the index was built on the threads

    // The pipelined build at real scale: every node reachable, every layer-0 list well formed.
    expect(unreachedSlots(index)).toEqual([]);
    expect(malformedLists(index, 32)).toEqual([]);

    // Still answering: 20 words of the index as queries, against exact ground truth.
    const ids = Uint32Array.from({ length: added }, (_, i) => i);
    const queries = new Float32Array(20 * DIM);
    for (let q = 0; q < 20; q++) queries.set(base.subarray(q * 3001 * DIM, (q * 3001 + 1) * DIM), q * DIM);
    const found = await index.searchBatchAsync(queries, 10, { ef: 100 });
    expect(found).toEqual(index.searchBatch(queries, 10, { ef: 100 }));
    let sum = 0;
    for (let q = 0; q < 20; q++) {
      const truth = bruteForce('cosine', base, ids, (id) => id, DIM, queries.subarray(q * DIM, (q + 1) * DIM), 10);
      sum += recall(
        found.ids.subarray(q * 10, q * 10 + 10),
        truth.map((t) => t.id),
      );
    }
    expect(sum / 20).toBeGreaterThanOrEqual(0.9);
    engine.dispose();
  });
});
