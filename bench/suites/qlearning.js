// Suite `qlearning`: median time of QTable.batchUpdate for batches of 1/10/100/1000 transitions
// (including the JS->WASM call and copying the arrays in), SIMD build vs scalar build vs a plain
// JS Q-learner on the same stream; then bestAction (argmax) and selectAction (epsilon-greedy)
// per call with benchmark.js, against the same operations on the JS learner's rows.
'use strict';
const { Engine, simdSupported } = require('elex-wasm');
const { rng } = require('../lib/dataset.js');
const { silent } = require('../lib/progress.js');
const { table } = require('../lib/stats.js');
const { micro, summary, spread } = require('../lib/timing.js');

const ACTIONS = [8, 32];
const BATCHES = [1, 10, 100, 1000];
const STATE_COUNTS = [500, 5000]; // sparse uint32 keys, all with rows before timing (steady state):
// 500 rows stay in cache, 5000 rows of 32 actions do not
const STREAM = 1 << 17; // transitions cycled through, so each batch is fresh data
const GROUP_NS = 200000; // each timed group runs enough calls to take ~0.2 ms

function makeStream(actions, STATES) {
  const next = rng(actions);
  const keys = Uint32Array.from({ length: STATES }, () => Math.floor(next() * 2 ** 32));
  const s = {
    states: new Uint32Array(STREAM),
    actions: new Uint32Array(STREAM),
    rewards: new Float32Array(STREAM),
    nextStates: new Uint32Array(STREAM),
    dones: new Uint8Array(STREAM),
    keys,
  };
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
    out.push({
      states: stream.states.subarray(at, end),
      actions: stream.actions.subarray(at, end),
      rewards: stream.rewards.subarray(at, end),
      nextStates: stream.nextStates.subarray(at, end),
      dones: stream.dones.subarray(at, end),
    });
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

  bestAction(s) {
    const row = this.rows.get(s);
    if (row === undefined) return 0;
    let best = 0;
    for (let a = 1; a < this.actions; a++) if (row[a] > row[best]) best = a;
    return best;
  }

  selectAction(s, epsilon, random) {
    return random() < epsilon ? Math.floor(random() * this.actions) : this.bestAction(s);
  }
}

/** Summary over `groups` timed groups of the per-call time (us) of run(batch), cycling through batches. */
function timeBatches(batches, run, groups) {
  let k = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) run(batches[k++ % batches.length]);
  const perCall = Number(process.hrtime.bigint() - t0) / 2000;
  const calls = Math.max(1, Math.round(GROUP_NS / Math.max(perCall, 1)));
  const times = [];
  for (let g = 0; g < groups; g++) {
    const start = process.hrtime.bigint();
    for (let c = 0; c < calls; c++) run(batches[k++ % batches.length]);
    times.push(Number(process.hrtime.bigint() - start) / calls / 1000);
  }
  return summary(times);
}

/** ns per bestAction / selectAction call over the stream's states: WASM (each build) and JS. */
function policyOps(tables, js, keys, quick, step) {
  const out = {};
  let i = 0;
  let sink = 0;
  const next = rng(3);
  const time = (name, fn) => {
    step(name);
    out[name] = micro(fn, { quick });
  };
  for (const [build, q] of Object.entries(tables)) {
    if (q === undefined) continue;
    time(`argmax ${build}`, () => {
      sink += q.bestAction(keys[i++ & 255]);
    });
    time(`epsilon-greedy ${build}`, () => {
      sink += q.selectAction(keys[i++ & 255]);
    });
  }
  time('argmax js', () => {
    sink += js.bestAction(keys[i++ & 255]);
  });
  time('epsilon-greedy js', () => {
    sink += js.selectAction(keys[i++ & 255], 0.1, next);
  });
  if (Number.isNaN(sink)) throw new Error('NaN');
  return out;
}

