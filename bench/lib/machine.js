// What a result was measured on: CPU model, cores, OS, Node version.
'use strict';
const os = require('node:os');

/** { cpu, cores, os, node, date } of this process's machine. */
function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus.length > 0 ? cpus[0].model : 'unknown',
    cores: cpus.length,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

module.exports = { machine };
