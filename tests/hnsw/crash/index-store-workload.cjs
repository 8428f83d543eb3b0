/**
 * The crash test's workload, shared by the child (through the built package) and the test
 * (through src/): step 1 adds 1,500 vectors, every later step 30 seeded operations (adds of new
 * ids, replacements, small batches, removes). The same steps give the same index, byte for byte.
 */
'use strict';

const OPTIONS = { dim: 32, metric: 'l2', M: 8, efConstruction: 40, seed: 2024 };
const SAVE = { chunkBytes: 64 * 1024, logShare: 0.25 };
const IDS = 4000;

/** mulberry32: the same seed gives the same stream. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Applies step `step` (1, 2, ...) to `index`. */
function applyStep(index, step) {
  const next = rng(step * 7919);
  const vector = (n) => Float32Array.from({ length: n * OPTIONS.dim }, () => next() * 2 - 1);
  if (step === 1) {
    index.addBatch(
      Array.from({ length: 1500 }, (_, i) => i),
      vector(1500),
    );
    return;
  }
  for (let i = 0; i < 30; i++) {
    const r = next();
    const id = Math.floor(next() * IDS);
    if (r < 0.5) index.add(id, vector(1));
    else if (r < 0.7) index.addBatch([id, (id + 1) % IDS, id], vector(3));
    else index.remove(id);
  }
}

module.exports = { OPTIONS, SAVE, applyStep };
