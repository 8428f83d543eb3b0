/**
 * The seeded steps of the ElexStore crash test, shared by the child and the test: step i puts
 * `k<i>` (a memory with text `memory <i>`) in namespace ['u', 'n<i mod 5>'], and every seventh
 * step also deletes `k<i - 3>`, in one batch. Embeddings: a deterministic vector per text.
 */
'use strict';

const DIMS = 8;

/** Embeds each text as a pseudo-random vector seeded by a hash of its characters. */
const embeddings = {
  model: 'crash-embeddings',
  vector(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    let a = h; // mulberry32 seeded by the hash
    const next = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return Array.from({ length: DIMS }, () => next() * 2 - 1);
  },
  async embedDocuments(texts) {
    return texts.map((t) => this.vector(t));
  },
  async embedQuery(text) {
    return this.vector(text);
  },
};

const INDEX = { dims: DIMS, embeddings, fields: ['text'] };

const namespaceOf = (i) => ['u', `n${i % 5}`];

/** The batch of step `i`. */
function stepOps(i) {
  const ops = [{ namespace: namespaceOf(i), key: `k${i}`, value: { text: `memory ${i}`, i } }];
  if (i % 7 === 0) ops.push({ namespace: namespaceOf(i - 3), key: `k${i - 3}`, value: null });
  return ops;
}

/** The items after steps 1..n: key -> value. */
function itemsAfter(n) {
  const items = new Map();
  for (let i = 1; i <= n; i++)
    for (const op of stepOps(i)) {
      if (op.value === null) items.delete(op.key);
      else items.set(op.key, op.value);
    }
  return items;
}

/** The last step a store holds: the largest `i` among its items (0 for none). */
async function lastStep(store) {
  const items = await store.search([], { limit: 1e6 });
  return items.reduce((max, item) => Math.max(max, item.value.i), 0);
}

module.exports = { INDEX, stepOps, itemsAfter, lastStep };
