/**
 * The f16 kernels (assembly/kernels/f16.ts) on both builds: the decoder against the definition for
 * all 65,536 codes, the encoder against a nearest-value search (ties to even, clamped at 65504,
 * magnitudes below 2^-14 to 0 or 2^-14: no subnormal codes),
 * and f32 . f16 / |f32 - f16|^2 against float64 on the decoded values, each kernel equal to its
 * scalar twin to the bit. The kernels are called through the kernel probe of each build
 * (helpers/kernels.ts: the engine does not export them).
 */
import { BUILDS } from '../helpers/engines';
import { kernels, type Kernels } from '../helpers/kernels';
import { rng, randomVectors } from '../helpers/random';
import { KIND, TWIN, f16Nearest, f16Value, quantBatch, randomInts, stageBytes } from '../helpers/quant';

const MAX = 65504;
const f = Math.fround;

/** Encodes floats with the engine's f16 encoder. */
function encode(probe: Kernels, values: Float32Array): number[] {
  const [ps, pd] = stageBytes(probe, values, new Uint16Array(values.length));
  probe.exports.quantEncodeF16(ps, values.length, pd);
  return Array.from(new Uint16Array(probe.memory.buffer, pd, values.length));
}

describe.each(BUILDS)('f16 kernels (simd %s)', (simd) => {
  let probe: Kernels;
  beforeAll(() => {
    probe = kernels(simd);
  });

  test('decodes every one of the 65,536 codes as the definition says (subnormals, zeros, max, Inf, NaN)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
    const [ps, pd] = stageBytes(probe, all, new Float32Array(65536));
    probe.exports.quantDecodeF16(ps, 65536, pd);
    const got = new Float32Array(probe.memory.buffer, pd, 65536);
    for (let h = 0; h < 65536; h++) {
      if (!Object.is(got[h], f16Value(h))) throw new Error(`code ${h.toString(16)}: ${got[h]} != ${f16Value(h)}`);
    }
    expect(got[0x7bff]).toBe(MAX);
    expect(got[0x0001]).toBe(2 ** -24);
    expect(Object.is(got[0x8000], -0)).toBe(true);
  });

  test('encoding a decoded finite code gives the code back, for all 61,442 normal and zero codes', () => {
    const exponent = (h: number) => (h >>> 10) & 0x1f;
    const codes = Array.from({ length: 65536 }, (_, h) => h).filter(
      (h) => exponent(h) !== 31 && (exponent(h) !== 0 || (h & 0x3ff) === 0),
    );
    expect(codes.length).toBe(61442);
    expect(encode(probe, Float32Array.from(codes, f16Value))).toEqual(codes);
  });

  test('encodes to the nearest f16, ties to even, clamping beyond 65504 (never Inf), below 2^-14 to 0 or 2^-14 (never subnormal)', () => {
    const next = rng(16);
    const values: number[] = [];
    // every tie between neighbouring codes (subnormal, normal, across binades), and just off it
    for (let h = 0; h < 0x7bff; h += 37) {
      const mid = (f16Value(h) + f16Value(h + 1)) / 2;
      values.push(mid, -mid, f(mid * (1 + 2 ** -20)), f(mid * (1 - 2 ** -20)));
    }
    for (let i = 0; i < 2000; i++) values.push((next() * 2 - 1) * 2 ** (next() * 60 - 35)); // 2^-35 .. 2^25
    const special = [
      2 ** -15,
      -(2 ** -15),
      f(2 ** -15 * 0.999),
      1.5 * 2 ** -15,
      2 ** -24,
      1e-40,
      -1e-40,
      0,
      -0,
      65504,
      65519.99,
      65520,
      1e10,
      -1e10,
      3.4e38,
      -Infinity,
      Infinity,
    ];
    values.push(...special);
    const src = Float32Array.from(values);
    const got = encode(probe, src);
    expect(got).toEqual(Array.from(src, f16Nearest));
    expect(got.filter((h) => ((h >>> 10) & 0x1f) === 31 || (((h >>> 10) & 0x1f) === 0 && (h & 0x3ff) !== 0))).toEqual(
      [],
    );
    // 2^-15 (halfway between 0 and 2^-14) to 2^-14, just below it to 0; f16's subnormal 2^-24 and float32 subnormals to signed zeros; +-65504 and beyond clamp
    expect(got.slice(-special.length)).toEqual([
      0x400, 0x8400, 0, 0x400, 0, 0, 0x8000, 0, 0x8000, 0x7bff, 0x7bff, 0x7bff, 0x7bff, 0xfbff, 0x7bff, 0xfbff, 0x7bff,
    ]);
  });

  test('f32 . f16 and |f32 - f16|^2 match float64 on the decoded values within 1e-6 of the summed magnitudes, twin equal to the bit, dims 1..300', () => {
    const next = rng(61);
    for (let n = 1; n <= 300; n++) {
      const rows = 4;
      const q = randomVectors(1, n, 900 + n);
      // random finite codes of every kind: one row of all bit patterns (subnormals, +-max), others encoded values
      const h = new Uint16Array(rows * n);
      for (let i = 0; i < n; i++) {
        let c = randomInts(next, 1, 0, 0xffff)[0];
        if (((c >>> 10) & 0x1f) === 31) c ^= 0x4000;
        h[i] = i % 7 === 0 ? [0x7bff, 0xfbff, 0x0001, 0x83ff][i % 4] : c;
      }
      const rest = encode(
        probe,
        randomVectors(rows - 1, n, 1900 + n).map((x) => x * 4),
      );
      h.set(rest, n);
      if (n % 3 === 0) for (let i = 0; i < n; i++) q[i] = f(q[i] * 1e-3); // small queries against large codes
      const [pq, ph] = stageBytes(probe, q, h);
      for (const [kind, metric] of [
        [KIND.dotF32F16, 'dot'],
        [KIND.l2sqF32F16, 'l2'],
      ] as const) {
        const got = quantBatch(probe, kind, pq, ph, n, rows);
        expect(Array.from(quantBatch(probe, kind + TWIN, pq, ph, n, rows))).toEqual(Array.from(got));
        const values = new Float32Array(got.buffer);
        for (let k = 0; k < rows; k++) {
          let ref = 0;
          let scale = 0;
          for (let i = 0; i < n; i++) {
            const y = f16Value(h[k * n + i]);
            const t = metric === 'dot' ? q[i] * y : (q[i] - y) ** 2;
            ref += t;
            scale += Math.abs(t);
          }
          expect(Math.abs(values[k] - ref)).toBeLessThanOrEqual(1e-6 * scale);
        }
      }
    }
  });
});
