// Suite `memory`: bytes per 128-d vector and per agent (engine.usedBytes growth), arena
// fragmentation (reservedBytes / usedBytes) after add/remove and agent evict/reload churn, the
// share of a 48 MiB budget in use at the first BudgetExceededError when it is filled step by step
// (batches of 1,000 128-d vectors, no reserve), and how many 128-d vectors fit in a 500 MiB
// engine: filled with addBatch until BudgetExceededError (batches shrinking 10x at each failure),
// once growing step by step and once after index.reserve(n) for 95% of the step-by-step count
// (reserve is a hint: segments are never copied, so both fit about the same; reserving the very
// last slots sizes the id map for them, which a step-by-step fill near the budget does not). The full run fills
// 500 MiB; --quick fills 32 MiB and extrapolates, and says so. efConstruction does not change the
// memory layout, so the fills use 10 to be fast; M stays 16. With --quantization, the bytes per
// vector, the 48 MiB fill and the step-by-step 500 MiB fill run once per quantization (the reserve
// fill, churn and agents with the first one), and a table sets them side by side.
'use strict';
const { Engine, MemoryStore, BudgetExceededError } = require('elex-wasm');
const { progressBar, silent } = require('../lib/progress.js');
const { rng } = require('../lib/dataset.js');
const { table } = require('../lib/stats.js');

const DIM = 128;
const MIB = 1024 * 1024;

/** `rows` random 128-d vectors. */
function vectors(rows, next) {
  const out = new Float32Array(rows * DIM);
  for (let i = 0; i < out.length; i++) out[i] = next();
  return out;
}

/** The bytes of a 128-d vector's stored form alone (assembly/hnsw/vector-form.ts). */
const STORED_BYTES = { f32: DIM * 4, f16: DIM * 2, i8: DIM + 8 };

/** Bytes of usedBytes growth per vector over `count` vectors (M 16, efConstruction 200). */
async function bytesPerVector(count, quantization) {
  const engine = await Engine.create({ budgetBytes: 256 * MIB });
  const before = engine.usedBytes;
  const index = engine.createIndex({ dim: DIM, metric: 'l2', quantization });
  index.addBatch(
    Uint32Array.from({ length: count }, (_, i) => i),
    vectors(count, rng(1)),
  );
  const out = { count, bytes: (engine.usedBytes - before) / count, vectorBytes: STORED_BYTES[quantization] };
  engine.dispose();
  return out;
}

/** usedBytes growth per agent (8 actions, trajectory 1000), empty and after 100 states each. */
async function bytesPerAgent(count) {
  const engine = await Engine.create({ budgetBytes: 256 * MIB });
  const agents = engine.createAgentCache({
    qtable: { actions: 8 },
    trajectoryCapacity: 1000,
    maxAgents: count,
    store: new MemoryStore(),
  });
  const before = engine.usedBytes;
  const held = [];
  for (let i = 0; i < count; i++) held.push(await agents.get(`a${i}`));
  const empty = (engine.usedBytes - before) / count;
  for (const agent of held) for (let s = 0; s < 100; s++) agent.q.update(s, s & 7, 1, s + 1);
  const filled = (engine.usedBytes - before) / count;
  for (const agent of held) agent.release();
  await agents.close();
  engine.dispose();
  return { count, empty, with100States: filled };
}

/** reservedBytes / usedBytes over rounds of index churn (remove 30%, add 30% new) and agent churn. */
async function churn(rounds, progress) {
  const engine = await Engine.create({ budgetBytes: 256 * MIB });
  const next = rng(2);
  const index = engine.createIndex({ dim: DIM, metric: 'l2', efConstruction: 64 });
  const agents = engine.createAgentCache({
    qtable: { actions: 8 },
    trajectoryCapacity: 500,
    maxAgents: 40,
    store: new MemoryStore(),
  });
  let live = Array.from({ length: 10000 }, (_, i) => i);
  let nextId = live.length;
  index.addBatch(Uint32Array.from(live), vectors(live.length, next));
  const out = [];
  const sample = (round) =>
    out.push({
      round,
      live: index.size,
      usedBytes: engine.usedBytes,
      reservedBytes: engine.reservedBytes,
      ratio: engine.reservedBytes / engine.usedBytes,
    });
  sample(0);
  for (let r = 1; r <= rounds; r++) {
    progress.step(`churn round ${r}/${rounds}`);
    const keep = [];
    for (const id of live)
      if (next() < 0.3) index.remove(id);
      else keep.push(id);
    const fresh = Array.from({ length: live.length - keep.length }, () => nextId++);
    index.addBatch(Uint32Array.from(fresh), vectors(fresh.length, next));
    live = keep.concat(fresh);
    for (let a = 0; a < 60; a++) {
      const agent = await agents.get(`agent-${Math.floor(next() * 100)}`);
      for (let s = 0; s < 20 + r * 10; s++) agent.q.update(s, s & 7, 1, s + 1);
      agent.release();
    }
    sample(r);
  }
  await agents.close();
  engine.dispose();
  return out;
}

