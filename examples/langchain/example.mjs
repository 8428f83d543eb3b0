// elex-wasm as a LangChain.js vector store: index a few notes, search with a metadata filter,
// diversify with MMR, use it as a retriever, save it to a directory and load it back.
// Run: npm install elex-wasm @langchain/core && node example.mjs
// The embeddings here are a toy (hashed bag of words) so the example runs offline; pass any
// LangChain Embeddings (OpenAIEmbeddings, a transformers.js model, ...) instead.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Embeddings } from '@langchain/core/embeddings';
import { ElexVectorStore } from 'elex-wasm/langchain';

class WordEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(texts) {
    return texts.map((t) => this.vector(t));
  }
  async embedQuery(text) {
    return this.vector(text);
  }
  vector(text) {
    const v = new Array(256).fill(0);
    for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
      let h = 2166136261;
      for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v[(h >>> 0) % 256] += 1;
    }
    v[255] += 0.01;   // never the zero vector
    return v;
  }
}

const store = await ElexVectorStore.fromTexts(
  ['cats purr and sleep all day', 'dogs bark at the mail carrier', 'cats chase mice at night', 'the stock market fell today'],
  [{ topic: 'pets' }, { topic: 'pets' }, { topic: 'pets' }, { topic: 'finance' }],
  new WordEmbeddings(),
  { budgetBytes: 16 * 1024 * 1024 },   // the engine's hard memory cap
);

const [[best, distance]] = await store.similaritySearchWithScore('when do cats sleep', 1);
console.log(best.pageContent, distance.toFixed(3));   // cats purr and sleep all day, cosine distance (smaller is nearer)

const pets = await store.similaritySearch('market news', 2, (doc) => doc.metadata.topic === 'pets');
console.log(pets.map((d) => d.metadata.topic).join());  // pets,pets: the filter runs during the graph walk

const diverse = await store.maxMarginalRelevanceSearch('cats', { k: 2, fetchK: 4, lambda: 0.5 });
console.log(diverse.length);                             // 2

const retriever = store.asRetriever({ k: 1 });
console.log((await retriever.invoke('dogs barking'))[0].pageContent);   // dogs bark at the mail carrier

const dir = mkdtempSync(join(tmpdir(), 'elex-langchain-'));
await store.save(dir);                                   // index + documents, atomically
const loaded = await ElexVectorStore.load(dir, new WordEmbeddings());
console.log(loaded.size, (await loaded.similaritySearch('when do cats sleep', 1))[0].pageContent);   // 4 cats purr and sleep all day
store.dispose();
loaded.dispose();
