// Optional packages of the CLI, loaded on first use and only here. benchmark.js (for the suites
// that time micro operations: simd, qlearning) is an optional peer dependency of elex-wasm, so
// the library never drags it (and lodash) into an application; the CLI asks for it when needed.
'use strict';
const { createRequire } = require('node:module');
const { join } = require('node:path');

/** A package the CLI needs is not installed: `packageName`, and the `install` command. */
class MissingDependencyError extends Error {
  constructor(packageName, neededFor) {
    super(`${neededFor} needs the '${packageName}' package, which is not installed`);
    this.name = 'MissingDependencyError';
    this.packageName = packageName;
    this.neededFor = neededFor;
    this.install = `npm install ${packageName}`;
  }
}

const loaded = new Map();

/** Whether `error` says that `name` itself (not something inside it) could not be found. */
function isNotFound(error, name) {
  return !!error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(`'${name}'`);
}

/**
 * The module `name`, resolved from the elex-wasm package first (its node_modules, or the
 * project's that holds it), then from the current directory's project (for a global install).
 * Throws MissingDependencyError when neither has it.
 */
function requireOptional(name, neededFor) {
  if (loaded.has(name)) return loaded.get(name);
  for (const from of [__filename, join(process.cwd(), 'package.json')]) {
    try {
      const mod = createRequire(from)(name);
      loaded.set(name, mod);
      return mod;
    } catch (error) {
      if (!isNotFound(error, name)) throw error;
    }
  }
  throw new MissingDependencyError(name, neededFor);
}

/** benchmark.js (its Benchmark constructor). */
function loadBenchmark(neededFor = 'this benchmark suite') {
  return requireOptional('benchmark', neededFor);
}

module.exports = { MissingDependencyError, requireOptional, loadBenchmark };
