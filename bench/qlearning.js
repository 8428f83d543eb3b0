// Q-learning benchmark: median time of QTable.batchUpdate for batches of 1/10/100/1000
// transitions (including the JS->WASM call and copying the arrays in), SIMD build vs scalar
// build vs a plain JS Q-learner on the same stream. Run `npm run build` first, then
// `node bench/qlearning.js [--quick]`. Prints a Markdown table; timing never gates a test.
'use strict';
const { Engine, simdSupported } = require('../dist/cjs/index.js');

const QUICK = process.argv.includes('--quick');
const ACTIONS = [8, 32];
const BATCHES = [1, 10, 100, 1000];
const STATE_COUNTS = [500, 5000];   // sparse uint32 keys, all with rows before timing (steady state):
                                    // 500 rows stay in cache, 5000 rows of 32 actions do not
const STREAM = 1 << 17;       // transitions cycled through, so each batch is fresh data
const GROUPS = QUICK ? 41 : 201;   // timed groups; the median group is reported
const GROUP_NS = 200000;      // each group runs enough calls to take ~0.2 ms

/** mulberry32: seeded uniform [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeStream(actions, STATES) {
  const next = rng(actions);
  const keys = Uint32Array.from({ length: STATES }, () => Math.floor(next() * 2 ** 32));
  const s = { states: new Uint32Array(STREAM), actions: new Uint32Array(STREAM), rewards: new Float32Array(STREAM),
    nextStates: new Uint32Array(STREAM), dones: new Uint8Array(STREAM), keys };
  for (let i = 0; i < STREAM; i++) {
    s.states[i] = keys[Math.floor(next() * STATES)];
    s.actions[i] = Math.floor(next() * actions);
    s.rewards[i] = next() * 2 - 1;
    s.nextStates[i] = keys[Math.floor(next() * STATES)];
    s.dones[i] = next() < 0.05 ? 1 : 0;
  }
  return s;
}

/** Batches of n consecutive transitions of the stream, as views (made before timing). */
function batchesOf(stream, n) {
  const out = [];
  for (let at = 0; at + n <= STREAM; at += n) {
    const end = at + n;
    out.push({ states: stream.states.subarray(at, end), actions: stream.actions.subarray(at, end),
      rewards: stream.rewards.subarray(at, end), nextStates: stream.nextStates.subarray(at, end),
      dones: stream.dones.subarray(at, end) });
  }
  return out;
}

/** A plain JS Q-learner: a Map of Float64Array rows, the same update rule. */
class JsQLearner {
  constructor(actions, alpha, gamma) {
    this.actions = actions;
    this.alpha = alpha;
    this.gamma = gamma;
    this.rows = new Map();
  }

  row(s) {
    let r = this.rows.get(s);
    if (r === undefined) {
      r = new Float64Array(this.actions);
      this.rows.set(s, r);
    }
    return r;
  }

  batchUpdate(b) {
    const n = b.states.length;
    for (let i = 0; i < n; i++) {
      let target = b.rewards[i];
      if (!b.dones[i]) {
        const next = this.rows.get(b.nextStates[i]);
        let m = 0;
        if (next !== undefined) {
          m = next[0];
          for (let a = 1; a < this.actions; a++) if (next[a] > m) m = next[a];
        }
        target += this.gamma * m;
      }
      const row = this.row(b.states[i]);
      const a = b.actions[i];
      row[a] += this.alpha * (target - row[a]);
    }
  }
}

/** Median over GROUPS of the per-call time (µs) of run(batch), cycling through batches. */
function median(batches, run) {
  let k = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) run(batches[k++ % batches.length]);
  const perCall = Number(process.hrtime.bigint() - t0) / 2000;
  const calls = Math.max(1, Math.round(GROUP_NS / Math.max(perCall, 1)));
  const times = [];
  for (let g = 0; g < GROUPS; g++) {
    const start = process.hrtime.bigint();
    for (let c = 0; c < calls; c++) run(batches[k++ % batches.length]);
    times.push(Number(process.hrtime.bigint() - start) / calls / 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

async function main() {
  const builds = simdSupported() ? ['on', 'off'] : ['off'];
  const engines = {};
  for (const simd of builds) engines[simd] = await Engine.create({ simd });
  const rows = [];
  for (const STATES of STATE_COUNTS) for (const actions of ACTIONS) {
    const stream = makeStream(actions, STATES);
    const warm = { states: stream.keys, actions: new Uint32Array(STATES), rewards: new Float32Array(STATES), nextStates: stream.keys, dones: new Uint8Array(STATES) };
    const tables = {};
    for (const simd of builds) {
      tables[simd] = engines[simd].createQTable({ actions, alpha: 0.1, gamma: 0.95 });
      tables[simd].batchUpdate(warm);
    }
    const js = new JsQLearner(actions, 0.1, 0.95);
    js.batchUpdate(warm);
    for (const n of BATCHES) {
      const batches = batchesOf(stream, n);
      const r = { states: STATES, actions, n };
      for (const simd of builds) r[simd] = median(batches, (b) => tables[simd].batchUpdate(b));
      r.js = median(batches, (b) => js.batchUpdate(b));
      rows.push(r);
    }
  }
  const fmt = (x) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
  console.log(`QTable.batchUpdate, median µs per call (${GROUPS} groups of ~0.2 ms; Node ${process.version})\n`);
  console.log('| states | actions | batch | SIMD µs | scalar µs | plain JS µs | SIMD vs scalar | SIMD vs JS | ns/transition (SIMD) |');
  console.log('|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    const simd = r.on ?? r.off;
    console.log(`| ${r.states} | ${r.actions} | ${r.n} | ${r.on === undefined ? 'n/a' : fmt(r.on)} | ${fmt(r.off)} | ${fmt(r.js)} | ` +
      `${r.on === undefined ? 'n/a' : (r.off / r.on).toFixed(2) + 'x'} | ${(r.js / simd).toFixed(1)}x | ${((simd * 1000) / r.n).toFixed(1)} |`);
  }
  for (const simd of builds) engines[simd].dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
