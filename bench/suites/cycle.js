// Suite `cycle`: the query cycle end to end, per query: search the index (k 10) -> the agent
// owning the top hit (id % 50) -> agents.get -> selectAction -> reward -> push the transition
// -> release, and every N queries batchUpdate(trajectory.sample(32)) on that agent.
// P50/P95/P99 per query at 10K vectors and 50 agents, next to search alone in the same run.
// Then the agents' observe-decide-act loop (bench/lib/agent-loop.js) at 50 and 500 agents, P50/P95
// of each step and of the whole step of one agent: aggregate counters -> encode state -> search
// similar states -> agents.get -> selectAction -> validate the proposed parameters -> reward ->
// push -> batchUpdate (every 10th step of an agent) -> release.
'use strict';
const { Engine, MemoryStore } = require('elex-wasm');
const { FLEETS, STEPS, runFleet } = require('../lib/agent-loop.js');
const { K, buildInChunks, queryRows } = require('../lib/ann.js');
const { loadDataset } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { percentile, table } = require('../lib/stats.js');
const { summary, spread } = require('../lib/timing.js');

const AGENTS = 50;
const ACTIONS = 8;
const EF = 64;
const UPDATE_EVERY = 10;
const SAMPLE = 32;

/** One query's cycle; returns nothing (timed by the caller). */
async function cycleOnce(index, agents, query, q) {
  const { ids } = index.search(query, K, { ef: EF });
  const top = ids[0];
  const agent = await agents.get(`agent-${top % AGENTS}`);
  try {
    const state = top;
    const action = agent.q.selectAction(state);
    const reward = action === top % ACTIONS ? 1 : 0;
    const nextState = ids[1];
    agent.trajectory.push(state, action, reward, nextState, false);
    if (q % UPDATE_EVERY === 0 && agent.trajectory.size > 0) agent.q.batchUpdate(agent.trajectory.sample(SAMPLE));
  } finally {
    agent.release();
  }
}

/** Latency percentiles (us) of `passes` passes of `body(query, q)` over the queries. */
async function timePasses(rows, passes, body) {
  const lat = new Float64Array(rows.length);
  const per = { p50: [], p95: [], p99: [], mean: [] };
  for (let pass = 0; pass < passes; pass++) {
    let total = 0;
    for (let q = 0; q < rows.length; q++) {
      const t = performance.now();
      await body(rows[q], q);
      lat[q] = (performance.now() - t) * 1000;
      total += lat[q];
    }
    per.p50.push(percentile(lat, 50));
    per.p95.push(percentile(lat, 95));
    per.p99.push(percentile(lat, 99));
    per.mean.push(total / rows.length);
  }
  return { p50: summary(per.p50), p95: summary(per.p95), p99: summary(per.p99), mean: summary(per.mean) };
}

