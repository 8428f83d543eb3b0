/**
 * Loaders check sizes before they allocate (issue 10, finding 13): bytes larger than the engine's
 * free memory that are cut short, padded, announce other sizes or fail their checksum are
 * CorruptSnapshotError (E_CORRUPT), not BudgetExceededError, for index, Q-table and trajectory
 * snapshots. An intact snapshot that does not fit is E_BUDGET.
 */
import { BudgetExceededError, CorruptSnapshotError, type Engine } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectCorrupt, thrownBy } from '../helpers/errors';
import { fixCrc } from '../helpers/index-snapshot';
import { randomVectors } from '../helpers/random';

const MIB = 1 << 20;

/** Large snapshots of each kind (each well over 1 MiB), made in a roomy engine. */
async function bigSnapshots(simd: 'on' | 'off') {
  const e = await engine(simd, { budgetBytes: 64 * MIB });
  const index = e.createIndex({ dim: 64, metric: 'l2', efConstruction: 16 });
  index.addBatch(
    Uint32Array.from({ length: 3000 }, (_, i) => i),
    randomVectors(3000, 64, 1),
  );
  const q = e.createQTable({ actions: 8 });
  q.batchUpdate({
    states: Uint32Array.from({ length: 20000 }, (_, i) => i * 7919),
    actions: new Uint32Array(20000),
    rewards: new Float32Array(20000).fill(1),
    nextStates: new Uint32Array(20000),
  });
  const traj = e.createTrajectoryBuffer({ capacity: 100000 });
  for (let i = 0; i < 100000; i++) traj.push(i, 1, 0.5, i + 1);
  const snapshots = {
    index: { bytes: index.serialize(), count: 36, load: (x: Engine, b: Uint8Array) => x.loadIndex(b) },
    qtable: { bytes: q.serialize(), count: 12, load: (x: Engine, b: Uint8Array) => x.loadQTable(b) },
    trajectory: { bytes: traj.serialize(), count: 12, load: (x: Engine, b: Uint8Array) => x.loadTrajectoryBuffer(b) },
  };
  e.dispose();
  return snapshots;
}

describe.each(BUILDS)('loaders check sizes before allocating (simd %s)', (simd) => {
  let small: Engine;
  let snapshots: Awaited<ReturnType<typeof bigSnapshots>>;
  beforeAll(async () => {
    snapshots = await bigSnapshots(simd);
    small = await engine(simd, { budgetBytes: MIB });
  });
  afterAll(() => small.dispose());

  test.each(['index', 'qtable', 'trajectory'] as const)(
    '%s: corrupt bytes larger than free memory are E_CORRUPT',
    (kind) => {
      const { bytes, count, load } = snapshots[kind];
      expect(bytes.length).toBeGreaterThan(MIB);
      const corrupt = (b: Uint8Array) => expectCorrupt(() => load(small, b));
      corrupt(bytes.subarray(0, bytes.length - 1));
      corrupt(fixCrc(bytes.slice(0, bytes.length - 4)));
      const padded = new Uint8Array(bytes.length + 8);
      padded.set(bytes);
      corrupt(padded);
      const recounted = bytes.slice();
      const view = new DataView(recounted.buffer);
      view.setUint32(count, view.getUint32(count, true) + 1, true);
      corrupt(fixCrc(recounted));
      const flipped = bytes.slice();
      flipped[bytes.length >> 1] ^= 0x40;
      corrupt(flipped);
      const garbage = new Uint8Array(2 * MIB).map((_, i) => (i * 2654435761) >>> 24);
      garbage.set(bytes.subarray(0, 4));
      corrupt(garbage);
      // The intact snapshot is well-formed; it just does not fit.
      const error = thrownBy(() => load(small, bytes));
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect(error).not.toBeInstanceOf(CorruptSnapshotError);
    },
  );
});