/** A fresh `budgetMiB` engine with an empty index (M 16, efConstruction 10). */
async function fillIndex(budgetMiB, quantization) {
  const engine = await Engine.create({ budgetBytes: budgetMiB * MIB });
  return { engine, index: engine.createIndex({ dim: DIM, metric: 'l2', M: 16, efConstruction: 10, quantization }) };
}

/**
 * Adds random vectors to a `budgetMiB` engine (after reserve(`reserve`) if given) until E_BUDGET:
 * batches of `batch`, then 10x smaller ones after each failure down to 1, unless `firstFailure`
 * stops at the first one.
 */
async function fill(budgetMiB, { reserve = 0, batch: first = 10000, firstFailure = false, quantization = 'f32' } = {}) {
  const { engine, index } = await fillIndex(budgetMiB, quantization);
  if (reserve) index.reserve(reserve);
  const block = vectors(first, rng(3));
  const guess = reserve || Math.round((budgetMiB * MIB) / 700);
  const bar = progressBar(`memory fill ${budgetMiB} MiB ${quantization}${reserve ? ' after reserve' : ''}`, guess);
  const t0 = performance.now();
  let count = 0;
  for (let batch = first; batch >= 1; ) {
    try {
      index.addBatch(
        Uint32Array.from({ length: batch }, (_, i) => count + i),
        block.subarray(0, batch * DIM),
      );
      count += batch;
      bar.tick(Math.min(count, guess));
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      batch = firstFailure ? 0 : Math.floor(batch / 10);
    }
  }
  bar.done();
  const out = {
    quantization,
    budgetBytes: budgetMiB * MIB,
    reserve,
    batch: first,
    count,
    usedBytes: engine.usedBytes,
    reservedBytes: engine.reservedBytes,
    ms: performance.now() - t0,
  };
  engine.dispose();
  return out;
}

