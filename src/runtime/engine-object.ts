/**
 * The base of every object living in an engine's memory behind a handle (VectorIndex, QTable,
 * TrajectoryBuffer): the disposed check and the runtime guard every call goes through, and
 * dispose.
 */
import { BudgetExceededError, DisposedError } from '../errors.js';
import type { Runtime } from './runtime.js';

export abstract class EngineObject {
  /** @internal The object's address in linear memory; 0 once disposed. */
  protected handle: number;
  /** @internal The engine's runtime. */
  protected readonly rt: Runtime;
  private readonly kind: string;
  /**
   * @internal Called when a call of this object ran out of budget (and so changed nothing): frees
   * memory elsewhere at once (an agent cache writing out other agents); true when it freed some,
   * and the call is tried again.
   */
  relieve: (() => boolean) | null = null;

  protected constructor(rt: Runtime, handle: number, kind: string) {
    this.rt = rt;
    this.handle = handle;
    this.kind = kind;
  }

  /** Frees the object's memory in the engine (called once, by dispose). */
  protected abstract free(handle: number): void;

  /** Frees the object's memory. Later calls throw DisposedError. Idempotent. */
  dispose(): void {
    if (this.handle === 0 || this.rt.isDisposed) {
      this.handle = 0;
      return;
    }
    this.call('dispose', () => this.free(this.handle));
    this.handle = 0;
  }

  /** Runs `body` through the engine's guard; DisposedError once disposed. */
  protected call<T>(what: string, body: () => T): T {
    return this.guarded(what, body, false);
  }

  /** call() as one transaction: a budget failure gives back every byte the call took (Runtime.atomic). */
  protected atomic<T>(what: string, body: () => T): T {
    return this.guarded(what, body, true);
  }

  /**
   * call() as one transaction undone however it ends (Runtime.run's 'undo'): for a check that
   * stages its inputs and changes nothing, so it keeps no byte of staging.
   */
  protected probe<T>(what: string, body: () => T): T {
    return this.guarded(what, body, 'undo');
  }

  /** Runtime.run of `body` (DisposedError once disposed), again after each budget failure relieved() freed memory for. */
  private guarded<T>(what: string, body: () => T, transaction: boolean | 'undo'): T {
    for (;;) {
      if (this.handle === 0) throw new DisposedError(this.kind);
      try {
        return this.rt.run(what, body, transaction);
      } catch (error) {
        if (!this.relieved(error)) throw error;
      }
    }
  }

  /**
   * Whether a call that threw `error` may be tried again: a budget failure that dropping the
   * engine's caches (Runtime.dropCaches), or else `relieve`, freed memory for.
   */
  private relieved(error: unknown): boolean {
    return error instanceof BudgetExceededError && (this.rt.dropCaches() || this.relieve?.() === true);
  }
}
