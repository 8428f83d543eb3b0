/**
 * What a search filter throws is the filter's own error, never a trap of the engine: a
 * WebAssembly.RuntimeError from another module (a real trap, and one thrown by hand) reaches
 * the caller as it is and the engine stays usable. An async filter, or one returning a promise
 * or another thenable, is InvalidArgumentError (E_ARGUMENT) and changes nothing. And ids() needs
 * no budget: it works in an engine filled to the last byte.
 */
import { BudgetExceededError, Engine, InvalidArgumentError, type VectorIndex } from '../../src/index';
import { BUILDS } from '../helpers/engines';
import { randomVectors } from '../helpers/random';

const DIM = 16;
const N = 300;

/** A module whose export `f` traps (unreachable): another wasm library failing inside a filter. */
const TRAPPING = new WebAssembly.Instance(
  new WebAssembly.Module(
    Uint8Array.from([
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00, // magic, version
      0x01,
      0x04,
      0x01,
      0x60,
      0x00,
      0x00, // type: () -> ()
      0x03,
      0x02,
      0x01,
      0x00, // one function of type 0
      0x07,
      0x05,
      0x01,
      0x01,
      0x66,
      0x00,
      0x00, // export "f"
      0x0a,
      0x05,
      0x01,
      0x03,
      0x00,
      0x00,
      0x0b, // body: unreachable, end
    ]),
  ),
).exports.f as () => void;

/** Everything a search can see of the index: its ids and the answers to a few queries. */
function state(index: VectorIndex, queries: Float32Array): string {
  const rows = [];
  for (let r = 0; r < 5; r++) {
    const res = index.search(queries.subarray(r * DIM, (r + 1) * DIM), 10, { filter: (id) => id % 3 !== 0 });
    rows.push([Array.from(res.ids), Array.from(res.distances)]);
  }
  return JSON.stringify([Array.from(index.ids()), rows]);
}

describe.each(BUILDS)('search filter errors (simd %s)', (simd) => {
  let e: Engine;
  let index: VectorIndex;
  const queries = randomVectors(5, DIM, 99);
  beforeEach(async () => {
    e = await Engine.create({ simd });
    index = e.createIndex({ dim: DIM, metric: 'l2', M: 8 });
    index.addBatch(
      Uint32Array.from({ length: N }, (_, i) => i),
      randomVectors(N, DIM, 1),
    );
  });
  afterEach(() => e.dispose());

  test('a trap in another module, and a RuntimeError thrown by hand, reach the caller; the engine is not broken', () => {
    const before = state(index, queries);
    const own = new WebAssembly.RuntimeError('another library failed');
    const filters: Array<[(id: number) => boolean, (error: unknown) => void]> = [
      [
        () => {
          TRAPPING();
          return true;
        },
        (error) => expect(error).toBeInstanceOf(WebAssembly.RuntimeError),
      ],
      [
        (id) => {
          if (id > 10) throw own;
          return true;
        },
        (error) => expect(error).toBe(own),
      ],
    ];
    for (const [filter, check] of filters) {
      for (const run of [
        () => index.search(queries.subarray(0, DIM), 5, { filter }),
        () => index.searchBatch(queries, 5, { filter }),
      ]) {
        let error: unknown;
        try {
          run();
        } catch (err) {
          error = err;
        }
        check(error);
        expect((error as { code?: string }).code).toBeUndefined(); // not E_BROKEN
        expect(state(index, queries)).toBe(before);
      }
    }
    index.add(N, queries.subarray(0, DIM));
    expect(index.search(queries.subarray(0, DIM), 1).ids[0]).toBe(N);
    expect(e.loadIndex(index.serialize()).size).toBe(N + 1);
  });

  test('an async filter, or one returning a promise or a thenable, is E_ARGUMENT and changes nothing', () => {
    const before = state(index, queries);
    index.searchBatch(queries, 5, { filter: () => true }); // staging, kept from call to call
    const used = e.usedBytes;
    let calls = 0;
    const filters: Array<(id: number) => boolean> = [
      (async (id: number) => {
        calls++;
        return id % 2 === 0;
      }) as never,
      async function* gen() {
        calls++;
        yield true;
      } as never,
      ((id: number) => {
        calls++;
        return Promise.resolve(id % 2 === 0);
      }) as never,
      (() => {
        calls++;
        return Promise.reject(new Error('late'));
      }) as never,
      (() => {
        calls++;
        // biome-ignore lint/suspicious/noThenProperty: a thenable is what this case feeds the search
        return { then: () => undefined };
      }) as never,
    ];
    for (const [i, filter] of filters.entries()) {
      for (const run of [
        () => index.search(queries.subarray(0, DIM), 5, { filter }),
        () => index.searchBatch(queries, 5, { filter }),
      ]) {
        calls = 0;
        let error: unknown;
        try {
          run();
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).code).toBe('E_ARGUMENT');
        expect((error as Error).message).toMatch(/filter/);
        // Async functions are refused before the walk; a promise at its first call.
        expect(calls).toBe(i < 2 ? 0 : 1);
        expect(state(index, queries)).toBe(before);
      }
    }
    expect(e.usedBytes).toBe(used);
    // Truthy and falsy non-promise answers still count as they did.
    const res = index.search(queries.subarray(0, DIM), 5, { filter: (id) => (id % 2 === 0 ? 'yes' : 0) as never });
    expect(Array.from(res.ids).every((id) => id % 2 === 0)).toBe(true);
  });
});

describe.each(BUILDS)('ids() needs no budget (simd %s)', (simd) => {
  test('in an engine filled to the last byte, ids() lists the live ids in slot order', async () => {
    const e = await Engine.create({ simd, budgetBytes: 2 << 20 });
    const index = e.createIndex({ dim: 32, metric: 'dot', M: 8 });
    const data = randomVectors(4000, 32, 5);
    let n = 0;
    for (; n < 4000; n++) {
      try {
        index.add(n, data.subarray(n * 32, (n + 1) * 32));
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        break;
      }
    }
    expect(n).toBeGreaterThan(100);
    for (let id = 0; id < n; id += 7) index.remove(id);
    // Fill what the failed add left with ever smaller buffers, until not even one fits.
    for (let capacity = 1 << 16; capacity >= 1; ) {
      try {
        e.createTrajectoryBuffer({ capacity });
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExceededError);
        capacity >>= 1;
      }
    }
    expect(() => e.createTrajectoryBuffer({ capacity: 1 })).toThrow(BudgetExceededError);
    const used = e.usedBytes;
    const expected = Array.from({ length: n }, (_, i) => i).filter((id) => id % 7 !== 0);
    expect(Array.from(index.ids())).toEqual(expected);
    expect(e.usedBytes).toBe(used);
    e.dispose();
  });
});
