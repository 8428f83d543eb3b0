/**
 * engine.dispose() drops the memory (issue 10, finding 15): the WebAssembly instance, its memory
 * and the views of it are released even while objects of the engine are still referenced, so
 * the garbage collector takes them; those objects, and the engine's byte counters, throw
 * DisposedError afterwards.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DisposedError, type Engine } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { randomVectors } from '../helpers/random';

/** ES2021's WeakRef (the project's lib is ES2020; Node has had it since 14.6). */
// biome-ignore lint/suspicious/noShadowRestrictedNames: declares the global WeakRef, which the ES2020 lib lacks
declare const WeakRef: new <T extends object>(target: T) => { deref(): T | undefined };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Lets the current job end (WeakRefs stay alive through it), then collects. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
}

describe.each(BUILDS)('engine.dispose (simd %s)', (simd) => {
  test("frees the memory while the engine's objects are still referenced (the issue: five engines held 301 MiB)", async () => {
    const kept: unknown[] = [];
    const memories: Array<{ deref(): object | undefined }> = [];
    for (let i = 0; i < 5; i++) {
      const e = await engine(simd, { budgetBytes: 64 << 20 });
      const index = e.createIndex({ dim: 64, metric: 'l2' });
      index.addBatch(
        Uint32Array.from({ length: 2000 }, (_, j) => j),
        randomVectors(2000, 64, i),
      );
      const q = e.createQTable({ actions: 4 });
      q.update(1, 2, 3, 4);
      memories.push(new WeakRef(e.runtime.memory));
      kept.push(e, index, q, e.createTrajectoryBuffer({ capacity: 16 }), e.monitor);
      e.dispose();
    }
    await collect();
    expect(memories.map((m) => m.deref() === undefined)).toEqual([true, true, true, true, true]);
    expect(kept.length).toBe(25);
  });

  test("afterwards every object and the engine's counters throw DisposedError", async () => {
    const e: Engine = await engine(simd, { budgetBytes: 3 << 20 });
    const index = e.createIndex({ dim: 2 });
    index.add(1, [1, 0]);
    const q = e.createQTable({ actions: 2 });
    const traj = e.createTrajectoryBuffer({ capacity: 4 });
    const agents = e.createAgentCache({ qtable: { actions: 2 } });
    e.dispose();
    for (const call of [
      () => index.search([1, 0], 1),
      () => index.size,
      () => index.serialize(),
      () => q.get(1, 0),
      () => q.update(1, 0, 1, 2),
      () => traj.push(1, 0, 1, 2),
      () => e.usedBytes,
      () => e.reservedBytes,
      () => e.pressure,
      () => e.createIndex({ dim: 2 }),
      () => e.monitor.record(),
    ]) {
      expectElexError(call, DisposedError, 'E_DISPOSED');
    }
    await expect(agents.get('a')).rejects.toBeInstanceOf(DisposedError);
    index.dispose();
    e.dispose();
    expect(e.budgetBytes).toBe(3 << 20); // a plain setting, still readable after dispose
  });
});
