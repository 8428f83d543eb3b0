/** Both builds, for suites that must pass on each: SIMD (where this Node runs it) and scalar. */
import { Engine, simdSupported, type EngineOptions } from '../../src/index';

export const BUILDS: Array<'on' | 'off'> = simdSupported() ? ['on', 'off'] : ['off'];

/** `test` where both builds run here, `test.skip` (reported as skipped, not passed) where only the scalar one does. */
export const bothBuildsTest = BUILDS.length === 2 ? test : test.skip;

/** The other build than `simd`, or undefined where this Node has only one. */
export function otherBuild(simd: 'on' | 'off'): 'on' | 'off' | undefined {
  return BUILDS.find((b) => b !== simd);
}

/** An engine of the given build. */
export function engine(simd: 'on' | 'off', options: EngineOptions = {}): Promise<Engine> {
  return Engine.create({ ...options, simd });
}
