/**
 * Release size budget: each built .wasm (build/, written by `npm run build`; the threads builds
 * too, which a page with `threads` > 1 downloads instead) must stay under
 * 25 KB (25,000 bytes) Brotli, the project's bar for a module a page downloads before it can
 * search. The kernel probe (build/elex.kernels.simd.wasm and build/elex.kernels.scalar.wasm: the
 * kernels' exports for the tests and the simd benchmark, which the engine does not carry) ships in
 * the package for the bench CLI and is held under the same bar. The sizes of the current build
 * are printed by `npm run build` and listed in docs/benchmarks.md; this test only holds the bar.
 */
import { sync as brotliSize } from 'brotli-size';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BROTLI_BUDGET_BYTES = 25_000;

const ENGINES = ['simd', 'scalar', 'simd.threads', 'scalar.threads'];
const KERNEL_PROBES = ['kernels.simd', 'kernels.scalar'];

describe.each([...ENGINES, ...KERNEL_PROBES])('build/elex.%s.wasm', (target) => {
  const bytes = readFileSync(join(__dirname, '..', '..', 'build', `elex.${target}.wasm`));

  it('is a WebAssembly module', () => {
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it(`stays under ${BROTLI_BUDGET_BYTES} bytes Brotli`, () => {
    expect(brotliSize(bytes)).toBeLessThanOrEqual(BROTLI_BUDGET_BYTES);
  });
});