/** Runs the suite: { suite, params, results, table, notes }. */
async function run({ quick = false, quantizations = ['f32'], progress = silent } = {}) {
  const vectorsCount = quick ? 5000 : 20000;
  const budgetMiB = quick ? 32 : 500;
  const modes = [];
  for (const quantization of quantizations) {
    progress.step(`${quantization}: bytes per vector (${vectorsCount} vectors)`);
    const perVector = await bytesPerVector(vectorsCount, quantization);
    progress.step(`${quantization}: fill 48 MiB step by step in batches of 1,000 (to the first E_BUDGET)`);
    const first = await fill(48, { batch: 1000, firstFailure: true, quantization });
    progress.step(`${quantization}: fill ${budgetMiB} MiB step by step`);
    const grown = await fill(budgetMiB, { quantization });
    modes.push({ quantization, perVector, first, grown });
  }
  const [{ quantization: lead, perVector, first, grown }] = modes;
  progress.step('bytes per agent (100 agents)');
  const perAgent = await bytesPerAgent(100);
  const rounds = await churn(quick ? 3 : 8, progress);
  const reserve = Math.floor(grown.count * 0.95);
  progress.step(`${lead}: fill ${budgetMiB} MiB after reserve(${reserve})`);
  const fills = [grown, await fill(budgetMiB, { reserve, quantization: lead })];
  const scale = (n) => (quick ? Math.floor((n * 500) / 32) : n);
  const how = quick ? ' (extrapolated linearly from the 32 MiB fill)' : ' (measured)';
  const fillRows = fills.flatMap((f) => {
    const mode = f.reserve ? `after reserve(${f.reserve})` : 'growing step by step';
    return [
      [`vectors added to a ${budgetMiB} MiB engine before E_BUDGET, ${mode}`, f.count],
      [`usedBytes / budget then, ${mode}`, (f.usedBytes / f.budgetBytes).toFixed(4)],
      [`reservedBytes / budget then, ${mode}`, (f.reservedBytes / f.budgetBytes).toFixed(4)],
      [`128-d vectors that fit in 500 MiB, ${mode}${how}`, scale(f.count)],
      [`fill time, ${mode} (efConstruction 10)`, `${(f.ms / 1000).toFixed(1)} s`],
    ];
  });
  const fits500 = scale(fills[0].count);
  const firstRows = [
    ['48 MiB filled in batches of 1,000: vectors at the first E_BUDGET', first.count],
    [
      '48 MiB filled in batches of 1,000: usedBytes / budget at the first E_BUDGET',
      (first.usedBytes / first.budgetBytes).toFixed(4),
    ],
    [
      '48 MiB filled in batches of 1,000: reservedBytes / budget then',
      (first.reservedBytes / first.budgetBytes).toFixed(4),
    ],
  ];
  const text = [
    `Index figures with quantization ${lead}${modes.length > 1 ? ' (the others in the last table)' : ''}:\n`,
    table(
      ['figure', 'value'],
      [
        [
          `bytes per 128-d vector (usedBytes growth / ${perVector.count}; the stored vector alone is ${perVector.vectorBytes})`,
          perVector.bytes.toFixed(1),
        ],
        ['bytes per agent, empty (8 actions, trajectory 1000)', perAgent.empty.toFixed(0)],
        ['bytes per agent with 100 states', perAgent.with100States.toFixed(0)],
        ...firstRows,
        ...fillRows,
      ],
    ),
    '\nFragmentation under churn (10K vectors; each round removes ~30% and adds as many new ids, and 60 agent gets over 100 ids with 40 resident):\n',
    table(
      ['round', 'live vectors', 'usedBytes', 'reservedBytes', 'reserved / used'],
      rounds.map((r) => [r.round, r.live, r.usedBytes, r.reservedBytes, r.ratio.toFixed(4)]),
    ),
    '\nOne run, no range: the byte and vector counts come out the same on every run (same seeds, same allocations); fill times are single timings.',
    ...(modes.length > 1 || lead !== 'f32'
      ? [
          '\nPer quantization (128-d, l2, M 16):\n',
          table(
            [
              'quantization',
              'stored vector bytes',
              'bytes per vector (all in)',
              '48 MiB: used / budget at the first E_BUDGET',
              `vectors in 500 MiB, step by step${quick ? ' (extrapolated)' : ''}`,
            ],
            modes.map((m) => [
              m.quantization,
              m.perVector.vectorBytes,
              m.perVector.bytes.toFixed(1),
              (m.first.usedBytes / m.first.budgetBytes).toFixed(4),
              scale(m.grown.count),
            ]),
          ),
        ]
      : []),
  ].join('\n');
  const notes = [
    `A 48 MiB engine filled step by step has ${((100 * first.usedBytes) / first.budgetBytes).toFixed(1)}% of its budget in use at the first E_BUDGET (issue 12's bar: >= 95%).`,
    `Vectors that fit in 500 MiB: ${fits500} growing step by step, ${scale(fills[1].count)} after reserve (${quick ? 'extrapolated from 32 MiB fills' : 'measured by filling'}; issue 12's bar: >= 700,000 without reserve).`,
  ];
  notes.push(
    ...modes
      .slice(1)
      .map(
        (m) =>
          `${m.quantization}: ${m.perVector.bytes.toFixed(1)} bytes per vector; ${scale(m.grown.count)} vectors fit in 500 MiB step by step${quick ? ' (extrapolated)' : ''}.`,
      ),
  );
  const perMode = modes.map((m) => ({
    quantization: m.quantization,
    perVector: m.perVector,
    firstBudget48: m.first,
    grown: m.grown,
    fits500: scale(m.grown.count),
  }));
  return {
    suite: 'memory',
    params: { dim: DIM, quick, quantizations },
    results: {
      perVector,
      perAgent,
      churn: rounds,
      firstBudget48: first,
      fills,
      fits500,
      fits500Measured: !quick,
      perMode,
    },
    table: text,
    notes,
  };
}

module.exports = { run };
