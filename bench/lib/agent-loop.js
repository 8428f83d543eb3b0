// The agents' observe-decide-act loop, for the cycle suite: a fleet of agents, each tuning
// PARAMS parameters of a synthetic network feature from COUNTERS performance counters.
//
//   one agent's step                             elex-wasm call
//   aggregate its last WINDOW rows of counters   engine.aggregateCounters (f32x4)
//   encode the state                             StateEncoder.key / .vector (learned quantiles)
//   search similar past states                   VectorIndex.search (l2, k K)
//   get the agent                                AgentCache.get
//   select an action                             QTable.selectAction (an unseen state borrows the
//                                                key of its most similar past state)
//   validate the proposed parameters             engine.validateRanges (clamp)
//   reward                                       JS (the synthetic environment)
//   push the transition                          TrajectoryBuffer.push
//   batch update (every UPDATE_EVERY-th step)    QTable.batchUpdate(trajectory.sample(SAMPLE)), staggered
//   release                                      Agent.release
//
// The environment: agent a has a hidden optimum of its parameters; its counters are noisy
// functions of its load and of how far its parameters are from the optimum (counter 0 a latency,
// 1 a loss rate, ...). The reward is minus that distance, less a penalty per parameter the agent
// proposed outside its range. Counter generation is not timed.
'use strict';
const { Engine, MemoryStore, StateEncoder } = require('elex-wasm');
const { rng } = require('./dataset.js');
const { silent } = require('./progress.js');
const { percentile } = require('./stats.js');
const { summary } = require('./timing.js');

const FLEETS = [50, 500];
const COUNTERS = 16;
const WINDOW = 16;
const PARAMS = 8;
const ACTIONS = 2 * PARAMS + 1; // raise parameter i, lower parameter i, or keep all
const FIELDS = 6; // means of counters 0..3, max of counters 4 and 5
const BINS = 4;
const K = 5;
const EF = 32;
const INDEX_STATES = 5000;
const UPDATE_EVERY = 10;
const SAMPLE = 32;
const STEP_SIZE = 0.1;
const STEPS = ['aggregate', 'encode', 'search', 'get', 'select', 'validate', 'reward', 'push', 'update'];

/** A fleet's agents' hidden state and the environment's generator. */
function makeWorld(agents, seed) {
  const next = rng(seed);
  const lower = Float32Array.from({ length: PARAMS }, () => 0);
  const upper = Float32Array.from({ length: PARAMS }, (_, i) => 1 + (i % 3));
  const world = [];
  for (let a = 0; a < agents; a++) {
    world.push({
      load: Float32Array.from({ length: COUNTERS }, () => 1 + next() * 9),
      optimum: Float32Array.from({ length: PARAMS }, (_, i) => next() * upper[i]),
      params: Float32Array.from({ length: PARAMS }, (_, i) => next() * upper[i]),
      counters: new Float32Array(WINDOW * COUNTERS),
      steps: 0,
      seen: new Set(),
    });
  }
  return { next, lower, upper, world };
}

/** How far agent w's parameters are from its optimum (mean absolute difference). */
function distance(w, params) {
  let d = 0;
  for (let i = 0; i < PARAMS; i++) d += Math.abs(params[i] - w.optimum[i]);
  return d / PARAMS;
}

/** Fills w.counters with WINDOW fresh rows of noisy counters. */
function observe(world, w) {
  const dist = distance(w, w.params);
  for (let r = 0; r < WINDOW; r++) {
    for (let c = 0; c < COUNTERS; c++) {
      const noise = 1 + (world.next() - 0.5) * 0.2;
      w.counters[r * COUNTERS + c] = w.load[c] * noise * (c < 4 ? 1 + dist * (c + 1) : 1);
    }
  }
}

/** The encoder's fields from aggregates: means of counters 0..3, max of 4 and 5. */
function features(agg, out) {
  for (let i = 0; i < 4; i++) out[i] = agg.mean[i];
  out[4] = agg.max[4];
  out[5] = agg.max[5];
  return out;
}

/**
 * Runs a fleet of `agents`: learns the encoder's quantiles, fills an index with INDEX_STATES past
 * states, then `passes` timed passes of `ticks` ticks (every agent one step a tick).
 * Returns per-step P50/P95 (us, summaries over passes) and the fleet tick time (ms).
 */
