/**
 * Options objects (issue 10, finding 14): a name the API does not know is E_ARGUMENT naming the
 * closest known one, in every options object of the public API; nothing is silently ignored.
 * searchBatch takes a filter, as search does.
 */
import { Engine, InvalidArgumentError } from '../../src/index';
import { BUILDS, engine } from '../helpers/engines';
import { expectElexError } from '../helpers/errors';
import { randomVectors } from '../helpers/random';

const unknown = (name: string, suggestion: string) =>
  new RegExp(`unknown option '${name}' \\(did you mean '${suggestion}'\\?\\)`);

test('Engine.create rejects an unknown option, suggesting the closest', async () => {
  await expect(Engine.create({ budget: 1 << 20 } as never)).rejects.toThrow(unknown('budget', 'budgetBytes'));
  await expect(Engine.create({ smid: 'off' } as never)).rejects.toThrow(InvalidArgumentError);
  await expect(Engine.create({ monitorsamples: 10 } as never)).rejects.toThrow(
    unknown('monitorsamples', 'monitorSamples'),
  );
});

describe.each(BUILDS)('unknown options (simd %s)', (simd) => {
  let e: Engine;
  beforeAll(async () => {
    e = await engine(simd);
  });
  afterAll(() => e.dispose());

  test('createIndex, search and searchBatch', () => {
    expectElexError(
      () => e.createIndex({ dim: 4, efconstruction: 50 } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('efconstruction', 'efConstruction'),
    );
    expectElexError(
      () => e.createIndex({ dim: 4, metrics: 'l2' } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('metrics', 'metric'),
    );
    const index = e.createIndex({ dim: 4, metric: 'l2' });
    index.addBatch([1, 2, 3], randomVectors(3, 4, 1));
    const q = [0.5, 0.5, 0.5, 0.5];
    expectElexError(
      () => index.search(q, 2, { fliter: () => true } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('fliter', 'filter'),
    );
    expectElexError(
      () => index.search(q, 2, { efSearch: 10 } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('efSearch', 'ef'),
    );
    expectElexError(
      () => index.searchBatch(q, 2, { fliter: () => true } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('fliter', 'filter'),
    );
    expectElexError(
      () => index.search(q, 2, null as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      /options must be an object/,
    );
    expect(index.search(q, 2, { ef: undefined, filter: undefined }).ids.length).toBe(2);
  });

  test('createQTable, createTrajectoryBuffer and createAgentCache (and its qtable options)', () => {
    expectElexError(
      () => e.createQTable({ actions: 2, epsilon_decay: 0.9 } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('epsilon_decay', 'epsilonDecay'),
    );
    expectElexError(
      () => e.createTrajectoryBuffer({ capacity: 8, capcity: 9 } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('capcity', 'capacity'),
    );
    expectElexError(
      () => e.createAgentCache({ qtable: { actions: 2 }, maxAgent: 3 } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('maxAgent', 'maxAgents'),
    );
    expectElexError(
      () => e.createAgentCache({ qtable: { actions: 2, gama: 0.5 } } as never),
      InvalidArgumentError,
      'E_ARGUMENT',
      unknown('gama', 'gamma'),
    );
  });

  test('searchBatch applies a filter to every row, as search does', () => {
    const dim = 8;
    const data = randomVectors(300, dim, 3);
    const index = e.createIndex({ dim, metric: 'l2' });
    index.addBatch(
      Uint32Array.from({ length: 300 }, (_, i) => i),
      data,
    );
    const queries = randomVectors(20, dim, 4);
    const odd = (id: number) => id % 2 === 1;
    const batch = index.searchBatch(queries, 5, { filter: odd, ef: 80 });
    for (let r = 0; r < 20; r++) {
      const single = index.search(queries.subarray(r * dim, (r + 1) * dim), 5, { filter: odd, ef: 80 });
      expect(Array.from(batch.ids.subarray(r * 5, r * 5 + 5))).toEqual(Array.from(single.ids));
      expect(Array.from(batch.distances.subarray(r * 5, r * 5 + 5))).toEqual(Array.from(single.distances));
      for (const id of single.ids) expect(id % 2).toBe(1);
    }
  });
});
