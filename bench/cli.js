#!/usr/bin/env node
// elex-bench: runs benchmark suites, writes <out>/<suite>.{json,md,svg}, prints the tables.
//   elex-bench [suite...] [--data sift|glove|dir|path.fvecs] [--metric l2,cosine] [--quantization f32,f16,i8] [--runs n]
//              [--against langchain,pglite|none] [--pg connectionString] [--out dir] [--quick] [--json] [--quiet]
//   elex-bench --version | --help
// Tables (or --json) go to stdout; progress and status lines to stderr.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { METRICS, checkDatasetFiles, datasetMetrics, resolveDataset } = require('./lib/dataset.js');
/** The stored forms of an index's vectors (IndexOptions.quantization). */
const QUANTIZATIONS = ['f32', 'f16', 'i8'];
const { machine } = require('./lib/machine.js');
const { MissingDependencyError, requireOptional } = require('./lib/optional.js');
/** What --against names: the stores the filter suite compares (require'd lazily with the suite). */
const AGAINST = ['langchain', 'pglite'];
const { reporter } = require('./lib/progress.js');
const { writeResults } = require('./lib/report.js');

const SUITES = [
  'simd',
  'hnsw',
  'qlearning',
  'cache',
  'memory',
  'cycle',
  'persist',
  'compact',
  'filter',
  'memory-store',
  'threads',
  'peers',
  'fleet',
];
const DEFAULT_SUITES = SUITES.filter((s) => !['peers', 'fleet', 'memory-store', 'threads'].includes(s));
const USAGE = `usage: elex-bench [suite...] [--data sift|glove|dir|path.fvecs] [--metric l2,cosine]
                  [--quantization f32,f16,i8] [--runs n] [--against langchain,pglite|none]
                  [--pg connectionString] [--out dir] [--quick] [--json] [--quiet]
       elex-bench --version | --help
  suites: ${SUITES.join(', ')} (default: all but peers, fleet, memory-store and threads)
  --data     the data to index: sift (data/sift128, 10K x 128, the default), glove (data/glove100,
             100K x 100 GloVe, cosine by default), a folder holding *_base.fvecs, *_query.fvecs and
             *_groundtruth_<metric>.ivecs, or one .fvecs file (its first 100 rows are the queries)
  --metric   l2, cosine or l2,cosine: the metrics hnsw and peers measure (default: the data's own;
             sift: both, glove: cosine); a folder needs the ground truth of each
  --quantization  f32, f16, i8 or a list: the stored forms hnsw, peers, memory and filter measure
             elex-wasm's indexes with (default f32)
  --runs     peers: build and sweep every library n times (default 1), report the medians
  --pg       fleet: the PostgreSQL server to use (a libpq connection string; default: a throw-away
             cluster started from the server binaries, apt-get install postgresql)
  --against  filter: the stores compared besides the plain-JS scan: langchain, pglite (the
             default: both; PGlite is installed into bench/peers on first use) or none
  --out      where results go (default: bench/results under the current directory)
  --quick    fewer sizes, passes and repeats (what npm start runs)
  --json     print the results as JSON on stdout instead of the tables
  --quiet    no progress lines on stderr (status lines and errors still go there)
  --version  print the version of elex-wasm this CLI belongs to
Results go to <out>/<suite>.json, .md and (hnsw, peers) .svg. Progress goes to stderr, so stdout
holds only the tables or the JSON. simd and qlearning time micro operations with benchmark.js,
an optional package: npm install benchmark.`;

/** The version in the package.json next to this CLI (elex-wasm's). */
function version() {
  return JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version;
}

/** Options that take a value (`--data x` or `--data=x`). */
const VALUE_OPTIONS = ['--data', '--metric', '--quantization', '--runs', '--pg', '--against', '--out'];

