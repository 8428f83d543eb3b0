/** The memory-pressure monitor: thresholds, trend and pressure on scripted samples; self-sampling. */
import { Engine, InvalidArgumentError } from '../../src/index';
import { BUILDS, engine as engineOf } from '../helpers/engines';
import { randomVectors } from '../helpers/random';

const engines: Engine[] = [];
afterEach(() => engines.splice(0).forEach((e) => e.dispose()));

async function monitorOf(samples?: number) {
  const engine = await Engine.create({ budgetBytes: 8 << 20, monitorSamples: samples });
  engines.push(engine);
  return { engine, monitor: engine.monitor };
}

test('eviction share follows the pressure bands 0.70 / 0.85 / 0.95', async () => {
  const { monitor } = await monitorOf();
  const cases: Array<[number, number]> = [
    [0, 0.1],
    [0.5, 0.1],
    [0.69, 0.1],
    [0.71, 0.2], // 0.7 itself is stored as float32 0.699999988 (see the edges below)
    [0.84, 0.2],
    [0.85, 0.3], // float32 0.850000024
    [0.94, 0.3],
    [0.96, 0.5],
    [1, 0.5],
  ];
  for (const [level, share] of cases) {
    // A flat history: pressure is the level itself.
    for (let i = 0; i < 12; i++) monitor.recordLevel(level);
    expect(monitor.trend).toBe('stable');
    expect(monitor.pressure).toBeCloseTo(level, 5);
    expect(monitor.evictionShare()).toBe(share);
    expect(monitor.evictionPercent()).toBe(share); // the deprecated name, same value
  }
});

/** The documented table: 0.1 / 0.2 / 0.3 / 0.5 at pressure < 0.70 / < 0.85 / < 0.95 / above. */
const documentedShare = (p: number) => (p < 0.7 ? 0.1 : p < 0.85 ? 0.2 : p < 0.95 ? 0.3 : 0.5);

/** The float32 `steps` ulps from float32(x) (negative: below). */
function f32Step(x: number, steps: number): number {
  const f = new Float32Array([x]);
  new Uint32Array(f.buffer)[0] += steps;
  return f[0];
}

describe.each(BUILDS)('simd %s', (simd) => {
  test('at the band edges evictionShare() is the table applied to monitor.pressure as JS reads it', async () => {
    const engine = await engineOf(simd, { budgetBytes: 8 << 20 });
    engines.push(engine);
    const monitor = engine.monitor;
    const seen = new Set<number>();
    for (const edge of [0.7, 0.85, 0.95]) {
      const levels = [edge, edge - 1e-9, edge + 1e-9, ...[-2, -1, 0, 1, 2].map((s) => f32Step(edge, s))];
      for (const level of levels) {
        for (let i = 0; i < 12; i++) monitor.recordLevel(level); // flat: pressure is the level
        const p = monitor.pressure;
        expect(p).toBe(Math.fround(level));
        expect([level, monitor.evictionShare()]).toEqual([level, documentedShare(p)]);
        seen.add(documentedShare(p));
      }
    }
    // float32 0.7 and 0.95 round down: read as 0.699999988 and 0.949999988, still in the band below.
    for (let i = 0; i < 12; i++) monitor.recordLevel(0.7);
    expect(monitor.pressure).toBeLessThan(0.7);
    expect(monitor.evictionShare()).toBe(0.1);
    for (let i = 0; i < 12; i++) monitor.recordLevel(0.95);
    expect(monitor.pressure).toBeLessThan(0.95);
    expect(monitor.evictionShare()).toBe(0.3);
    expect([...seen].sort((a, b) => a - b)).toEqual([0.1, 0.2, 0.3, 0.5]);
  });
});

test('trend and pressure read the slope of the newest samples', async () => {
  const { monitor } = await monitorOf();
  for (let i = 0; i < 10; i++) monitor.recordLevel(0.5 + i * 0.02);
  expect(monitor.trend).toBe('growing');
  expect(monitor.slope).toBeCloseTo(0.02, 5);
  // latest 0.68 plus 5 samples of +0.02: 0.78 -> the 0.70..0.85 band although the level is below 0.70.
  expect(monitor.pressure).toBeCloseTo(0.78, 4);
  expect(monitor.evictionShare()).toBe(0.2);
  for (let i = 0; i < 10; i++) monitor.recordLevel(0.6 - i * 0.05);
  expect(monitor.trend).toBe('shrinking');
  expect(monitor.pressure).toBe(0);
  for (let i = 0; i < 10; i++) monitor.recordLevel(Math.min(0.9 + i * 0.05, 1));
  expect(monitor.pressure).toBe(1);
});

test('the ring keeps the configured number of samples', async () => {
  const { monitor } = await monitorOf(5);
  for (let i = 0; i < 20; i++) monitor.recordLevel(0.1);
  expect(monitor.samples).toBe(5);
  expect(() => monitor.recordLevel(1.5)).toThrow(InvalidArgumentError);
  await expect(Engine.create({ monitorSamples: 0 })).rejects.toThrow(/monitorSamples/);
});

test('the engine samples itself after every call that changes usedBytes', async () => {
  const { engine, monitor } = await monitorOf();
  const before = monitor.samples;
  const index = engine.createIndex({ dim: 32 });
  index.addBatch(
    Uint32Array.from({ length: 500 }, (_, i) => i),
    randomVectors(500, 32, 1),
  );
  expect(monitor.samples).toBe(before + 2); // one sample per call that changed usedBytes: createIndex, addBatch
  expect(monitor.level).toBeCloseTo(engine.usedBytes / engine.budgetBytes, 5);
  index.search(randomVectors(1, 32, 2), 5);
  const samples = monitor.samples;
  // Warm: the search scratch exists now, so searching again allocates nothing.
  index.search(randomVectors(1, 32, 3), 5);
  index.has(3);
  expect(monitor.samples).toBe(samples);
  monitor.record();
  expect(monitor.samples).toBe(samples + 1);
  expect(engine.reservedBytes).toBeGreaterThanOrEqual(engine.usedBytes);
});
