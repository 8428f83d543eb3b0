// Timing helpers: a summary with spread for repeated runs, repeated timed runs of a body, and
// benchmark.js for micro operations (loaded on first use: an optional package, see optional.js).
'use strict';
const { loadBenchmark } = require('./optional.js');
const { percentile } = require('./stats.js');

/** { median, min, max, p25, p75, runs } of numbers: a figure with its spread. */
function summary(values) {
  return {
    median: percentile(values, 50),
    min: Math.min(...values),
    max: Math.max(...values),
    p25: percentile(values, 25),
    p75: percentile(values, 75),
    runs: values.length,
  };
}

/** Runs `body` (which returns a number, e.g. ms or a rate) `runs` times; summary of the results. */
function repeat(runs, body) {
  const values = [];
  for (let r = 0; r < runs; r++) values.push(body(r));
  return summary(values);
}

/** Async twin of {@link repeat}. */
async function repeatAsync(runs, body) {
  const values = [];
  for (let r = 0; r < runs; r++) values.push(await body(r));
  return summary(values);
}

/**
 * Nanoseconds per call of a synchronous `fn` with benchmark.js (it picks the iteration count and
 * sample size): { median, min, max, p25, p75, runs, rme } over its samples.
 */
function micro(fn, { quick = false } = {}) {
  const Benchmark = loadBenchmark('timing micro operations');
  const bench = new Benchmark({
    fn,
    minTime: quick ? 0.05 : 0.1,
    maxTime: quick ? 0.5 : 1,
    minSamples: quick ? 5 : 20,
  });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  return { ...summary(bench.stats.sample.map((s) => s * 1e9)), rme: bench.stats.rme };
}

/** "12.3 (11.9-13.0)": a median with its min-max spread, `digits` after the point. */
function spread(s, digits = 1) {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

module.exports = { summary, repeat, repeatAsync, micro, spread };
