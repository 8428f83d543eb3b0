/**
 * The distance kernels of both builds against a float64 reference, dims 1..130, called through
 * the kernel probe of each build (helpers/kernels.ts: the engine does not export them).
 */
import { BUILDS, engine } from '../helpers/engines';
import { KERNEL_EXPORTS, SHARED_WITH_ENGINE, kernels, type Kernels } from '../helpers/kernels';
import { randomVectors } from '../helpers/random';
import { dot64, distance64 } from '../helpers/reference';

/** Writes a and b into staging memory and returns their addresses. */
function stage(probe: Kernels, a: Float32Array, b: Float32Array): [number, number] {
  const pa = probe.exports.stagingReserve(0, a.length * 4 + 4);
  const pb = probe.exports.stagingReserve(1, b.length * 4 + 4);
  probe.f32().set(a, pa >>> 2);
  probe.f32().set(b, pb >>> 2);
  return [pa, pb];
}

/** |x - ref| scaled by the sum of the magnitudes that produced ref (a condition-aware bound). */
function relErr(x: number, ref: number, scale: number): number {
  return Math.abs(x - ref) / Math.max(scale, 1e-30);
}

describe.each(BUILDS)('kernels (simd %s)', (simd) => {
  let probe: Kernels;
  beforeAll(() => {
    probe = kernels(simd);
  });

  test('the build reports what it is, the engine and its kernel probe alike', async () => {
    const e = await engine(simd);
    expect(e.simd).toBe(simd === 'on');
    expect(e.runtime.exports.engineSimd()).toBe(simd === 'on' ? 1 : 0);
    e.dispose();
    expect(probe.simd).toBe(simd === 'on');
    expect(probe.exports.engineSimd()).toBe(simd === 'on' ? 1 : 0);
  });

  test('the engine exports the setup and staging functions of the probe, and none of its kernels', async () => {
    const e = await engine(simd);
    const ex = e.runtime.exports as unknown as Record<string, unknown>;
    const kinds = KERNEL_EXPORTS.map((name) => [name, typeof ex[name]]);
    e.dispose();
    expect(kinds).toEqual(
      KERNEL_EXPORTS.map((name) => [name, SHARED_WITH_ENGINE.includes(name) ? 'function' : 'undefined']),
    );
    expect(KERNEL_EXPORTS.length - SHARED_WITH_ENGINE.length).toBe(13);
  });

  test('dot, l2sq, cosine (each kernel and its scalar twin) and norm match float64 within 1e-5 for dims 1..130', () => {
    const ex = probe.exports;
    const out = ex.stagingReserve(2, 16);
    /** kernelBatch of kind over one row: the single-pair kernel. */
    const pair = (kind: number, pa: number, pb: number, n: number) => {
      ex.kernelBatch(kind, pa, pb, n, 1, out);
      return probe.f32()[out >>> 2];
    };
    for (let n = 1; n <= 130; n++) {
      const a = randomVectors(1, n, 1000 + n);
      const b = randomVectors(1, n, 2000 + n);
      const [pa, pb] = stage(probe, a, b);
      let absDot = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        absDot += Math.abs(a[i] * b[i]);
        sumSq += (a[i] - b[i]) ** 2;
      }
      const cosScale = absDot / Math.sqrt(dot64(a, a) * dot64(b, b));
      for (const twin of [0, 3]) {
        expect(relErr(pair(0 + twin, pa, pb, n), dot64(a, b), absDot)).toBeLessThan(1e-5);
        expect(relErr(pair(1 + twin, pa, pb, n), distance64('l2', a, b), sumSq)).toBeLessThan(1e-5);
        expect(relErr(pair(2 + twin, pa, pb, n), distance64('cosine', a, b), cosScale)).toBeLessThan(1e-5);
      }
      expect(relErr(ex.kernelNorm(pa, n), Math.sqrt(dot64(a, a)), Math.sqrt(dot64(a, a)))).toBeLessThan(1e-5);
    }
  });

  test('normalize scales to unit length and leaves a zero vector alone', () => {
    const ex = probe.exports;
    for (const n of [1, 3, 4, 7, 16, 17, 128, 130]) {
      const a = randomVectors(1, n, 77 + n);
      const [pa] = stage(probe, a, a);
      const before = Math.sqrt(dot64(a, a));
      expect(ex.kernelNormalize(pa, n)).toBeCloseTo(before, 4);
      const out = probe.f32().slice(pa >>> 2, (pa >>> 2) + n);
      expect(Math.sqrt(dot64(out, out))).toBeCloseTo(1, 5);
      for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(a[i] / before, 5);
    }
    const zero = new Float32Array(5);
    const [pz] = stage(probe, zero, zero);
    expect(ex.kernelNormalize(pz, 5)).toBe(0);
    expect(Array.from(probe.f32().slice(pz >>> 2, (pz >>> 2) + 5))).toEqual([0, 0, 0, 0, 0]);
    const out = ex.stagingReserve(2, 16);
    ex.kernelBatch(2, pz, pz, 5, 1, out);
    expect(probe.f32()[out >>> 2]).toBe(1);
  });
});

describe.each(BUILDS)('kernelBatch (simd %s)', (simd) => {
  test('scores one query against many rows, each kind equal to its single-pair kernel', () => {
    const probe = kernels(simd);
    const ex = probe.exports;
    for (const n of [3, 16, 33, 128]) {
      const count = 20;
      const q = randomVectors(1, n, n);
      const rows = randomVectors(count, n, n + 1);
      const [pq, pr] = stage(probe, q, rows);
      const out = ex.stagingReserve(2, count * 4);
      for (let kind = 0; kind < 6; kind++) {
        ex.kernelBatch(kind, pq, pr, n, count, out);
        const got = probe.f32().slice(out >>> 2, (out >>> 2) + count);
        const metric = (['dot', 'l2', 'cosine'] as const)[kind % 3];
        for (let r = 0; r < count; r++) {
          const ref = metric === 'dot' ? dot64(q, rows, 0, r * n, n) : distance64(metric, q, rows, 0, r * n, n);
          expect(Math.abs(got[r] - ref)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref)));
        }
      }
    }
  });
});