async function runFleet(agents, { quick = false, progress = silent, seed = 7 } = {}) {
  const passes = quick ? 2 : 5;
  const ticks = Math.max(2, Math.round((quick ? 1000 : 3000) / agents));
  const engine = await Engine.create({ budgetBytes: 256 << 20 });
  const env = makeWorld(agents, seed);
  const feat = new Float64Array(FIELDS);

  progress.step(`${agents} agents: learning the state encoder`);
  const samples = [];
  for (let t = 0; t < 4; t++) {
    for (const w of env.world) {
      w.params = Float32Array.from({ length: PARAMS }, (_, i) => env.next() * env.upper[i]);
      observe(env, w);
      samples.push(...features(engine.aggregateCounters(w.counters, COUNTERS), feat));
    }
  }
  const encoder = StateEncoder.learn(samples, FIELDS, { bins: BINS });

  const cache = engine.createAgentCache({
    store: new MemoryStore(),
    maxAgents: agents,
    qtable: { actions: ACTIONS, epsilon: 0.1, seed },
    trajectoryCapacity: 1000,
  });
  const index = engine.createIndex({ dim: FIELDS, metric: 'l2', seed });
  const pastKeys = new Uint32Array(INDEX_STATES);
  const pastVectors = new Float32Array(INDEX_STATES * FIELDS);
  let past = 0;
  const proposed = new Float32Array(PARAMS);
  const vector = new Float32Array(FIELDS);

  /** One agent's step; with `lat`, each step's time (us) at lat[step][at]. */
  async function step(a, lat, at) {
    const w = env.world[a];
    observe(env, w);
    let t = performance.now();
    const t0 = t;
    const mark = (s) => {
      const now = performance.now();
      if (lat) lat[s][at] = (now - t) * 1000;
      t = now;
    };
    const agg = engine.aggregateCounters(w.counters, COUNTERS);
    mark(0);
    features(agg, feat);
    const key = encoder.key(feat);
    encoder.vector(feat, 0, vector);
    mark(1);
    let similar = key;
    if (past >= INDEX_STATES) {
      const { ids } = index.search(vector, K, { ef: EF });
      similar = pastKeys[ids[0]];
    } else {
      pastKeys[past] = key;
      pastVectors.set(vector, past * FIELDS);
      past++;
    }
    mark(2);
    const agent = await cache.get(`agent-${a}`);
    mark(3);
    try {
      const state = w.seen.has(key) ? key : similar;
      w.seen.add(key);
      const action = agent.q.selectAction(state);
      mark(4);
      proposed.set(w.params);
      if (action < PARAMS) proposed[action] += STEP_SIZE * env.upper[action];
      else if (action < 2 * PARAMS) proposed[action - PARAMS] -= STEP_SIZE * env.upper[action - PARAMS];
      const outside = engine.validateRanges(proposed, env.lower, env.upper, { clamp: true })[0];
      mark(5);
      const reward = -distance(w, proposed) - 0.5 * outside;
      w.params.set(proposed);
      mark(6);
      if (w.last !== undefined) agent.trajectory.push(w.last.state, w.last.action, w.last.reward, key, false);
      w.last = { state: key, action, reward };
      mark(7);
      // Every UPDATE_EVERY-th step of an agent, staggered: a tenth of the fleet updates each tick.
      if ((++w.steps + a) % UPDATE_EVERY === 0 && agent.trajectory.size > 0)
        agent.q.batchUpdate(agent.trajectory.sample(SAMPLE));
      mark(8);
    } finally {
      agent.release();
    }
    return (performance.now() - t0) * 1000;
  }

  progress.step(`${agents} agents: warm-up (${INDEX_STATES} past states into the index)`);
  for (let n = 0; past < INDEX_STATES; n++) await step(n % agents);
  index.addBatch(
    Uint32Array.from({ length: INDEX_STATES }, (_, i) => i),
    pastVectors,
  );

  const per = Object.fromEntries([...STEPS, 'whole step'].map((s) => [s, { p50: [], p95: [] }]));
  const tickMs = [];
  const n = ticks * agents;
  const lat = STEPS.map(() => new Float64Array(n));
  const whole = new Float64Array(n);
  for (let pass = 0; pass < passes; pass++) {
    progress.step(`${agents} agents: pass ${pass + 1}/${passes} (${ticks} ticks)`);
    let at = 0;
    for (let tick = 0; tick < ticks; tick++) {
      const t = performance.now();
      for (let a = 0; a < agents; a++, at++) whole[at] = await step(a, lat, at);
      tickMs.push(performance.now() - t);
    }
    STEPS.forEach((s, i) => {
      per[s].p50.push(percentile(lat[i], 50));
      per[s].p95.push(percentile(lat[i], 95));
    });
    per['whole step'].p50.push(percentile(whole, 50));
    per['whole step'].p95.push(percentile(whole, 95));
  }
  const stats = cache.stats;
  await cache.close();
  engine.dispose();
  const steps = Object.fromEntries(
    Object.entries(per).map(([s, v]) => [s, { p50: summary(v.p50), p95: summary(v.p95) }]),
  );
  return {
    agents,
    ticks,
    passes,
    steps,
    tick: summary(tickMs),
    hitRate: stats.hitRate,
    counterRows: WINDOW,
    counterColumns: COUNTERS,
    fields: FIELDS,
    bins: BINS,
    states: encoder.states,
    indexStates: INDEX_STATES,
    k: K,
    ef: EF,
    params: PARAMS,
    actions: ACTIONS,
    updateEvery: UPDATE_EVERY,
    sample: SAMPLE,
  };
}

module.exports = { FLEETS, STEPS, runFleet };
