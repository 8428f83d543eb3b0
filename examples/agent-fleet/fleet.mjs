// A small fleet of network-feature agents on synthetic performance counters: each agent watches
// 8 counters, turns the last 32 samples into a state (the means of 2 of them, the peak of a 3rd), looks up similar past states, picks a
// parameter change with its Q-table, checks it against the parameter's allowed range, applies
// it and learns from the reward. docs/agent-cycle.md explains the output.
// Run: npm install elex-wasm && node fleet.mjs   (from a clone: npm run build first)
import { Engine, MemoryStore, StateEncoder } from 'elex-wasm';

const AGENTS = 6;
const COUNTERS = 8;      // 0 queue depth, 1 latency, 2..7 traffic
const WINDOW = 32;       // counter samples an observation
const PARAMS = 2;        // e.g. a pacing rate and a buffer size, in [0, upper]
const ACTIONS = 2 * PARAMS + 1;
const TICKS = 400;

// Seeded generator, so a run prints the same numbers every time.
let seed = 12345;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const lower = new Float32Array(PARAMS);                       // every parameter >= 0
const upper = Float32Array.from([1, 4]);
const agents = Array.from({ length: AGENTS }, () => ({
  load: Float32Array.from({ length: COUNTERS }, () => 1 + random() * 4),
  optimum: Float32Array.from(upper, (u) => random() * u),     // hidden: the best parameters
  params: Float32Array.from(upper, (u) => random() * u),
  counters: new Float32Array(WINDOW * COUNTERS),
}));

/** Mean |parameter - optimum| over the parameters, relative to each range. */
const gap = (a, p) => p.reduce((s, v, i) => s + Math.abs(v - a.optimum[i]) / upper[i], 0) / PARAMS;

/**
 * The environment: counter c < 2 rises when parameter c is above its optimum and falls when it
 * is below (e.g. queue depth against the buffer size), around 10; the others are plain traffic.
 */
function observe(a) {
  for (let r = 0; r < WINDOW; r++) {
    for (let c = 0; c < COUNTERS; c++) {
      const noise = 1 + (random() - 0.5) * 0.3;
      a.counters[r * COUNTERS + c] = c < PARAMS ? 10 * noise * (1 + (a.params[c] - a.optimum[c]) / upper[c]) : a.load[c] * noise;
    }
  }
}

const engine = await Engine.create({ budgetBytes: 16 << 20 });
const features = (agg) => [agg.mean[0], agg.mean[1], agg.max[2]];

// 1. Learn the state encoder's bins from a few observations (quantiles of each feature).
const samples = [];
for (let i = 0; i < 50; i++) {
  for (const a of agents) {
    const saved = a.params;
    a.params = Float32Array.from(upper, (u) => random() * u);
    observe(a);
    samples.push(...features(engine.aggregateCounters(a.counters, COUNTERS)));
    a.params = saved;
  }
}
const encoder = StateEncoder.learn(samples, 3, { bins: [7, 7, 2], names: ['queue', 'latency', 'peak traffic'] });
console.log(`state encoder: ${encoder.dim} fields x ${encoder.binCounts.join('/')} bins = ${encoder.states} states (exact keys: ${encoder.exact})`);

// 2. The fleet's memory: one Q-table and trajectory per agent, an index of past states.
const cache = engine.createAgentCache({ store: new MemoryStore(), maxAgents: AGENTS, qtable: { actions: ACTIONS, epsilon: 0.3, epsilonDecay: 0.99, alpha: 0.2, seed: 1 } });
const index = engine.createIndex({ dim: encoder.dim, metric: 'l2', seed: 1 });
const pastKeys = [];
let outOfRange = 0;
const report = [];

for (let tick = 0; tick < TICKS; tick++) {
  for (let i = 0; i < AGENTS; i++) {
    const a = agents[i];
    observe(a);
    const agg = engine.aggregateCounters(a.counters, COUNTERS);          // observe
    const f = features(agg);
    const key = encoder.key(f);                                          // state
    const vector = encoder.vector(f);
    const similar = index.size > 0 ? pastKeys[index.search(vector, 1).ids[0]] : key;
    const agent = await cache.get(`agent-${i}`);
    try {
      const known = agent.q.visits(key, agent.q.bestAction(key)) > 0;
      const action = agent.q.selectAction(known ? key : similar);        // decide
      const proposed = Float32Array.from(a.params);
      if (action < PARAMS) proposed[action] += 0.1 * upper[action];
      else if (action < 2 * PARAMS) proposed[action - PARAMS] -= 0.1 * upper[action - PARAMS];
      const outside = engine.validateRanges(proposed, lower, upper, { clamp: true })[0];   // check
      outOfRange += outside;
      const before = gap(a, a.params);
      a.params = proposed;                                               // act
      const reward = 10 * (before - gap(a, proposed)) - outside;          // learn
      if (a.last) {
        agent.q.update(a.last.key, a.last.action, a.last.reward, key);  // online, and kept for replay
        agent.trajectory.push(a.last.key, a.last.action, a.last.reward, key, false);
      }
      a.last = { key, action, reward };
      if (tick % 10 === 9) agent.q.batchUpdate(agent.trajectory.sample(32));
      agent.q.decayEpsilon();
    } finally {
      agent.release();
    }
    if (tick % 20 === 0) {
      index.add(pastKeys.length, vector);
      pastKeys.push(key);
    }
  }
  if (tick % 100 === 0 || tick === TICKS - 1) {
    const gaps = agents.map((a) => gap(a, a.params));
    report.push([tick, (gaps.reduce((s, g) => s + g, 0) / AGENTS).toFixed(3), Math.max(...gaps).toFixed(3), outOfRange]);
  }
}

console.log('\ntick  mean gap  worst gap  out-of-range proposals so far');
for (const [tick, mean, worst, oor] of report) console.log(`${String(tick).padStart(4)}  ${mean.padStart(8)}  ${worst.padStart(9)}  ${oor}`);
const latest = engine.aggregateCounters(agents[0].counters, COUNTERS, { window: 8 });
console.log(`\nagent 0, queue-depth counter (0), mean of each 8-sample window: ${Array.from({ length: 4 }, (_, w) => latest.mean[w * COUNTERS].toFixed(2)).join(', ')}`);
console.log(`${index.size} past states indexed; engine memory ${(engine.usedBytes / 1024).toFixed(0)} KiB of ${(engine.budgetBytes / 1048576).toFixed(0)} MiB; SIMD: ${engine.simd}`);
await cache.close();
engine.dispose();
