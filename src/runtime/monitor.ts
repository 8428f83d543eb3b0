/**
 * The memory-pressure monitor of an engine: a ring of usage samples (usedBytes / budgetBytes)
 * kept in WebAssembly memory (assembly/runtime/pressure.ts). The engine records a sample after every
 * call that changed its bytes in use; `record()` takes one by hand.
 */
import type { Runtime } from './runtime.js';
import { checkInt, checkNumber } from '../util/validate.js';

/** Direction of usage over the recent samples. */
export type Trend = 'growing' | 'shrinking' | 'stable';

/** Samples the ring keeps by default. */
export const DEFAULT_MONITOR_SAMPLES = 100;

/**
 * An engine's memory-pressure monitor ({@link Engine.monitor}): a ring of usage samples
 * (usedBytes / budgetBytes) kept in WebAssembly memory, recorded after every call that changed
 * the bytes in use, with the trend and the pressure extrapolated from them.
 */
export class MemoryMonitor {
  private readonly rt: Runtime;

  /** @internal Use `engine.monitor`. */
  constructor(rt: Runtime, samples = DEFAULT_MONITOR_SAMPLES) {
    this.rt = rt;
    rt.exports.monitorConfigure(checkInt('monitorSamples', samples, 1, 4096));
  }

  /** Takes a sample of usedBytes / budgetBytes now. Cost: O(1). */
  record(): void {
    this.rt.check('monitor.record');
    this.rt.exports.monitorRecord();
  }

  /** Records `level` (0..1) as a sample, e.g. to script the monitor. Cost: O(1). */
  recordLevel(level: number): void {
    checkNumber('level', level, 0, 1);
    this.rt.check('monitor.recordLevel');
    this.rt.exports.monitorRecordLevel(level);
  }

  /** Samples held (up to the ring's size). */
  get samples(): number {
    return this.rt.exports.monitorCount();
  }

  /** The newest sample, 0..1 (0 with none). */
  get level(): number {
    return this.rt.exports.monitorLevel();
  }

  /** Least-squares slope of the newest 10 samples, in budget fractions per sample. */
  get slope(): number {
    return this.rt.exports.monitorSlope();
  }

  /** Pressure from the newest sample and its trend carried 5 samples on, clamped to 0..1. */
  get pressure(): number {
    return this.rt.exports.monitorPressure();
  }

  /** 'growing' / 'shrinking' when the slope passes +/-0.1% of the budget per sample, else 'stable'. */
  get trend(): Trend {
    const t = this.rt.exports.monitorTrend();
    return t > 0 ? 'growing' : t < 0 ? 'shrinking' : 'stable';
  }

  /**
   * Share of resident agents to evict now, a fraction: 0.1 / 0.2 / 0.3 / 0.5 at pressure
   * < 0.70 / < 0.85 / < 0.95 / above, `pressure` as read here (a level recorded as 0.7 reads
   * 0.699999988 in float32: 0.1).
   */
  evictionShare(): number {
    return Math.round(this.rt.exports.evictionShare(this.pressure) * 10) / 10;
  }

  /**
   * The same fraction as {@link MemoryMonitor.evictionShare} (0.1 means 10%).
   * @deprecated The name says percent but the value is a fraction: use `evictionShare()`.
   */
  evictionPercent(): number {
    return this.evictionShare();
  }
}