/** Runs the suite: { suite, params, results, table }. */
async function run({ quick = false, progress = silent } = {}) {
  const groups = quick ? 41 : 201;
  const builds = simdSupported() ? ['on', 'off'] : ['off'];
  const engines = {};
  for (const simd of builds) engines[simd] = await Engine.create({ simd });
  const rows = [];
  const policy = [];
  const shapes = (quick ? STATE_COUNTS.slice(0, 1) : STATE_COUNTS).flatMap((states) =>
    ACTIONS.map((actions) => [states, actions]),
  );
  for (const [i, [STATES, actions]] of shapes.entries()) {
    const shape = `${STATES} states x ${actions} actions (${i + 1}/${shapes.length})`;
    progress.step(`${shape}: batchUpdate, batches of ${BATCHES.join('/')}`);
    const stream = makeStream(actions, STATES);
    const warm = {
      states: stream.keys,
      actions: new Uint32Array(STATES),
      rewards: new Float32Array(STATES),
      nextStates: stream.keys,
      dones: new Uint8Array(STATES),
    };
    const tables = {};
    for (const simd of builds) {
      tables[simd] = engines[simd].createQTable({ actions, alpha: 0.1, gamma: 0.95, epsilon: 0.1 });
      tables[simd].batchUpdate(warm);
    }
    const js = new JsQLearner(actions, 0.1, 0.95);
    js.batchUpdate(warm);
    for (const n of BATCHES) {
      const batches = batchesOf(stream, n);
      const r = { states: STATES, actions, n };
      for (const simd of builds) r[simd] = timeBatches(batches, (b) => tables[simd].batchUpdate(b), groups);
      r.js = timeBatches(batches, (b) => js.batchUpdate(b), groups);
      rows.push(r);
    }
    const step = (op) => progress.step(`${shape}: ${op} (benchmark.js)`);
    policy.push({
      states: STATES,
      actions,
      ns: policyOps({ simd: tables.on, scalar: tables.off }, js, stream.keys, quick, step),
    });
    for (const simd of builds) tables[simd].dispose();
  }
  for (const simd of builds) engines[simd].dispose();
  return {
    suite: 'qlearning',
    params: { batches: BATCHES, actions: ACTIONS, groups, groupNs: GROUP_NS, quick },
    results: { batchUpdate: rows, policy },
    table: render(rows, policy, groups),
  };
}

/** The batch-update table and the policy table. */
function render(rows, policy, groups) {
  const fmt = (x) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
  const cell = (s) => (s === undefined ? 'n/a' : `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`);
  const batchRows = rows.map((r) => {
    const simd = r.on ?? r.off;
    return [
      r.states,
      r.actions,
      r.n,
      cell(r.on),
      cell(r.off),
      cell(r.js),
      r.on === undefined ? 'n/a' : `${(r.off.median / r.on.median).toFixed(2)}x`,
      `${(r.js.median / simd.median).toFixed(1)}x`,
      ((simd.median * 1000) / r.n).toFixed(1),
    ];
  });
  const policyRows = policy.flatMap((p) =>
    ['argmax', 'epsilon-greedy'].map((op) => {
      const simd = p.ns[`${op} simd`];
      return [
        op,
        p.states,
        p.actions,
        simd ? spread(simd) : 'n/a',
        spread(p.ns[`${op} scalar`]),
        spread(p.ns[`${op} js`]),
        `${(p.ns[`${op} js`].median / (simd ?? p.ns[`${op} scalar`]).median).toFixed(2)}x`,
      ];
    }),
  );
  const samples = policy.flatMap((p) => Object.values(p.ns).map((s) => s.runs));
  return [
    'QTable.batchUpdate, us per call, on a random stream on sparse uint32 keys whose rows exist:\n',
    table(
      [
        'states',
        'actions',
        'batch',
        'SIMD us',
        'scalar us',
        'plain JS us',
        'SIMD vs scalar',
        'SIMD vs JS',
        'ns/transition (SIMD)',
      ],
      batchRows,
    ),
    `\nus per call: median (min-max) over ${groups} timed groups, each enough consecutive calls to take ~0.2 ms (the group's mean per call). Ratios and ns/transition are of the medians.`,
    '\nPolicy, ns per call: bestAction (argmax) and selectAction (epsilon 0.1):\n',
    table(['op', 'states', 'actions', 'SIMD ns', 'scalar ns', 'plain JS ns', 'JS / SIMD'], policyRows),
    `\nns per call: median (min-max) of the benchmark.js samples of each cell (${Math.min(...samples)}-${Math.max(...samples)} samples a cell; a sample is the mean over one timed cycle of many calls).`,
  ].join('\n');
}

/** Packages this suite needs beyond elex-wasm (checked by the CLI before anything runs). */
const requires = ['benchmark'];

module.exports = { run, requires };
