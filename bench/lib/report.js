// Writes a suite's outcome to a results folder (default bench/results under the current
// directory): <suite>.json (machine, parameters, every figure with its spread), <suite>.md (the
// table) and any charts as <suite>[-name].svg.
'use strict';
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const RESULTS = join(process.cwd(), 'bench', 'results');

/** Writes `outcome` ({ suite, params, results, table, charts? }) measured on `machine`; returns the paths. */
function writeResults(outcome, machine, dir = RESULTS) {
  mkdirSync(dir, { recursive: true });
  const { suite, params, results, table, charts = [], notes = [] } = outcome;
  const paths = [join(dir, `${suite}.json`), join(dir, `${suite}.md`)];
  writeFileSync(paths[0], `${JSON.stringify({ suite, machine, params, results, notes }, null, 2)}\n`);
  const header = `## ${suite}\n\n${machine.cpu} (${machine.cores} cores), ${machine.os}, Node ${machine.node}, ${machine.date}\n`;
  writeFileSync(paths[1], `${header}\n${table}\n${notes.map((n) => `\n${n}`).join('')}\n`);
  for (const chart of charts) {
    const path = join(dir, `${suite}${chart.name ? `-${chart.name}` : ''}.svg`);
    writeFileSync(path, chart.svg);
    paths.push(path);
  }
  return paths;
}

module.exports = { writeResults };