/** Parses argv into { suites, data, metrics, quantizations, runs, against, pg, outDir, quick, json, quiet, help, version }, or { error } for anything unknown. */
function parseArgs(argv) {
  const out = {
    suites: [],
    data: undefined,
    metrics: undefined,
    quantizations: undefined,
    runs: 1,
    pg: undefined,
    against: AGAINST,
    outDir: undefined,
    quick: false,
    json: false,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') out.quick = true;
    else if (a === '--json') out.json = true;
    else if (a === '--quiet') out.quiet = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--version' || a === '-v') out.version = true;
    else if (a === '--data' && i + 1 < argv.length) out.data = argv[++i];
    else if (a.startsWith('--data=')) out.data = a.slice(7);
    else if ((a === '--metric' && i + 1 < argv.length) || a.startsWith('--metric=')) {
      const value = a === '--metric' ? argv[++i] : a.slice(9);
      out.metrics = [...new Set(value.split(','))];
      const bad = out.metrics.find((m) => !METRICS.includes(m));
      if (bad !== undefined) return { error: `unknown metric '${bad}' (${METRICS.join(', ')})` };
    } else if ((a === '--quantization' && i + 1 < argv.length) || a.startsWith('--quantization=')) {
      const value = a === '--quantization' ? argv[++i] : a.slice(15);
      out.quantizations = [...new Set(value.split(','))];
      const bad = out.quantizations.find((q) => !QUANTIZATIONS.includes(q));
      if (bad !== undefined) return { error: `unknown quantization '${bad}' (${QUANTIZATIONS.join(', ')})` };
    } else if ((a === '--runs' && i + 1 < argv.length) || a.startsWith('--runs=')) {
      const value = a === '--runs' ? argv[++i] : a.slice(7);
      out.runs = Number(value);
      if (!/^[1-9][0-9]*$/.test(value)) return { error: `--runs takes a whole number >= 1, not '${value}'` };
    } else if (a === '--pg' && i + 1 < argv.length) out.pg = argv[++i];
    else if (a.startsWith('--pg=')) out.pg = a.slice(5);
    else if ((a === '--against' && i + 1 < argv.length) || a.startsWith('--against=')) {
      const value = a === '--against' ? argv[++i] : a.slice(10);
      out.against = value === 'none' ? [] : [...new Set(value.split(','))];
      const bad = out.against.find((s) => !AGAINST.includes(s));
      if (bad !== undefined) return { error: `unknown store '${bad}' for --against (${AGAINST.join(', ')} or none)` };
    } else if (a === '--out' && i + 1 < argv.length) out.outDir = argv[++i];
    else if (a.startsWith('--out=')) out.outDir = a.slice(6);
    else if (SUITES.includes(a)) out.suites.push(a);
    else if (VALUE_OPTIONS.includes(a)) return { error: `${a} needs a value` };
    else return { error: `unknown ${a.startsWith('-') ? 'option' : 'suite'} '${a}'` };
  }
  if (out.suites.length === 0) out.suites = DEFAULT_SUITES;
  return out;
}

/** Runs the suites named in argv; resolves to the process exit code. */
async function main(argv) {
  const args = parseArgs(argv);
  if (args.error || args.help) {
    (args.help ? process.stdout : process.stderr).write(`${args.error ? `elex-bench: ${args.error}\n` : ''}${USAGE}\n`);
    return args.help ? 0 : 2;
  }
  if (args.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  // The data and its ground truth, before anything runs.
  const spec = resolveDataset(args.data);
  const chosen = spec.error ? spec : datasetMetrics(spec, args.metrics);
  // Its files read back whole (a bad one is named here, not a stack trace mid-suite).
  const files = chosen.error ? chosen : checkDatasetFiles(spec);
  if (files.error) {
    process.stderr.write(`elex-bench: ${files.error}\n`);
    return 2;
  }
  // Every optional package the chosen suites need, before any of them runs.
  const suites = args.suites.map((name) => ({ name, module: require(join(__dirname, 'suites', `${name}.js`)) }));
  for (const { name, module } of suites) {
    for (const dep of module.requires ?? []) requireOptional(dep, `the ${name} suite`);
    // A suite that always measures one metric needs that ground truth whatever --metric says.
    const needs = spec.error || !module.truth ? {} : datasetMetrics(spec, module.truth);
    if (needs.error) {
      process.stderr.write(`elex-bench: the ${name} suite: ${needs.error}\n`);
      return 2;
    }
  }
  const where = machine();
  const all = {};
  for (const { name, module } of suites) {
    process.stderr.write(`elex-bench: ${name}${args.quick ? ' (quick)' : ''}...\n`);
    const t0 = performance.now();
    const outcome = await module.run({
      quick: args.quick,
      data: args.data,
      metrics: args.metrics,
      quantizations: args.quantizations,
      runs: args.runs,
      pg: args.pg,
      against: args.against,
      progress: reporter(name, { quiet: args.quiet }),
    });
    const paths = writeResults(outcome, where, args.outDir);
    process.stderr.write(
      `elex-bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${paths.join(', ')}\n`,
    );
    all[name] = { params: outcome.params, results: outcome.results, notes: outcome.notes ?? [] };
    if (!args.json)
      process.stdout.write(
        `\n## ${name}\n\n${outcome.table}\n${(outcome.notes ?? []).map((n) => `\n${n}`).join('')}\n`,
      );
  }
  if (args.json) process.stdout.write(`${JSON.stringify({ machine: where, suites: all }, null, 2)}\n`);
  else process.stdout.write(`\n${where.cpu} (${where.cores} cores), Node ${where.node}\n`);
  return 0;
}

/** The message for a missing optional package: which one, what needs it, how to install it. */
function missingMessage(error, argv) {
  const args = argv.join(' ');
  const without = SUITES.filter(
    (name) => !(require(join(__dirname, 'suites', `${name}.js`)).requires ?? []).includes(error.packageName),
  );
  return [
    `elex-bench: ${error.neededFor} needs the '${error.packageName}' package, which is not installed.`,
    `Install it in your project:  ${error.install}`,
    `or run the CLI with it:      npx -p elex-wasm -p ${error.packageName} elex-bench${args ? ` ${args}` : ''}`,
    `(${without.join(', ')} run without it.)`,
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof MissingDependencyError)
      process.stderr.write(`${missingMessage(error, process.argv.slice(2))}\n`);
    else process.stderr.write(`elex-bench: ${error?.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  },
);
