/** Asserting typed errors: what a call threw, checked for its class and stable code. */
import { CorruptSnapshotError, ElexError } from '../../src/index';

/** The error `body` throws (undefined if it returns). */
export function thrownBy(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Asserts that `body` throws an ElexError of `type` with `code` (and a message matching `text`); returns it. */
export function expectElexError<T extends ElexError>(
  body: () => unknown,
  type: new (...args: never[]) => T,
  code: string,
  text?: RegExp,
): T {
  const error = thrownBy(body);
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(ElexError);
  expect((error as T).code).toBe(code);
  if (text) expect((error as Error).message).toMatch(text);
  return error as T;
}

/** Asserts that `body` throws CorruptSnapshotError (E_CORRUPT). */
export function expectCorrupt(body: () => unknown): void {
  expectElexError(body, CorruptSnapshotError, 'E_CORRUPT');
}
