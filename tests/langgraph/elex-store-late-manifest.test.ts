/** ElexStore.flush over a versioned store whose manifest write rejects and lands late: the store opens. */
import { MemoryStore } from '../../src/index';
import { ElexStore } from '../../src/langgraph/index';
import { HookedStore } from '../helpers/hooked-store';
import { HashEmbeddings } from '../helpers/langgraph';

test('a flush whose manifest write rejects and lands late leaves a store that opens', async () => {
  const inner = new MemoryStore();
  const store = new HookedStore(inner);
  const index = { dims: 16, embeddings: new HashEmbeddings(16), fields: ['text'] };
  const s = new ElexStore({ index, store });
  await s.put(['u1'], 'a', { text: 'tea' });
  await s.flush();
  await s.put(['u1'], 'b', { text: 'coffee' });
  const late = store.rejectNextWrite();
  await expect(s.flush()).rejects.toThrow(/connection lost/);
  expect((await late())?.ok).toBe(true);
  const opened = await ElexStore.open({ index, store: inner });
  expect(await opened.get(['u1'], 'b')).not.toBeNull();
  opened.dispose();
  s.dispose();
});
