/**
 * SaveOptions.force: an unchanged index still commits a new generation (an empty log segment),
 * which reopens to the same index; without it an unchanged index writes nothing (also under
 * logShare 0).
 */
import { MemoryStore } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { randomVectors } from '../helpers/random';

describe.each(BUILDS)('save({ force }) (simd %s)', (simd) => {
  test('commits a new generation for an unchanged index, which reopens the same', async () => {
    const e = await engine(simd);
    const index = e.createIndex({ dim: 8 });
    index.addBatch([1, 2, 3], randomVectors(3, 8, 1));
    const store = new MemoryStore();
    expect(await index.save(store, 'x')).toMatchObject({ generation: 1, kind: 'checkpoint' });
    expect(await index.save(store, 'x')).toMatchObject({ generation: 1, kind: 'none', bytesWritten: 0 });
    // logShare 0 makes every save that writes a checkpoint, but an unchanged index still writes nothing.
    expect(await index.save(store, 'x', { logShare: 0 })).toMatchObject({ generation: 1, kind: 'none' });
    const forced = await index.save(store, 'x', { force: true });
    expect(forced).toMatchObject({ generation: 2, kind: 'log' });
    expect(forced.bytesWritten).toBeGreaterThan(0);
    const again = await e.openIndex(store, 'x');
    expect(Array.from(again.ids()).sort()).toEqual([1, 2, 3]);
    expect(Array.from(again.get(2)!)).toEqual(Array.from(index.get(2)!));
    await expect(index.save(store, 'x', { force: 'yes' as unknown as boolean })).rejects.toMatchObject({
      code: 'E_ARGUMENT',
    });
    e.dispose();
  });
});