/** Runs the suite: { suite, params, results, table, notes }. */
async function run({ quick = false, data: dataPath, progress = silent } = {}) {
  progress.step('loading the dataset');
  const data = loadDataset('cosine', dataPath);
  const passes = quick ? 2 : 5;
  const engine = await Engine.create({ budgetBytes: 256 << 20 });
  const index = engine.createIndex({ dim: data.dim, metric: 'cosine', seed: 1 });
  const count = data.base.length / data.dim;
  const ids = Uint32Array.from({ length: count }, (_, i) => i);
  progress.step(`building the index (${count} vectors)`);
  buildInChunks(
    'cycle index',
    count,
    (from, to) => index.addBatch(ids.subarray(from, to), data.base.subarray(from * data.dim, to * data.dim)),
    { progress },
  );
  const agents = engine.createAgentCache({
    store: new MemoryStore(),
    maxAgents: AGENTS,
    qtable: { actions: ACTIONS, epsilon: 0.1 },
    trajectoryCapacity: 1000,
  });
  const rows = queryRows(data);
  progress.step(`warm-up cycle over ${rows.length} queries`);
  for (let q = 0; q < rows.length; q++) await cycleOnce(index, agents, rows[q], q); // warm-up: every agent created
  progress.step(`search alone, ${passes} passes`);
  const search = await timePasses(rows, passes, (query) => index.search(query, K, { ef: EF }));
  progress.step(`full cycle, ${passes} passes`);
  const cycle = await timePasses(rows, passes, (query, q) => cycleOnce(index, agents, query, q));
  const stats = agents.stats;
  await agents.close();
  engine.dispose();
  const fleets = [];
  for (const size of FLEETS) fleets.push(await runFleet(size, { quick, progress }));
  const row = (name, s) => [name, spread(s.p50), spread(s.p95), spread(s.p99), spread(s.mean)];
  const text = [
    `${data.name}, ${count} vectors, cosine, ef ${EF}; ${AGENTS} agents (${ACTIONS} actions), batchUpdate of ${SAMPLE} sampled transitions every ${UPDATE_EVERY} queries.`,
    'us per query:\n',
    table(
      ['per query', 'P50 us', 'P95 us', 'P99 us', 'mean us'],
      [row('search alone', search), row('full cycle', cycle)],
    ),
    `\nmedian (min-max) over ${passes} passes${passes % 2 === 0 ? ` (nearest-rank median: the lower middle one of ${passes})` : ''}; a pass times each of the ${rows.length} queries alone, and its P50/P95/P99/mean are over those queries.`,
    `\nThe cycle adds ${(cycle.p50.median - search.p50.median).toFixed(1)} us at P50 and ${(cycle.p95.median - search.p95.median).toFixed(1)} us at P95 to the search. Agent cache hit rate ${stats.hitRate.toFixed(3)}.`,
    '',
    `Agent loop (one agent's step; ${fleets[0].counterRows} x ${fleets[0].counterColumns} counters a step, ${fleets[0].fields}-field state, ${fleets[0].indexStates} past states in an l2 index searched k ${fleets[0].k}, ${fleets[0].params} parameters, ${fleets[0].actions} actions), us per step:\n`,
    table(
      ['step', ...fleets.flatMap((f) => [`P50 us (${f.agents} agents)`, `P95 us (${f.agents} agents)`])],
      [...STEPS, 'whole step'].map((step) => [
        step,
        ...fleets.flatMap((f) => [spread(f.steps[step].p50, 2), spread(f.steps[step].p95, 2)]),
      ]),
    ),
    `\nmedian (min-max) over ${fleets[0].passes} passes; a pass runs ${fleets.map((f) => `${f.ticks} ticks of all ${f.agents} agents`).join(' and ')} (${fleets.map((f) => f.ticks * f.agents).join(' and ')} agent steps), each step timed alone (performance.now() around each step; the whole step is timed around all of them). A fleet tick (every agent once, the untimed generation of its counters included) took ${fleets.map((f) => `${f.tick.median.toFixed(2)} ms at ${f.agents}`).join(', ')} (median).`,
  ].join('\n');
  return {
    suite: 'cycle',
    params: {
      agents: AGENTS,
      actions: ACTIONS,
      ef: EF,
      k: K,
      updateEvery: UPDATE_EVERY,
      sample: SAMPLE,
      passes,
      vectors: count,
      dataset: data.name,
      quick,
    },
    results: { search, cycle, cacheStats: stats, agentLoop: fleets },
    table: text,
    notes: [
      `Cycle P95 ${cycle.p95.median.toFixed(1)} us (bar: < 1 ms, aim < 1 ms at 10K vectors and 50 agents).`,
      ...fleets.map(
        (f) =>
          `Agent loop P95 ${f.steps['whole step'].p95.median.toFixed(1)} us a step at ${f.agents} agents (bar: < 1 ms).`,
      ),
    ],
  };
}

/** The ground truth the suite reads whatever --metric says (bench/cli.js checks it first). */
const truth = ['cosine'];

module.exports = { run, truth };
