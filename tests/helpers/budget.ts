/** Fills an engine to its budget, for tests of calls that must fail there and change nothing. */
import { BudgetExceededError, type Engine, type VectorIndex } from '../../src/index';
import { randomVectors } from './random';

/**
 * Adds batches until the budget stops them (searching once after the first, so the probe's
 * scratch and staging exist), then takes what is left with tiny objects.
 */
export function fillToBudget(e: Engine, index: VectorIndex): void {
  const dim = index.dim;
  for (let next = 0; ; next += 200) {
    try {
      index.addBatch(
        Uint32Array.from({ length: 200 }, (_, i) => next + i),
        randomVectors(200, dim, next),
      );
      if (next === 0) index.search(randomVectors(1, dim, 77), 5);
    } catch (error) {
      expect(error).toBeInstanceOf(BudgetExceededError);
      break;
    }
  }
  for (;;) {
    try {
      e.createTrajectoryBuffer({ capacity: 1 });
    } catch (error) {
      expect(error).toBeInstanceOf(BudgetExceededError);
      return;
    }
  }
}
