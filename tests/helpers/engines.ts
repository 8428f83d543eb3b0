/** Both builds, for suites that must pass on each: SIMD (where this Node runs it) and scalar. */
import { Engine, simdSupported, type EngineOptions } from '../../src/index';

export const BUILDS: Array<'on' | 'off'> = simdSupported() ? ['on', 'off'] : ['off'];

/** An engine of the given build. */
export function engine(simd: 'on' | 'off', options: EngineOptions = {}): Promise<Engine> {
  return Engine.create({ ...options, simd });
}
