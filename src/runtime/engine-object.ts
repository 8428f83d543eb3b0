/**
 * The base of every object living in an engine's memory behind a handle (VectorIndex, QTable,
 * TrajectoryBuffer): the disposed check and the runtime guard every call goes through, and
 * dispose.
 */
import { DisposedError } from '../errors.js';
import type { Runtime } from './runtime.js';

export abstract class EngineObject {
  /** @internal The object's address in linear memory; 0 once disposed. */
  protected handle: number;
  /** @internal The engine's runtime. */
  protected readonly rt: Runtime;
  private readonly kind: string;

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
    if (this.handle === 0) throw new DisposedError(this.kind);
    return this.rt.run(what, body);
  }

  /** call() as one transaction: a budget failure gives back every byte the call took (Runtime.atomic). */
  protected atomic<T>(what: string, body: () => T): T {
    if (this.handle === 0) throw new DisposedError(this.kind);
    return this.rt.atomic(what, body);
  }
}
