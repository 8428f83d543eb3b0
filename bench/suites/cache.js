// Suite `cache`: AgentCache latencies (get hit, get of a new agent = insert, get of an evicted
// agent = miss reloaded from the store), eviction latency by pressure band (the monitor scripted
// with recordLevel), and hit rate under Zipf-distributed agent access against a plain-JS LRU of
// the same capacity on the same trace. MemoryStore, so store I/O is an in-memory copy.
'use strict';
const { Engine, MemoryStore } = require('elex-wasm');
const { rng } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { percentile, table } = require('../lib/stats.js');
const { summary, spread } = require('../lib/timing.js');

const AGENT = { qtable: { actions: 8 }, trajectoryCapacity: 1000 };
const MAX_AGENTS = 50;
const BANDS = [0.5, 0.8, 0.9, 0.97];

/** Per-op us of `n` awaited calls of op(i), in `runs` runs: summary of the run medians. */
async function timeOps(runs, n, op) {
  const medians = [];
  const lat = new Float64Array(n);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await op(r * n + i);
      lat[i] = (performance.now() - t) * 1000;
    }
    medians.push(percentile(lat, 50));
  }
  return summary(medians);
}

/** A fresh engine and cache with `maxAgents`. */
async function freshCache(maxAgents = MAX_AGENTS) {
  const engine = await Engine.create({ budgetBytes: 256 << 20 });
  return { engine, agents: engine.createAgentCache({ ...AGENT, store: new MemoryStore(), maxAgents }) };
}

/** get hit, insert (new agent) and miss (reload from the store) latencies. */
async function latencies(runs, n) {
  const { engine, agents } = await freshCache(1_000_000);
  const hit = await agents.get('hot');
  hit.release();
  const out = {};
  out.hit = await timeOps(runs, n, async () => (await agents.get('hot')).release());
  out.insert = await timeOps(runs, n, async (i) => (await agents.get(`new-${i}`)).release());
  await agents.evict(runs * n);
  out.miss = await timeOps(runs, n, async (i) => (await agents.get(`new-${i}`)).release());
  await agents.close();
  engine.dispose();
  return out;
}

/** evict() latency with the monitor held at each band's level: per call and per evicted agent. */
async function evictions(runs, progress) {
  const { engine, agents } = await freshCache(1_000_000);
  const out = [];
  for (const level of BANDS) {
    progress.step(`evict() at pressure ${level}, ${runs} runs`);
    const calls = [];
    let evicted = 0;
    let percent = 0;
    for (let r = 0; r < runs; r++) {
      for (let i = 0; agents.size < MAX_AGENTS; i++) (await agents.get(`b${level}-${r}-${i}`)).release();
      for (let s = 0; s < 10; s++) engine.monitor.recordLevel(level);
      percent = engine.monitor.evictionShare();
      const t = performance.now();
      evicted = await agents.evict();
      calls.push((performance.now() - t) * 1000);
    }
    const call = summary(calls);
    out.push({ level, evictionPercent: percent, evicted, callUs: call, perAgentUs: call.median / evicted });
  }
  await agents.close();
  engine.dispose();
  return out;
}

/** Zipf(s) sampler over n ranks (inverse CDF over precomputed weights). */
function zipf(n, s, next) {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / (i + 1) ** s;
  return () => {
    const u = next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Hit rate of a plain-JS LRU of `capacity` on `trace` (one-at-a-time eviction). */
function lruHitRate(trace, capacity) {
  const lru = new Map();
  let hits = 0;
  for (const id of trace) {
    if (lru.has(id)) {
      hits++;
      lru.delete(id);
    } else if (lru.size >= capacity) lru.delete(lru.keys().next().value);
    lru.set(id, true);
  }
  return hits / trace.length;
}

/** AgentCache hit rate and access latency under Zipf access to `population` agents. */
async function zipfRun(s, population, accesses) {
  const draw = zipf(population, s, rng(17));
  const trace = Array.from({ length: accesses }, () => `agent-${draw()}`);
  const { engine, agents } = await freshCache(MAX_AGENTS);
  const lat = new Float64Array(accesses);
  for (let i = 0; i < accesses; i++) {
    const t = performance.now();
    const agent = await agents.get(trace[i]);
    agent.q.update(i & 1023, i & 7, 1, (i + 1) & 1023);
    agent.release();
    lat[i] = (performance.now() - t) * 1000;
  }
  const { hitRate, evictions: evicted } = agents.stats;
  await agents.close();
  engine.dispose();
  return {
    s,
    population,
    accesses,
    hitRate,
    lruHitRate: lruHitRate(trace, MAX_AGENTS),
    evictions: evicted,
    p50Us: percentile(lat, 50),
    p95Us: percentile(lat, 95),
    p99Us: percentile(lat, 99),
  };
}

/** Runs the suite: { suite, params, results, table }. */
async function run({ quick = false, progress = silent } = {}) {
  const runs = quick ? 3 : 7;
  const ops = quick ? 200 : 1000;
  progress.step(`get latencies: hit, insert, reload (${runs} runs of ${ops})`);
  const lat = await latencies(runs, ops);
  const evict = await evictions(runs, progress);
  const zipfs = [];
  const accesses = quick ? 3000 : 20000;
  for (const s of [0.8, 1.0, 1.2]) {
    progress.step(`Zipf s ${s}: ${accesses} accesses`);
    zipfs.push(await zipfRun(s, 500, accesses));
  }
  const text = [
    `AgentCache (${AGENT.qtable.actions} actions, trajectory ${AGENT.trajectoryCapacity}, MemoryStore), us per op:\n`,
    table(
      ['operation', 'us'],
      [
        ['get, hit (resident) + release', spread(lat.hit, 2)],
        ['get, new agent (insert) + release', spread(lat.insert, 2)],
        ['get, evicted agent (reload from store) + release', spread(lat.miss, 2)],
      ],
    ),
    `\nus: median (min-max) over ${runs} runs of the run's median; a run is ${ops} awaited calls, each timed alone.`,
    `\nevict() with ${MAX_AGENTS} resident agents and the monitor held at a level (10 samples, stable trend):\n`,
    table(
      ['pressure', 'evictionPercent', 'agents evicted', 'us per evict()', 'us per agent'],
      evict.map((e) => [e.level, e.evictionPercent, e.evicted, spread(e.callUs, 0), e.perAgentUs.toFixed(1)]),
    ),
    `\nus per evict(): median (min-max) over ${runs} calls, each after refilling to ${MAX_AGENTS} resident; us per agent: the median call / agents evicted.`,
    `\nZipf access to 500 agents, maxAgents ${MAX_AGENTS} (each access: get, one Q update, release):\n`,
    table(
      ['zipf s', 'accesses', 'hit rate', 'plain-JS LRU hit rate', 'evictions', 'P50 us', 'P95 us', 'P99 us'],
      zipfs.map((z) => [
        z.s,
        z.accesses,
        z.hitRate.toFixed(3),
        z.lruHitRate.toFixed(3),
        z.evictions,
        z.p50Us.toFixed(1),
        z.p95Us.toFixed(1),
        z.p99Us.toFixed(1),
      ]),
    ),
    `\nOne run per row (no range): hit rates over all ${accesses} accesses, P50/P95/P99 over the latencies of those accesses.`,
  ].join('\n');
  return {
    suite: 'cache',
    params: { ...AGENT, maxAgents: MAX_AGENTS, runs, ops, bands: BANDS, quick },
    results: { latencies: lat, evictions: evict, zipf: zipfs },
    table: text,
  };
}

module.exports = { run };
