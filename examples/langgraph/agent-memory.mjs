// An agent that remembers across runs: the first run reads a conversation and writes what it
// learns about the user as memories; every later run recalls the memories relevant to a new
// question before "answering". The store lives in ./agent-memory (or the folder given).
// Run twice: node agent-memory.mjs && node agent-memory.mjs
// (npm install elex-wasm @langchain/langgraph-checkpoint @langchain/core). The embeddings are a
// toy so it runs offline; a real agent passes its model's (OpenAIEmbeddings, ...).
import { FileStore } from 'elex-wasm';
import { ElexStore } from 'elex-wasm/langgraph';

const embeddings = {
  model: 'toy-words-128',
  async embedDocuments(texts) {
    return texts.map((t) => this.vector(t));
  },
  async embedQuery(text) {
    return this.vector(text);
  },
  vector(text) {
    const v = new Array(128).fill(0);
    for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
      let h = 2166136261;
      for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
      v[(h >>> 0) % 128] += 1;
    }
    v[127] += 0.01;
    return v;
  },
};

const user = ['users', 'ada', 'memories'];
const memory = await ElexStore.open({
  store: new FileStore(process.argv[2] ?? './agent-memory'),
  index: { dims: 128, embeddings, fields: ['fact'] },
  autoFlush: true, // every put is on disk once it resolves
});

if (memory.size === 0) {
  // First run: the agent extracts facts from a conversation (a real agent asks its LLM to).
  const conversation = [
    'I am allergic to peanuts, so no satay please.',
    'My daughter Lin starts school in September.',
    'I work nights as a nurse at the city hospital.',
  ];
  for (const [i, line] of conversation.entries())
    await memory.put(user, `fact-${i}`, { fact: line, source: 'chat', turn: i });
  console.log(`learned ${memory.size} facts`);
} else {
  // A later run: recall what matters for the new question.
  const question = 'dinner ideas with peanuts or satay';
  const [top] = await memory.search(['users', 'ada'], { query: question, limit: 1 });
  console.log(`recalled: ${top.value.fact}`);
}
memory.dispose();
