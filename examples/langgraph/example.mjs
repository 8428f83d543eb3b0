// elex-wasm as a LangGraph.js store: an agent's memories, namespaced per user, searched by
// meaning and by fields, forgotten after a while, saved to a directory and opened again.
// Run: npm install elex-wasm @langchain/langgraph-checkpoint @langchain/core && node example.mjs
// The embeddings here are a toy (hashed bag of words) so the example runs offline; pass any
// LangChain Embeddings (OpenAIEmbeddings, a transformers.js model, ...) instead.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from 'elex-wasm';
import { ElexStore } from 'elex-wasm/langgraph';

const embeddings = {
  model: 'toy-words-256',
  async embedDocuments(texts) {
    return texts.map((t) => this.vector(t));
  },
  async embedQuery(text) {
    return this.vector(text);
  },
  vector(text) {
    const v = new Array(256).fill(0);
    for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
      let h = 2166136261;
      for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v[(h >>> 0) % 256] += 1;
    }
    v[255] += 0.01;   // never the zero vector
    return v;
  },
};

const dir = mkdtempSync(join(tmpdir(), 'elex-langgraph-'));
const options = {
  index: { dims: 256, embeddings, fields: ['text'] },   // what is embedded: the `text` field
  store: new FileStore(dir),                           // where flush() writes
  budgetBytes: 16 * 1024 * 1024,                       // the engine's hard memory cap
  ttl: { defaultTtl: 60 * 24 * 30 },                   // memories live 30 days unless read
};
const memory = await ElexStore.open(options);          // empty: nothing saved there yet

await memory.put(['user-42', 'memories'], 'tea', { text: 'prefers green tea in the morning', kind: 'preference' });
await memory.put(['user-42', 'memories'], 'trip', { text: 'is planning a trip to Rome in May', kind: 'plan' });
await memory.put(['user-7', 'memories'], 'tea', { text: 'drinks black tea with milk', kind: 'preference' });
await memory.put(['user-42', 'scratch'], 'draft', { text: 'half-written reply' }, undefined, { ttl: 5 });

const [hit] = await memory.search(['user-42'], { query: 'what does the user drink', limit: 1 });
console.log(hit.key, hit.score.toFixed(3));            // tea, cosine similarity: only user-42's items were searched

const plans = await memory.search(['user-42'], { filter: { kind: 'plan' } });
console.log(plans.map((i) => i.value.text).join());     // is planning a trip to Rome in May

console.log((await memory.listNamespaces({ prefix: ['user-42'] })).map((ns) => ns.join('/')).join());
// user-42/memories,user-42/scratch

await memory.stop();                                   // flushes: every put above is on disk
memory.dispose();

const again = await ElexStore.open(options);           // another process, or tomorrow
console.log((await again.get(['user-42', 'memories'], 'trip')).value.text);   // is planning a trip to Rome in May
console.log(again.size, again.provenance.model);       // 4 toy-words-256
again.dispose();
